// The fused free step of a fully connected equilibrium-propagation layer, and the clip's gradient.
//
// One layer of the primitive-map dynamics (src/families/equilibrium-prop/system.ts) is
//   pre = addend + below · W + above · Vᵀ,   out = clip(pre, lo, hi)
// with addend the bias broadcast over rows (or the precomputed drive x W₁ + b₁), below the layer under it
// with its weights W, and above the layer over it with that layer's weights V. Done as one call: the addend
// is written into `pre`, the two products are accumulated onto it by sgemm (beta = 1), and the clip is one
// more pass, instead of five or six tfjs kernels each with its own dispatch and its own pass over memory.
// `pre` is an output too: the gradient's mask needs the pre-activation (clip's gradient is 1 where
// lo ≤ pre ≤ hi, as tfjs's ClipByValue gradient, which the output alone cannot tell at pre = lo or hi).
#include <cstring>
#include "kernels.h"

namespace neurodyn {

void epLayer(const EpLayer& L) {
  const int64_t rows = L.rows, n = L.n;
  if (rows == 0 || n == 0) return;
  if (L.drive) {
    std::memcpy(L.pre, L.drive, size_t(rows * n) * sizeof(float));
  } else {
    for (int64_t r = 0; r < rows; r++) {
      float* p = L.pre + r * n;
      if (L.bias) std::memcpy(p, L.bias, size_t(n) * sizeof(float));
      else std::memset(p, 0, size_t(n) * sizeof(float));
    }
  }
  if (L.below && L.m > 0) sgemm(false, false, rows, n, L.m, 1.0f, L.below, L.m, L.w, n, 1.0f, L.pre, n);
  if (L.above && L.p > 0) sgemm(false, true, rows, n, L.p, 1.0f, L.above, L.p, L.v, L.p, 1.0f, L.pre, n);
  const float lo = L.lo, hi = L.hi;
  const float* pre = L.pre;
  float* out = L.out;
  const int64_t size = rows * n;
  for (int64_t i = 0; i < size; i++) {
    const float v = pre[i];
    out[i] = v < lo ? lo : (v > hi ? hi : v);
  }
}

// dx = dy where lo ≤ x ≤ hi, else 0 (tfjs's ClipByValue gradient, in one pass).
void clipGrad(const float* x, const float* dy, float* dx, int64_t n, float lo, float hi) {
#pragma omp parallel for simd schedule(static) if (n > (1 << 18))
  for (int64_t i = 0; i < n; i++) dx[i] = (x[i] >= lo && x[i] <= hi) ? dy[i] : 0.0f;
}

}  // namespace neurodyn
