// What the ops benchmarks (bench/ops/*_bench.cc) share: inputs, wall-clock
// registration and main().
#ifndef FOLDRT_BENCH_OPS_OPS_BENCH_UTIL_H_
#define FOLDRT_BENCH_OPS_OPS_BENCH_UTIL_H_

#include <benchmark/benchmark.h>

#include <cstddef>
#include <cstdint>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "core/tensor.h"

namespace foldrt::ops::bench {

// n floats uniform in [-1, 1), the same ones every call (seed 1).
inline std::vector<float> Random(size_t n) {
  std::mt19937 rng(1);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  std::vector<float> v(n);
  for (float& f : v) f = u(rng);
  return v;
}

// The element count of `dims` as a size.
inline size_t Count(const std::vector<int64_t>& dims) {
  return static_cast<size_t>(ShapeNumElements(dims));
}

// Registers fn(state, args...) as `name`, timed by the wall clock: the ops
// run OpenMP threads, whose work the calling thread's CPU time misses.
template <class Fn, class... Args>
benchmark::internal::Benchmark* RegisterWallTime(const std::string& name,
                                                 Fn&& fn, Args&&... args) {
  return benchmark::RegisterBenchmark(name.c_str(), std::forward<Fn>(fn),
                                      std::forward<Args>(args)...)
      ->UseRealTime();
}

// The main() of a benchmark whose cases register_all adds: the cases the
// command line selects (--benchmark_filter, ...), printed by `reporter`
// (the console when null).
inline int RunBenchmarks(int argc, char** argv, void (*register_all)(),
                         benchmark::BenchmarkReporter* reporter = nullptr) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  register_all();
  benchmark::RunSpecifiedBenchmarks(reporter);
  benchmark::Shutdown();
  return 0;
}

}  // namespace foldrt::ops::bench

#endif  // FOLDRT_BENCH_OPS_OPS_BENCH_UTIL_H_
