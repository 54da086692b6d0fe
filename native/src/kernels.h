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

void setThreads(int threads);
int threads();
std::string librariesDescription();

}  // namespace neurodyn
