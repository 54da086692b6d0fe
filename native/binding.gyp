# node-gyp needs a binding.gyp in the directory it builds. It lives here, in native/, and not at the package
# root, on purpose: npm runs `node-gyp rebuild` by default for a package with a root binding.gyp and no
# install script, which would fail (and fail `npm install`) on a machine without OpenBLAS or oneDNN.
# native/build.mjs builds this directory only when both libraries are present, and never fails the install.
{
  "targets": [
    {
      "target_name": "neurodyn_native",
      "sources": ["src/addon.cc", "src/gemm.cc", "src/conv.cc", "src/threads.cc", "src/fused.cc", "src/ep.cc", "src/conv-direct.cc", "src/pool.cc"],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NAPI_DISABLE_CPP_EXCEPTIONS"],
      "cflags_cc": ["-O3", "-std=c++17", "-fexceptions", "-fopenmp", "-ffp-contract=off"],
      "cflags_cc!": ["-fno-exceptions"],
      "libraries": ["-lopenblas", "-ldnnl", "-lgomp"]
    }
  ]
}
