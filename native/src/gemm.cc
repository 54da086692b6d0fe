// Batched sgemm, and the one product entry point (sgemm) every kernel of the addon uses. Batches that share
// B (stride 0) with an untransposed A are one product of batch·m rows, which the library splits across its
// threads better than many small calls.
#include <cblas.h>
#include <dnnl.h>
#include <omp.h>
#include <stdexcept>
#include <string>
#include "kernels.h"

namespace neurodyn {

static GemmLibrary library = GemmLibrary::OneDnn;

void setGemmLibrary(GemmLibrary l) { library = l; }
GemmLibrary gemmLibrary() { return library; }

// Below this many multiply-adds a product runs on one thread (ep_fc's 64×10·10×500 is 0.32 M): waking a
// second thread costs more than it saves, and on a shared machine it waits for a descheduled core.
static constexpr int64_t kOneThreadMacs = int64_t(1) << 20;

void sgemm(bool transA, bool transB, int64_t m, int64_t n, int64_t k, float alpha, const float* a, int64_t lda, const float* b,
           int64_t ldb, float beta, float* c, int64_t ldc) {
  if (m == 0 || n == 0) return;
  const int64_t macs = m * n * k;
  if (library == GemmLibrary::OpenBlas) {
    BlasThreads scope(macs);
    cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans, blasint(m), blasint(n), blasint(k),
                alpha, a, blasint(lda), b, blasint(ldb), beta, c, blasint(ldc));
    return;
  }
  // dnnl_sgemm runs on the calling thread's OpenMP team (omp_set_num_threads is that thread's setting).
  const int team = threads();
  const bool one = team > 1 && macs < kOneThreadMacs;
  if (one) omp_set_num_threads(1);
  const dnnl_status_t status = dnnl_sgemm(transA ? 'T' : 'N', transB ? 'T' : 'N', m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
  if (one) omp_set_num_threads(team);
  if (status != dnnl_success) throw std::runtime_error("neurodyn native: oneDNN's sgemm failed (status " + std::to_string(int(status)) + ")");
}

void gemm(const Gemm& g) {
  if (g.m == 0 || g.n == 0) return;
  const int64_t lda = g.transA ? g.m : g.k, ldb = g.transB ? g.k : g.n, ldc = g.n;
  if (g.k == 0) {
    for (int64_t i = 0; i < g.batch; i++)
      for (int64_t j = 0; j < g.m * g.n; j++) g.c[i * g.strideC + j] = 0.0f;
    return;
  }
  if (g.batch > 1 && g.strideB == 0 && !g.transA && g.strideA == g.m * g.k && g.strideC == g.m * g.n) {
    sgemm(false, g.transB, g.batch * g.m, g.n, g.k, 1.0f, g.a, lda, g.b, ldb, 0.0f, g.c, ldc);
    return;
  }
  for (int64_t i = 0; i < g.batch; i++) {
    sgemm(g.transA, g.transB, g.m, g.n, g.k, 1.0f, g.a + i * g.strideA, lda, g.b + i * g.strideB, ldb, 0.0f, g.c + i * g.strideC, ldc);
  }
}

}  // namespace neurodyn
