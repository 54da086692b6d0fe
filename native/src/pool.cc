// MaxPoolGrad in tfjs's NHWC layout, the same computation as src/tensor/wasm-kernels/MaxPoolGrad.ts (the
// project's corrected wasm kernel: the running maximum starts at −∞, ties go to the first maximum in window
// order, as the cpu backend and TensorFlow): each window's gradient dy is added to the input position of its
// maximum. Images run in parallel (each writes only its own dx image).
#include <algorithm>
#include <limits>
#include <vector>
#include "kernels.h"

namespace neurodyn {

void maxPoolGrad(const PoolGeometry& g, const float* x, const float* dy, float* dx) {
  const int64_t h = g.h, w = g.w, c = g.c;
#pragma omp parallel
  {
    std::vector<float> best(static_cast<size_t>(c));
    std::vector<int64_t> where(static_cast<size_t>(c));
#pragma omp for schedule(static)
    for (int64_t b = 0; b < g.n; b++) {
      std::fill(dx + b * h * w * c, dx + (b + 1) * h * w * c, 0.0f);
      for (int64_t oy = 0; oy < g.oh; oy++) {
        const int64_t y0 = oy * g.strideH - g.padTop;
        const int64_t yLo = std::max<int64_t>(0, y0), yHi = std::min<int64_t>(h, y0 + g.fh);
        for (int64_t ox = 0; ox < g.ow; ox++) {
          const int64_t x0 = ox * g.strideW - g.padLeft;
          const int64_t xLo = std::max<int64_t>(0, x0), xHi = std::min<int64_t>(w, x0 + g.fw);
          std::fill(best.begin(), best.end(), -std::numeric_limits<float>::infinity());
          std::fill(where.begin(), where.end(), int64_t(-1));
          for (int64_t yy = yLo; yy < yHi; yy++) {
            for (int64_t xx = xLo; xx < xHi; xx++) {
              const int64_t base = ((b * h + yy) * w + xx) * c;
              for (int64_t ch = 0; ch < c; ch++) {
                const float v = x[base + ch];
                if (v > best[size_t(ch)]) best[size_t(ch)] = v, where[size_t(ch)] = base + ch;
              }
            }
          }
          const float* gRow = dy + ((b * g.oh + oy) * g.ow + ox) * c;
          for (int64_t ch = 0; ch < c; ch++) {
            const int64_t at = where[size_t(ch)];
            if (at >= 0) dx[at] += gRow[ch];
          }
        }
      }
    }
  }
}

}  // namespace neurodyn
