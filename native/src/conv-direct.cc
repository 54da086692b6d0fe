// The transposed convolution for few input channels (the gradient of y = conv(x, W) with respect to x when
// x has 1–4 channels), computed directly in tfjs's layouts:
//
//   dx[b, y, x, c] = Σ_{i, j} Σ_k dy[b, oy, ox, k] · W[i, j, c, k],   oy = (y + padTop − i) / s_h, ox likewise,
//
// over the (i, j) for which oy and ox are whole and inside dy. This is convolutional LCA's reconstruction
// ŝ = conv_transpose(a, Φ) (K = 64 atoms onto one channel at lca_conv's shapes), where oneDNN 2.6 has no fast
// path (a backward-data convolution onto one channel ran near 5 GFLOP/s). Computed in one call as a product
// and a gather: P = dy · W_mᵀ (sgemm; W_m the filter as [kh·kw·C, K]) gives, for every dy pixel, its
// contribution to each tap (i, j, c); then each image adds its P rows into the k×k windows of dx they land on
// (images in parallel, so no two threads write one pixel). Chunks of images keep P in cache. A
// direct loop (a K-long multiply-add per tap and pixel) was tried first: 4 GFLOP/s, per-tap overhead bound.
#include <algorithm>
#include <cblas.h>
#include <vector>
#include "kernels.h"

namespace neurodyn {

namespace {




// Adds one image's tap products P [OH·OW, kh·kw·C] (row (oy, ox), column (i, j, c)) into its output
// dx[b] [H, W, C], zeroed first: each dy pixel's k×k×C patch lands on a k×k window of dx, and for a fixed
// tap row i the (j, c) run is contiguous in both P and dx, so the inner loop is a plain vector add.
void scatter(const ConvGeometry& g, const float* __restrict P, float* __restrict dxImage) {
  const int64_t C = g.c, T = g.kh * g.kw * C;
  std::fill(dxImage, dxImage + g.h * g.w * C, 0.0f);
  for (int64_t oy = 0; oy < g.oh; oy++) {
    const int64_t y0 = oy * g.strideH - g.padTop;
    const int64_t iLo = std::max<int64_t>(0, -y0), iHi = std::min<int64_t>(g.kh, g.h - y0);
    for (int64_t ox = 0; ox < g.ow; ox++) {
      const int64_t x0 = ox * g.strideW - g.padLeft;
      const int64_t jLo = std::max<int64_t>(0, -x0), jHi = std::min<int64_t>(g.kw, g.w - x0);
      if (jLo >= jHi) continue;
      const float* patch = P + (oy * g.ow + ox) * T;
      for (int64_t i = iLo; i < iHi; i++) {
        const float* __restrict from = patch + (i * g.kw + jLo) * C;
        float* __restrict to = dxImage + ((y0 + i) * g.w + x0 + jLo) * C;
        const int64_t run = (jHi - jLo) * C;
#pragma omp simd
        for (int64_t t = 0; t < run; t++) to[t] += from[t];
      }
    }
  }
}

}  // namespace

bool convTransposeFewChannelsServes(const ConvGeometry& g) {
  constexpr int64_t kMaxChannels = 4;
  return g.c >= 1 && g.c <= kMaxChannels && g.k >= 8 && g.dilationH == 1 && g.dilationW == 1 && g.strideH >= 1 && g.strideW >= 1;
}

void convTransposeFewChannels(const ConvGeometry& g, const float* dy, const float* filter, float* dx) {
  const int64_t T = g.kh * g.kw * g.c, pixels = g.oh * g.ow;
  // Images per chunk: the tap products of a chunk (about 4 MB) stay in cache between the product and the gather.
  const int64_t chunk = std::max<int64_t>(1, (int64_t(1) << 20) / std::max<int64_t>(1, pixels * T));
  std::vector<float> P(size_t(std::min(chunk, g.n) * pixels * T));
  for (int64_t b0 = 0; b0 < g.n; b0 += chunk) {
    const int64_t images = std::min(chunk, g.n - b0);
    // P = dy[b0 : b0 + images] (as [images·OH·OW, K]) · Wᵀ, W the filter as [kh·kw·C, K].
    sgemm(false, true, images * pixels, T, g.k, 1.0f, dy + b0 * pixels * g.k, g.k, filter, g.k, 0.0f, P.data(), T);
#pragma omp parallel for schedule(static)
    for (int64_t b = 0; b < images; b++) scatter(g, P.data() + b * pixels * T, dx + (b0 + b) * g.h * g.w * g.c);
  }
}

}  // namespace neurodyn
