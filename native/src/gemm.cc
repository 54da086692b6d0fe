// Batched sgemm on OpenBLAS. Batches that share B (stride 0) with an untransposed A are one product of
// batch·m rows, which OpenBLAS splits across its threads better than many small calls.
#include <cblas.h>
#include "kernels.h"

namespace neurodyn {

void gemm(const Gemm& g) {
  if (g.m == 0 || g.n == 0) return;
  const CBLAS_TRANSPOSE ta = g.transA ? CblasTrans : CblasNoTrans;
  const CBLAS_TRANSPOSE tb = g.transB ? CblasTrans : CblasNoTrans;
  const blasint lda = g.transA ? g.m : g.k, ldb = g.transB ? g.k : g.n, ldc = g.n;
  if (g.k == 0) {
    for (int64_t i = 0; i < g.batch; i++)
      for (int64_t j = 0; j < g.m * g.n; j++) g.c[i * g.strideC + j] = 0.0f;
    return;
  }
  BlasThreads scope(g.batch * g.m * g.n * g.k);
  if (g.batch > 1 && g.strideB == 0 && !g.transA && g.strideA == g.m * g.k && g.strideC == g.m * g.n) {
    cblas_sgemm(CblasRowMajor, ta, tb, blasint(g.batch * g.m), blasint(g.n), blasint(g.k), 1.0f, g.a, lda, g.b, ldb, 0.0f, g.c, ldc);
    return;
  }
  for (int64_t i = 0; i < g.batch; i++) {
    cblas_sgemm(CblasRowMajor, ta, tb, blasint(g.m), blasint(g.n), blasint(g.k), 1.0f, g.a + i * g.strideA, lda,
                g.b + i * g.strideB, ldb, 0.0f, g.c + i * g.strideC, ldc);
  }
}

}  // namespace neurodyn
