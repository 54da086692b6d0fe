// The native kernels behind src/tensor/native/: plain C++ over raw float pointers. The caller (addon.cc)
// turns the wasm heap and byte offsets it is handed into these pointers for the length of one call only:
// nothing here keeps a pointer between calls, because the wasm memory can grow and move.
#pragma once
#include <cstdint>
#include <string>

namespace neurodyn {

// C[i] = op(A[i]) · op(B[i]) for i < batch, row-major; a stride of 0 repeats the same matrix for every i.
struct Gemm {
  int64_t batch, m, n, k;
  bool transA, transB;
  const float* a;
  const float* b;
  float* c;
  int64_t strideA, strideB, strideC;  // in floats
};
void gemm(const Gemm& g);

// A 2-D convolution in tfjs's layouts: x [n, h, w, c] (NHWC), filter [kh, kw, c, k] (HWIO), y [n, oh, ow, k].
// pad* and dilation* as tfjs's computeConv2DInfo gives them (dilation 1 = none).
struct ConvGeometry {
  int64_t n, h, w, c, kh, kw, k, oh, ow;
  int64_t strideH, strideW, padTop, padLeft, padBottom, padRight, dilationH, dilationW;
};
enum class ConvKind { Forward, BackwardData, BackwardFilter };

// forward:        y = conv(x, filter)               (in0 = x,  in1 = filter, out = y)
// backward data:  dx = conv_transpose(dy, filter)   (in0 = dy, in1 = filter, out = dx)
// backward filter: dW = correlation of x with dy     (in0 = x,  in1 = dy,     out = dW)
// Throws std::runtime_error with oneDNN's reason when it cannot run the geometry.
void conv(ConvKind kind, const ConvGeometry& g, const float* in0, const float* in1, float* out);
// oneDNN's name of the implementation it picked for a geometry ("jit:avx2", "gemm:jit", "ref:any" ...).
std::string convImplementation(ConvKind kind, const ConvGeometry& g);
void clearConvCache();

// out = u + rate · (p + qScale · q − u), elementwise over n values (the LCA step's leaky integration).
void leakyIntegrate(const float* u, const float* p, const float* q, float* out, int64_t n, float rate, float qScale);

// One layer of the fused EP free step (native/src/ep.cc): pre = addend + below·W + above·Vᵀ, out = clip(pre).
// addend is `drive` [rows, n] if given, else `bias` [n] on every row (or 0); below [rows, m], w [m, n],
// above [rows, p], v [n, p]; a null `below` or `above` leaves its product out.
struct EpLayer {
  int64_t rows, m, n, p;
  const float* below;
  const float* w;
  const float* bias;
  const float* drive;
  const float* above;
  const float* v;
  float* pre;
  float* out;
  float lo, hi;
};
void epLayer(const EpLayer& layer);
// dx = dy where lo ≤ x ≤ hi, else 0.
void clipGrad(const float* x, const float* dy, float* dx, int64_t n, float lo, float hi);
// a = max(u − λ, 0), elementwise (LCA's non-negative soft threshold).
void softThreshold(const float* u, float* a, int64_t n, float lambda);
// du = dy where u > λ, else 0 (the soft threshold's gradient).
void softThresholdGrad(const float* u, const float* dy, float* du, int64_t n, float lambda);

// One SGD-with-momentum step (PyTorch's convention), elementwise over n values, in the order and float32
// roundings of the unfused tfjs ops (src/learning/optimizers.ts): g = direction (+ decay · θ when decay ≠ 0),
// v' = momentum · v + g, θ' = θ − lr · v'.
void sgdMomentum(const float* theta, const float* velocity, const float* direction, float* thetaOut, float* velocityOut, int64_t n,
                 float lr, float momentum, float decay);

// The transposed convolution (gradient of a convolution with respect to its input) for few input channels
// C, computed directly (native/src/conv-direct.cc); same layouts and geometry as conv(BackwardData, ...).
// For the one-channel reconstructions of convolutional LCA, where oneDNN has no fast path.
void convTransposeFewChannels(const ConvGeometry& g, const float* dy, const float* filter, float* dx);
// Whether convTransposeFewChannels serves this geometry (and is the faster choice).
bool convTransposeFewChannelsServes(const ConvGeometry& g);

// A 2-D max-pool's gradient: x [n, h, w, c], dy [n, oh, ow, c] → dx [n, h, w, c] (native/src/pool.cc).
struct PoolGeometry {
  int64_t n, h, w, c, oh, ow, fh, fw, strideH, strideW, padTop, padLeft;
};
void maxPoolGrad(const PoolGeometry& g, const float* x, const float* dy, float* dx);

// One row-major product C = alpha · op(A) · op(B) + beta · C, on the library chosen by setGemmLibrary:
// oneDNN's dnnl_sgemm (the default: on this project's Skylake-X machine it ran the families' short-and-wide
// products, 64×784·784×500 and 64×1568·1568×1568, 1.3–1.9× faster than OpenBLAS on one thread; see
// bench/README.md) or OpenBLAS's cblas_sgemm. Products under a million multiply-adds run on one thread.
// Every product of the addon goes through here. Throws std::runtime_error if oneDNN refuses the call.
void sgemm(bool transA, bool transB, int64_t m, int64_t n, int64_t k, float alpha, const float* a, int64_t lda, const float* b,
           int64_t ldb, float beta, float* c, int64_t ldc);
enum class GemmLibrary { OneDnn, OpenBlas };
void setGemmLibrary(GemmLibrary library);
GemmLibrary gemmLibrary();

// OpenBLAS threads for one product of `macs` multiply-adds: 1 below a size where waking a second thread
// costs more than it saves (and, on a shared machine, waits for a descheduled core), else the setting.
// Restores the setting when it goes out of scope.
class BlasThreads {
 public:
  explicit BlasThreads(int64_t macs);
  ~BlasThreads();
  BlasThreads(const BlasThreads&) = delete;
  BlasThreads& operator=(const BlasThreads&) = delete;
 private:
  bool changed_;
};

void setThreads(int threads);
int threads();
std::string librariesDescription();

}  // namespace neurodyn
