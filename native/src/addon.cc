// N-API entry points. Every kernel takes the wasm heap (the ArrayBuffer of the wasm backend's memory) and
// byte offsets into it, and turns them into pointers for this call only: the heap can grow and move between
// calls, so no pointer or view outlives the call. Offsets and sizes are checked against the heap's length.
#include <napi.h>
#include <stdexcept>
#include "kernels.h"

namespace {

using neurodyn::ConvGeometry;
using neurodyn::ConvKind;

int64_t integer(const Napi::CallbackInfo& info, size_t i) { return info[i].As<Napi::Number>().Int64Value(); }

// A float pointer `offset` bytes into the heap, after checking that `count` floats fit.
template <typename T>
T* at(Napi::ArrayBuffer& heap, int64_t offset, int64_t count, const char* what) {
  const auto length = int64_t(heap.ByteLength());
  if (offset < 0 || count < 0 || offset % 4 != 0 || offset + count * 4 > length)
    throw std::out_of_range(std::string("neurodyn native: ") + what + " lies outside the wasm heap");
  return reinterpret_cast<T*>(static_cast<uint8_t*>(heap.Data()) + offset);
}

// Runs `body`, turning a C++ exception into a JavaScript Error.
template <typename F>
Napi::Value guarded(const Napi::CallbackInfo& info, F body) {
  try {
    return body();
  } catch (const std::exception& e) {
    Napi::Error::New(info.Env(), e.what()).ThrowAsJavaScriptException();
    return info.Env().Undefined();
  }
}

// gemm(heap, batch, m, n, k, transA, transB, aOffset, bOffset, cOffset, strideA, strideB, strideC)
Napi::Value Gemm(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    auto heap = info[0].As<Napi::ArrayBuffer>();
    neurodyn::Gemm g{};
    g.batch = integer(info, 1), g.m = integer(info, 2), g.n = integer(info, 3), g.k = integer(info, 4);
    g.transA = info[5].As<Napi::Boolean>().Value(), g.transB = info[6].As<Napi::Boolean>().Value();
    g.strideA = integer(info, 10), g.strideB = integer(info, 11), g.strideC = integer(info, 12);
    const int64_t last = g.batch > 0 ? g.batch - 1 : 0;
    g.a = at<const float>(heap, integer(info, 7), last * g.strideA + g.m * g.k, "matMul's a");
    g.b = at<const float>(heap, integer(info, 8), last * g.strideB + g.k * g.n, "matMul's b");
    g.c = at<float>(heap, integer(info, 9), last * g.strideC + g.m * g.n, "matMul's output");
    neurodyn::gemm(g);
    return info.Env().Undefined();
  });
}

ConvGeometry geometry(const Napi::CallbackInfo& info, size_t from) {
  ConvGeometry g{};
  int64_t* fields[] = {&g.n, &g.h, &g.w, &g.c, &g.kh, &g.kw, &g.k, &g.oh, &g.ow, &g.strideH, &g.strideW,
                       &g.padTop, &g.padLeft, &g.padBottom, &g.padRight, &g.dilationH, &g.dilationW};
  for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) *fields[i] = integer(info, from + i);
  return g;
}

ConvKind kindOf(const Napi::CallbackInfo& info, size_t i) {
  const int64_t k = integer(info, i);
  if (k < 0 || k > 2) throw std::invalid_argument("neurodyn native: convolution kind must be 0, 1 or 2");
  return ConvKind(k);
}

// conv(kind, heap, in0Offset, in1Offset, outOffset, ...geometry): see kernels.h for what in0, in1 and out are.
Napi::Value Conv(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    const ConvKind kind = kindOf(info, 0);
    auto heap = info[1].As<Napi::ArrayBuffer>();
    const ConvGeometry g = geometry(info, 5);
    const int64_t x = g.n * g.h * g.w * g.c, y = g.n * g.oh * g.ow * g.k, w = g.kh * g.kw * g.c * g.k;
    const int64_t sizes[3][3] = {{x, w, y}, {y, w, x}, {x, y, w}};
    const auto& s = sizes[int(kind)];
    const float* in0 = at<const float>(heap, integer(info, 2), s[0], "the convolution's first input");
    const float* in1 = at<const float>(heap, integer(info, 3), s[1], "the convolution's second input");
    float* out = at<float>(heap, integer(info, 4), s[2], "the convolution's output");
    neurodyn::conv(kind, g, in0, in1, out);
    return info.Env().Undefined();
  });
}

