// The transposed convolution for few input channels (the gradient of y = conv(x, W) with respect to x when
// x has 1–4 channels), computed directly in tfjs's layouts:
//
//   dx[b, y, x, c] = Σ_{i, j} Σ_k dy[b, oy, ox, k] · W[i, j, c, k],   oy = (y + padTop − i) / s_h, ox likewise,
//
// over the (i, j) for which oy and ox are whole and inside dy. This is convolutional LCA's reconstruction
// ŝ = conv_transpose(a, Φ) (K = 64 atoms onto one channel at lca_conv's shapes). oneDNN has no fast path for
// it (a backward-data convolution onto one channel), and the GEMM form (a · Φ_mᵀ, then col2im) writes and
// rereads k² columns per pixel; here the K-long rows of dy and W (contiguous in NHWC and HWIO) are
// multiplied and summed into a K-long accumulator per output pixel and channel, reduced once at the end.
#include <algorithm>
#include <vector>
#include "kernels.h"

namespace neurodyn {

namespace {

constexpr int64_t kMaxChannels = 4;

#if defined(__x86_64__) && defined(__GNUC__)
#define NEURODYN_CLONES __attribute__((target_clones("arch=sapphirerapids", "arch=skylake-avx512", "arch=haswell", "default")))
#else
#define NEURODYN_CLONES
#endif

// One output row dx[b, y, :, :].
NEURODYN_CLONES
void row(const ConvGeometry& g, const float* dy, const float* w, float* dx, int64_t b, int64_t y, float* acc) {
  const int64_t K = g.k, C = g.c;
  for (int64_t x = 0; x < g.w; x++) {
    for (int64_t c = 0; c < C; c++) {
      std::fill(acc, acc + K, 0.0f);
      for (int64_t i = 0; i < g.kh; i++) {
        const int64_t ty = y + g.padTop - i;
        if (ty < 0 || ty % g.strideH != 0) continue;
        const int64_t oy = ty / g.strideH;
        if (oy >= g.oh) continue;
        for (int64_t j = 0; j < g.kw; j++) {
          const int64_t tx = x + g.padLeft - j;
          if (tx < 0 || tx % g.strideW != 0) continue;
          const int64_t ox = tx / g.strideW;
          if (ox >= g.ow) continue;
          const float* d = dy + ((b * g.oh + oy) * g.ow + ox) * K;
          const float* f = w + ((i * g.kw + j) * C + c) * K;
#pragma omp simd
          for (int64_t k = 0; k < K; k++) acc[k] += d[k] * f[k];
        }
      }
      float sum = 0.0f;
#pragma omp simd reduction(+ : sum)
      for (int64_t k = 0; k < K; k++) sum += acc[k];
      dx[((b * g.h + y) * g.w + x) * C + c] = sum;
    }
  }
}

}  // namespace

bool convTransposeFewChannelsServes(const ConvGeometry& g) {
  return g.c >= 1 && g.c <= kMaxChannels && g.k >= 8 && g.dilationH == 1 && g.dilationW == 1 && g.strideH >= 1 && g.strideW >= 1;
}

void convTransposeFewChannels(const ConvGeometry& g, const float* dy, const float* filter, float* dx) {
  const int64_t rows = g.n * g.h;
#pragma omp parallel
  {
    std::vector<float> acc(size_t(g.k));
#pragma omp for schedule(static)
    for (int64_t r = 0; r < rows; r++) row(g, dy, filter, dx, r / g.h, r % g.h, acc.data());
  }
}

}  // namespace neurodyn
