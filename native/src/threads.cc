// One thread count for both pools: OpenBLAS's (pthreads in Debian's default libopenblas0-pthread) and
// oneDNN's (OpenMP, libgomp). The OpenMP wait policy cannot be set from here: libgomp reads
// OMP_WAIT_POLICY once, when it is loaded, so src/tensor/native/addon.ts sets it before loading this addon.
#include <cblas.h>
#include <omp.h>
#include <dnnl.hpp>
#include <string>
#include "kernels.h"

namespace neurodyn {

static int current = 0;

void setThreads(int n) {
  if (n < 1) n = 1;
  openblas_set_num_threads(n);
  omp_set_num_threads(n);
  current = n;
}

// Below this many multiply-adds a product runs on one OpenBLAS thread (as in gemm.cc's sgemm).
static constexpr int64_t kOneThreadMacs = int64_t(1) << 20;

BlasThreads::BlasThreads(int64_t macs) : changed_(current > 1 && macs < kOneThreadMacs) {
  if (changed_) openblas_set_num_threads(1);
}

BlasThreads::~BlasThreads() {
  if (changed_) openblas_set_num_threads(current);
}

int threads() { return current > 0 ? current : omp_get_max_threads(); }

std::string librariesDescription() {
  const dnnl_version_t* v = dnnl_version();
  std::string blas = openblas_get_config();
  while (!blas.empty() && blas.back() == ' ') blas.pop_back();
  return blas + "; oneDNN " + std::to_string(v->major) + "." + std::to_string(v->minor) + "." +
         std::to_string(v->patch) + " (" + (v->cpu_runtime == DNNL_RUNTIME_OMP ? "OpenMP" : "other runtime") + ")";
}

}  // namespace neurodyn