Napi::Value ConvImplementation(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    return Napi::String::New(info.Env(), neurodyn::convImplementation(kindOf(info, 0), geometry(info, 1)));
  });
}

// leakyIntegrate(heap, uOffset, pOffset, qOffset, outOffset, n, rate, qScale)
Napi::Value LeakyIntegrate(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    auto heap = info[0].As<Napi::ArrayBuffer>();
    const int64_t n = integer(info, 5);
    const float rate = info[6].As<Napi::Number>().FloatValue(), qScale = info[7].As<Napi::Number>().FloatValue();
    neurodyn::leakyIntegrate(at<const float>(heap, integer(info, 1), n, "u"), at<const float>(heap, integer(info, 2), n, "p"),
                             at<const float>(heap, integer(info, 3), n, "q"), at<float>(heap, integer(info, 4), n, "the output"), n, rate, qScale);
    return info.Env().Undefined();
  });
}

// An optional operand: offset −1 means absent (nullptr).
template <typename T>
T* optional(Napi::ArrayBuffer& heap, int64_t offset, int64_t count, const char* what) {
  return offset < 0 ? nullptr : at<T>(heap, offset, count, what);
}

// epLayer(heap, rows, m, n, p, below, w, bias, drive, above, v, pre, out, lo, hi): offsets, −1 for an absent operand.
Napi::Value EpLayer(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    auto heap = info[0].As<Napi::ArrayBuffer>();
    neurodyn::EpLayer L{};
    L.rows = integer(info, 1), L.m = integer(info, 2), L.n = integer(info, 3), L.p = integer(info, 4);
    if (L.rows < 0 || L.m < 0 || L.n < 0 || L.p < 0) throw std::invalid_argument("neurodyn native: epLayer sizes must be ≥ 0");
    L.below = optional<const float>(heap, integer(info, 5), L.rows * L.m, "the layer below");
    L.w = L.below ? at<const float>(heap, integer(info, 6), L.m * L.n, "the weights from below") : nullptr;
    L.bias = optional<const float>(heap, integer(info, 7), L.n, "the bias");
    L.drive = optional<const float>(heap, integer(info, 8), L.rows * L.n, "the drive");
    L.above = optional<const float>(heap, integer(info, 9), L.rows * L.p, "the layer above");
    L.v = L.above ? at<const float>(heap, integer(info, 10), L.n * L.p, "the weights to above") : nullptr;
    L.pre = at<float>(heap, integer(info, 11), L.rows * L.n, "the pre-activation");
    L.out = at<float>(heap, integer(info, 12), L.rows * L.n, "the output");
    L.lo = info[13].As<Napi::Number>().FloatValue(), L.hi = info[14].As<Napi::Number>().FloatValue();
    neurodyn::epLayer(L);
    return info.Env().Undefined();
  });
}

// clipGrad(heap, x, dy, dx, n, lo, hi)
Napi::Value ClipGrad(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    auto heap = info[0].As<Napi::ArrayBuffer>();
    const int64_t n = integer(info, 4);
    neurodyn::clipGrad(at<const float>(heap, integer(info, 1), n, "x"), at<const float>(heap, integer(info, 2), n, "dy"),
                       at<float>(heap, integer(info, 3), n, "dx"), n, info[5].As<Napi::Number>().FloatValue(), info[6].As<Napi::Number>().FloatValue());
    return info.Env().Undefined();
  });
}

// softThreshold(heap, u, a, n, lambda)
Napi::Value SoftThreshold(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    auto heap = info[0].As<Napi::ArrayBuffer>();
    const int64_t n = integer(info, 3);
    neurodyn::softThreshold(at<const float>(heap, integer(info, 1), n, "u"), at<float>(heap, integer(info, 2), n, "a"), n,
                            info[4].As<Napi::Number>().FloatValue());
    return info.Env().Undefined();
  });
}

// softThresholdGrad(heap, u, dy, du, n, lambda)
Napi::Value SoftThresholdGrad(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    auto heap = info[0].As<Napi::ArrayBuffer>();
    const int64_t n = integer(info, 4);
    neurodyn::softThresholdGrad(at<const float>(heap, integer(info, 1), n, "u"), at<const float>(heap, integer(info, 2), n, "dy"),
                                at<float>(heap, integer(info, 3), n, "du"), n, info[5].As<Napi::Number>().FloatValue());
    return info.Env().Undefined();
  });
}

