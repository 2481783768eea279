// Throughput of tenfold::cpu::gemm against OpenBLAS's cblas_sgemm, on one thread unless asked for two, at
// the shapes of the networks tenfold trains (a batch times a layer's weights) and at 1024³.
//
// Each shape runs both libraries on the same random operands. After a warm-up, the two are timed in
// alternation, sample after sample, so that a noisy machine slows both alike; a sample repeats the product
// until it has taken about 20 ms. Reported: the median GFLOP/s over the samples, the spread (min..max), the
// share of a nominal single-core peak (240 GFLOP/s, or --peak=X, times the number of threads) and of the
// peak measured here by loops of independent FMAs (one per thread, run at the same time), and the largest
// difference between the two results relative to sum |a||b|. Besides the table, one CSV line per shape:
//   gemm,<m>x<k>x<n>,<threads>,<tenfold GFLOP/s>,<OpenBLAS GFLOP/s>,<ratio>
//
// Usage: gemm_bench [--samples=N] [--peak=GFLOPS] [--threads=N]
// With --threads=N, tenfold runs with cpu::set_threads(N) and OpenBLAS with N threads.
#include <cblas.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <thread>
#include <vector>

#include "../common/fma_peak.hpp"

#include <tenfold/tenfold.hpp>

namespace {

using clock_type = std::chrono::steady_clock;

struct product_shape {
  int m, k, n;
};

struct summary {
  double median, min, max;
};

summary summarise(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return {v[v.size() / 2], v.front(), v.back()};
}

template <class F>
double seconds_per_call(F&& f, long reps) {
  const auto t0 = clock_type::now();
  for (long r = 0; r < reps; ++r) f();
  return std::chrono::duration<double>(clock_type::now() - t0).count() / double(reps);
}

// Single-precision FMA throughput of one core, in GFLOP/s (bench/common/fma_peak.hpp), best of five long trials.
double measured_peak() { return bench::fma_peak(20'000'000, 5); }

}  // namespace

int main(int argc, char** argv) {
  int samples = 9, threads = 1;
  double nominal_peak = 240;
  for (int i = 1; i < argc; ++i) {
    if (std::strncmp(argv[i], "--samples=", 10) == 0) {
      samples = std::max(1, std::atoi(argv[i] + 10));
    } else if (std::strncmp(argv[i], "--peak=", 7) == 0) {
      nominal_peak = std::atof(argv[i] + 7);
    } else if (std::strncmp(argv[i], "--threads=", 10) == 0) {
      threads = std::max(1, std::atoi(argv[i] + 10));
    } else {
      std::fprintf(stderr, "usage: %s [--samples=N] [--peak=GFLOPS] [--threads=1|2]\n", argv[0]);
      return 2;
    }
  }
  tenfold::cpu::set_threads(threads);
#if TENFOLD_BENCH_OPENBLAS_THREADS
  openblas_set_num_threads(threads);
#endif
#if TENFOLD_BENCH_OPENBLAS_CORENAME
  std::printf("OpenBLAS core: %s", openblas_get_corename());
#endif
  const char* coretype = std::getenv("OPENBLAS_CORETYPE");
  std::printf("  (OPENBLAS_CORETYPE=%s)\n", coretype ? coretype : "unset");
  // With two threads, both measure at once: two virtual CPUs may share one core's FMA units.
  double peak = 0;
  if (threads == 2) {
    double other = 0;
    std::thread second([&other] { other = measured_peak(); });
    peak = measured_peak();
    second.join();
    peak += other;
  } else {
    peak = measured_peak();
  }
  std::printf("tenfold kernels: %s; fp32 FMA peak of %d thread(s) measured here: %.1f GFLOP/s; nominal %.0f\n",
              tenfold::cpu::isa_name(tenfold::cpu::selected_isa()).data(), threads, peak, nominal_peak * threads);

  const product_shape shapes[] = {{32, 784, 128}, {256, 784, 128}, {256, 128, 64}, {64, 1000, 500},
                                  {1, 784, 128},  {32, 784, 10},   {32, 128, 64},  {1024, 1024, 1024}};
  std::mt19937 rng(std::random_device{}());
  std::uniform_real_distribution<float> uniform(-1.f, 1.f);

  std::printf("\n%-16s %8s %26s %26s %7s %8s %8s %9s\n", "m x k x n", "threads", "tenfold GFLOP/s (min..max)",
              "OpenBLAS GFLOP/s (min..max)", "ratio", "%nominal", "%meas.", "rel.diff");
  std::vector<char> csv;
  for (const auto& s : shapes) {
    const std::size_t m = s.m, k = s.k, n = s.n;
    std::vector<float> a(m * k), b(k * n), c_ours(m * n), c_blas(m * n);
    for (auto& x : a) x = uniform(rng);
    for (auto& x : b) x = uniform(rng);
    const auto ours = [&] {
      tenfold::cpu::gemm<float>(m, n, k, tenfold::cpu::strided_operand<float>{a.data(), k, 1},
                                tenfold::cpu::strided_operand<float>{b.data(), n, 1}, c_ours.data(), n);
    };
    const auto blas = [&] {
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, int(m), int(n), int(k), 1.f, a.data(), int(k), b.data(),
                  int(n), 0.f, c_blas.data(), int(n));
    };
    const double flops = 2.0 * double(m) * double(n) * double(k);
    // Enough calls per sample for about 20 ms, judged from a first call of each.
    ours();
    blas();
    const double once = std::max(seconds_per_call(ours, 3), seconds_per_call(blas, 3));
    const long reps = std::max(1L, long(0.02 / once));
    for (int w = 0; w < 2; ++w) {
      seconds_per_call(ours, reps);
      seconds_per_call(blas, reps);
    }
    std::vector<double> g_ours, g_blas;
    for (int i = 0; i < samples; ++i) {
      g_ours.push_back(flops / seconds_per_call(ours, reps) / 1e9);
      g_blas.push_back(flops / seconds_per_call(blas, reps) / 1e9);
    }
    double worst = 0;
    for (std::size_t i = 0; i < m; ++i)
      for (std::size_t j = 0; j < n; ++j) {
        double scale = 0;
        for (std::size_t p = 0; p < k; ++p) scale += std::fabs(double(a[i * k + p]) * double(b[p * n + j]));
        worst = std::max(worst, std::fabs(double(c_ours[i * n + j]) - double(c_blas[i * n + j])) / (scale + 1e-30));
      }
    const summary o = summarise(g_ours), t = summarise(g_blas);
    char name[48], ours_col[48], blas_col[48];
    std::snprintf(name, sizeof name, "%dx%dx%d", s.m, s.k, s.n);
    std::snprintf(ours_col, sizeof ours_col, "%7.1f (%6.1f..%6.1f)", o.median, o.min, o.max);
    std::snprintf(blas_col, sizeof blas_col, "%7.1f (%6.1f..%6.1f)", t.median, t.min, t.max);
    std::printf("%-16s %8d %26s %26s %7.2f %7.1f%% %7.1f%% %9.1e\n", name, threads, ours_col, blas_col,
                o.median / t.median, 100 * o.median / (nominal_peak * threads), peak > 0 ? 100 * o.median / peak : 0.0,
                worst);
    char line[160];
    const int len = std::snprintf(line, sizeof line, "gemm,%s,%d,%.2f,%.2f,%.3f\n", name, threads, o.median, t.median,
                                  o.median / t.median);
    csv.insert(csv.end(), line, line + len);
  }
  std::printf("\n%.*s", int(csv.size()), csv.data());
  return 0;
}
