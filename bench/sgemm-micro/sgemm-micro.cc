// Times OpenBLAS's cblas_sgemm on one product shape, as the addon calls it (row-major, the addon's link
// line: -lopenblas), per call in process CPU time and wall time, median of repeats. Used to find out why the
// addon's ep_fc product (64×784 · 784×500) ran at ~50 GFLOP/s while torch reached ~82 on the same OpenBLAS.
//   g++ -O2 -std=c++17 -fopenmp -o /tmp/sgemm-micro bench/sgemm-micro/sgemm-micro.cc -lopenblas -ldnnl
//   OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 /tmp/sgemm-micro M N K [transB 0|1] [beta 0|1] [misalign floats] [reps] [impl: openblas|dnnl]
// impl dnnl times oneDNN's dnnl_sgemm (row-major, the same operands) instead, for comparison.
#include <cblas.h>
#include <dnnl.h>
#include <cstring>
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <vector>

static double now(clockid_t c) {
  timespec t;
  clock_gettime(c, &t);
  return t.tv_sec * 1e3 + t.tv_nsec * 1e-6;
}

int main(int argc, char** argv) {
  if (argc < 4) { std::fprintf(stderr, "usage: sgemm-micro M N K [transB] [beta] [misalign] [reps]\n"); return 2; }
  const int M = std::atoi(argv[1]), N = std::atoi(argv[2]), K = std::atoi(argv[3]);
  const bool transB = argc > 4 && std::atoi(argv[4]);
  const float beta = argc > 5 ? float(std::atof(argv[5])) : 0.0f;
  const int mis = argc > 6 ? std::atoi(argv[6]) : 0;
  const int reps = argc > 7 ? std::atoi(argv[7]) : 200;
  const bool dnnl = argc > 8 && std::strcmp(argv[8], "dnnl") == 0;
  auto alloc = [&](size_t n) {
    float* p = static_cast<float*>(std::aligned_alloc(64, ((n + mis) * sizeof(float) + 63) / 64 * 64));
    for (size_t i = 0; i < n + mis; i++) p[i] = float((i * 2654435761u) % 1000) / 1000.0f;
    return p + mis;
  };
  float *a = alloc(size_t(M) * K), *b = alloc(size_t(K) * N), *c = alloc(size_t(M) * N);
  const int ldb = transB ? K : N;
  std::vector<double> cpu, wall;
  for (int r = 0; r < reps + 10; r++) {
    const double w0 = now(CLOCK_MONOTONIC), c0 = now(CLOCK_PROCESS_CPUTIME_ID);
    if (dnnl) dnnl_sgemm('N', transB ? 'T' : 'N', M, N, K, 1.0f, a, K, b, ldb, beta, c, N);
    else cblas_sgemm(CblasRowMajor, CblasNoTrans, transB ? CblasTrans : CblasNoTrans, M, N, K, 1.0f, a, K, b, ldb, beta, c, N);
    const double c1 = now(CLOCK_PROCESS_CPUTIME_ID), w1 = now(CLOCK_MONOTONIC);
    if (r >= 10) { cpu.push_back(c1 - c0); wall.push_back(w1 - w0); }
  }
  std::sort(cpu.begin(), cpu.end());
  std::sort(wall.begin(), wall.end());
  const double flop = 2.0 * M * N * K;
  std::printf("{\"impl\":\"%s\",\"m\":%d,\"n\":%d,\"k\":%d,\"transB\":%d,\"beta\":%g,\"misalign\":%d,\"threads\":%d,"
              "\"cpu_ms_median\":%.4f,\"cpu_ms_min\":%.4f,\"wall_ms_median\":%.4f,\"gflops_cpu\":%.1f,\"gflops_wall_min\":%.1f,\"config\":\"%s\"}\n",
              dnnl ? "dnnl_sgemm" : "cblas_sgemm", M, N, K, int(transB), beta, mis, openblas_get_num_threads(), cpu[cpu.size() / 2], cpu[0], wall[wall.size() / 2],
              flop / cpu[cpu.size() / 2] * 1e-6, flop / wall[0] * 1e-6, openblas_get_config());
  return 0;
}
