// Fused elementwise steps: one pass over memory instead of one per tfjs op, on the OpenMP threads. They
// matter where the state is large and the arithmetic per element trivial (convolutional LCA: 3.2 M
// potentials per step, four tfjs ops over them, each a full read and write of 12.8 MB).
#include <cstdint>
#include "kernels.h"

namespace neurodyn {

// out = u + rate · (p + qScale · q − u): the leaky integration of an LCA step (rate = 1/τ).
void leakyIntegrate(const float* u, const float* p, const float* q, float* out, int64_t n, float rate, float qScale) {
  const float keep = 1.0f - rate, rateQ = rate * qScale;
#pragma omp parallel for simd schedule(static) if (n > (1 << 16))
  for (int64_t i = 0; i < n; i++) out[i] = keep * u[i] + rate * p[i] + rateQ * q[i];
}

// θ' = θ − lr · (momentum · v + g), g = direction (+ decay · θ): each product and sum rounded to float32
// on its own, as the tfjs ops round it (the build does not contract a·b + c into a fused multiply-add:
// -ffp-contract=off in binding.gyp), so the fused step equals the unfused one bit for bit.
void sgdMomentum(const float* theta, const float* velocity, const float* direction, float* thetaOut, float* velocityOut, int64_t n,
                 float lr, float momentum, float decay) {
  if (decay != 0.0f) {
#pragma omp parallel for simd schedule(static) if (n > (1 << 18))
    for (int64_t i = 0; i < n; i++) {
      const float decayed = theta[i] * decay;
      const float g = direction[i] + decayed;
      const float kept = velocity[i] * momentum;
      const float v = kept + g;
      velocityOut[i] = v;
      const float moved = v * lr;
      thetaOut[i] = theta[i] - moved;
    }
  } else {
#pragma omp parallel for simd schedule(static) if (n > (1 << 18))
    for (int64_t i = 0; i < n; i++) {
      const float kept = velocity[i] * momentum;
      const float v = kept + direction[i];
      velocityOut[i] = v;
      const float moved = v * lr;
      thetaOut[i] = theta[i] - moved;
    }
  }
}

}  // namespace neurodyn

namespace neurodyn {

void softThreshold(const float* u, float* a, int64_t n, float lambda) {
#pragma omp parallel for simd schedule(static) if (n > (1 << 18))
  for (int64_t i = 0; i < n; i++) {
    const float v = u[i] - lambda;
    a[i] = v > 0.0f ? v : 0.0f;
  }
}

void softThresholdGrad(const float* u, const float* dy, float* du, int64_t n, float lambda) {
#pragma omp parallel for simd schedule(static) if (n > (1 << 18))
  for (int64_t i = 0; i < n; i++) du[i] = u[i] - lambda > 0.0f ? dy[i] : 0.0f;
}

}  // namespace neurodyn