// sgdMomentum(heap, theta, velocity, direction, thetaOut, velocityOut, n, lr, momentum, decay)
Napi::Value SgdMomentum(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    auto heap = info[0].As<Napi::ArrayBuffer>();
    const int64_t n = integer(info, 6);
    const auto number = [&](size_t i) { return info[i].As<Napi::Number>().FloatValue(); };
    neurodyn::sgdMomentum(at<const float>(heap, integer(info, 1), n, "θ"), at<const float>(heap, integer(info, 2), n, "the velocity"),
                          at<const float>(heap, integer(info, 3), n, "the direction"), at<float>(heap, integer(info, 4), n, "the new θ"),
                          at<float>(heap, integer(info, 5), n, "the new velocity"), n, number(7), number(8), number(9));
    return info.Env().Undefined();
  });
}

// maxPoolGrad(heap, x, dy, dx, n, h, w, c, oh, ow, fh, fw, strideH, strideW, padTop, padLeft)
Napi::Value MaxPoolGrad(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    auto heap = info[0].As<Napi::ArrayBuffer>();
    neurodyn::PoolGeometry g{};
    int64_t* fields[] = {&g.n, &g.h, &g.w, &g.c, &g.oh, &g.ow, &g.fh, &g.fw, &g.strideH, &g.strideW, &g.padTop, &g.padLeft};
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) *fields[i] = integer(info, 4 + i);
    if (g.strideH < 1 || g.strideW < 1 || g.fh < 1 || g.fw < 1) throw std::invalid_argument("neurodyn native: maxPoolGrad needs positive strides and window");
    const int64_t inSize = g.n * g.h * g.w * g.c, outSize = g.n * g.oh * g.ow * g.c;
    neurodyn::maxPoolGrad(g, at<const float>(heap, integer(info, 1), inSize, "the pooled input"), at<const float>(heap, integer(info, 2), outSize, "dy"),
                          at<float>(heap, integer(info, 3), inSize, "dx"));
    return info.Env().Undefined();
  });
}

// setGemmLibrary('onednn' | 'openblas'): which library computes every product of the addon.
Napi::Value SetGemmLibrary(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    const std::string name = info[0].As<Napi::String>().Utf8Value();
    if (name == "onednn") neurodyn::setGemmLibrary(neurodyn::GemmLibrary::OneDnn);
    else if (name == "openblas") neurodyn::setGemmLibrary(neurodyn::GemmLibrary::OpenBlas);
    else throw std::invalid_argument("neurodyn native: the gemm library is 'onednn' or 'openblas', got '" + name + "'");
    return info.Env().Undefined();
  });
}

Napi::Value GemmLibraryName(const Napi::CallbackInfo& info) {
  return Napi::String::New(info.Env(), neurodyn::gemmLibrary() == neurodyn::GemmLibrary::OneDnn ? "onednn" : "openblas");
}

Napi::Value SetThreads(const Napi::CallbackInfo& info) {
  neurodyn::setThreads(int(integer(info, 0)));
  return info.Env().Undefined();
}

Napi::Value Threads(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), neurodyn::threads()); }

Napi::Value Libraries(const Napi::CallbackInfo& info) {
  return Napi::String::New(info.Env(), neurodyn::librariesDescription());
}

Napi::Value ClearCache(const Napi::CallbackInfo& info) {
  neurodyn::clearConvCache();
  return info.Env().Undefined();
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("gemm", Napi::Function::New(env, Gemm));
  exports.Set("conv", Napi::Function::New(env, Conv));
  exports.Set("convImplementation", Napi::Function::New(env, ConvImplementation));
  exports.Set("leakyIntegrate", Napi::Function::New(env, LeakyIntegrate));
  exports.Set("epLayer", Napi::Function::New(env, EpLayer));
  exports.Set("clipGrad", Napi::Function::New(env, ClipGrad));
  exports.Set("softThreshold", Napi::Function::New(env, SoftThreshold));
  exports.Set("softThresholdGrad", Napi::Function::New(env, SoftThresholdGrad));
  exports.Set("maxPoolGrad", Napi::Function::New(env, MaxPoolGrad));
  exports.Set("sgdMomentum", Napi::Function::New(env, SgdMomentum));
  exports.Set("setThreads", Napi::Function::New(env, SetThreads));
  exports.Set("setGemmLibrary", Napi::Function::New(env, SetGemmLibrary));
  exports.Set("gemmLibrary", Napi::Function::New(env, GemmLibraryName));
  exports.Set("threads", Napi::Function::New(env, Threads));
  exports.Set("libraries", Napi::Function::New(env, Libraries));
  exports.Set("clearCache", Napi::Function::New(env, ClearCache));
  return exports;
}

}  // namespace

NODE_API_MODULE(neurodyn_native, Init)
