// Standalone BatchNorm: every implementation x layout on real model shapes,
// at 1 and 2 threads, next to a memcpy of the same bytes (the bandwidth
// ceiling: BN reads and writes each byte once, like memcpy).
//
// Counters: bytes_per_second counts bytes read + written; vs_memcpy is this
// case's rate over the memcpy rate of the same shape and thread count,
// measured earlier in the same run.
//
//   build/bench/batch_norm_bench --benchmark_filter='resnet50'
#include <benchmark/benchmark.h>
#include <omp.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "bench/ops/ops_bench_util.h"
#include "ops/batch_norm.h"
#include "ops/batch_norm_onednn.h"

namespace foldrt::ops {
namespace {

struct BenchShape {
  std::string name;
  std::vector<int64_t> dims;
};

// BN inputs of real models (torchvision definitions).
std::vector<BenchShape> ModelShapes() {
  std::vector<BenchShape> shapes;
  for (int64_t batch : {1, 8}) {
    const std::string b = "_b" + std::to_string(batch);
    // ResNet-50: the stem, then the widest BN of each stage (bottleneck out).
    shapes.push_back({"resnet50_stem" + b, {batch, 64, 112, 112}});
    shapes.push_back({"resnet50_stage1" + b, {batch, 256, 56, 56}});
    shapes.push_back({"resnet50_stage2" + b, {batch, 512, 28, 28}});
    shapes.push_back({"resnet50_stage3" + b, {batch, 1024, 14, 14}});
    shapes.push_back({"resnet50_stage4" + b, {batch, 2048, 7, 7}});
  }
  // MobileNetV2 expanded (6x) layers.
  shapes.push_back({"mobilenetv2_expand96_b1", {1, 96, 112, 112}});
  shapes.push_back({"mobilenetv2_expand144_b1", {1, 144, 56, 56}});
  shapes.push_back({"mobilenetv2_expand384_b1", {1, 384, 14, 14}});
  shapes.push_back({"mobilenetv2_expand960_b1", {1, 960, 7, 7}});
  // DenseNet-121: BN over the concatenation at the end of each dense block.
  shapes.push_back({"densenet121_block1_b1", {1, 256, 56, 56}});
  shapes.push_back({"densenet121_block2_b1", {1, 512, 28, 28}});
  shapes.push_back({"densenet121_block3_b1", {1, 1024, 14, 14}});
  shapes.push_back({"densenet121_block3_mid_b1", {1, 736, 14, 14}});
  shapes.push_back({"densenet121_block4_b1", {1, 1024, 7, 7}});
  // A dense layer: BatchNorm1d over (batch, features).
  shapes.push_back({"dense_256x1024", {256, 1024}});
  return shapes;
}

struct FreeDeleter {
  void operator()(float* p) const { std::free(p); }
};
using AlignedFloats = std::unique_ptr<float[], FreeDeleter>;

AlignedFloats AllocateFloats(size_t n) {
  const size_t bytes = (n * sizeof(float) + 63) / 64 * 64;
  auto* p =
      static_cast<float*>(std::aligned_alloc(64, std::max<size_t>(bytes, 64)));
  std::mt19937 rng(1);
  std::uniform_real_distribution<float> u(-3.0f, 3.0f);
  for (size_t i = 0; i < n; ++i) p[i] = u(rng);  // also faults the pages in
  return AlignedFloats(p);
}

// memcpy rates by "shape/threads", filled by the memcpy cases, which are
// registered (and so run) before the BN cases of the same shape.
std::map<std::string, double>& MemcpyRates() {
  static std::map<std::string, double> rates;
  return rates;
}

// bytes_per_second counts bytes read + written; tensor_MB is one tensor.
void ReportBytes(benchmark::State& state, size_t tensor_bytes) {
  state.SetBytesProcessed(
      static_cast<int64_t>(state.iterations() * 2 * tensor_bytes));
  state.counters["tensor_MB"] = static_cast<double>(tensor_bytes) / 1e6;
}

void BM_Memcpy(benchmark::State& state, const BenchShape& shape, int threads) {
  const ChannelShape cs = SplitChannelShape(shape.dims);
  const size_t n = BufferElements(cs, Layout::kNchw);
  AlignedFloats x = AllocateFloats(n), y = AllocateFloats(n);
  const size_t bytes = n * sizeof(float);
  for (auto _ : state) {
    // Split like the BN kernels: one contiguous slice per thread.
#pragma omp parallel for num_threads(threads) schedule(static)
    for (int t = 0; t < threads; ++t) {
      const size_t begin = bytes * t / threads / 64 * 64;
      const size_t end =
          t + 1 == threads ? bytes : bytes * (t + 1) / threads / 64 * 64;
      std::memcpy(reinterpret_cast<char*>(y.get()) + begin,
                  reinterpret_cast<const char*>(x.get()) + begin, end - begin);
    }
    benchmark::DoNotOptimize(y.get());
    benchmark::ClobberMemory();
  }
  ReportBytes(state, bytes);
}

void BM_BatchNorm(benchmark::State& state, const BenchShape& shape,
                  BatchNormImpl impl, Layout layout, int threads) {
  const ChannelShape cs = SplitChannelShape(shape.dims);
  const size_t c = cs.channels;
  std::vector<float> gamma(c), beta(c), mean(c), var(c);
  for (size_t i = 0; i < c; ++i) {
    gamma[i] = 0.5f + 0.01f * static_cast<float>(i % 97);
    beta[i] = -0.2f + 0.003f * static_cast<float>(i % 31);
    mean[i] = 0.1f * static_cast<float>(i % 7);
    var[i] = 0.5f + 0.02f * static_cast<float>(i % 13);
  }
  const BatchNorm bn(gamma, beta, mean, var, 1e-5f, Activation::Relu(), impl);
  const size_t n = BufferElements(cs, layout);
  AlignedFloats x = AllocateFloats(n), y = AllocateFloats(n);
  bn.Run(x.get(), n, y.get(), n, shape.dims, layout,
         threads);  // warm-up, caches
  for (auto _ : state) {
    bn.Run(x.get(), n, y.get(), n, shape.dims, layout, threads);
    benchmark::DoNotOptimize(y.get());
    benchmark::ClobberMemory();
  }
  ReportBytes(state, n * sizeof(float));
}

// Turns the memcpy cases' time into a reference rate for vs_memcpy.
class MemcpyRateReporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    std::vector<Run> copy = runs;
    for (Run& run : copy) {
      const auto bps = run.counters.find("bytes_per_second");
      if (bps == run.counters.end()) continue;
      const std::string name = run.benchmark_name();
      const std::string key = KeyOf(name);
      if (name.rfind("memcpy/", 0) == 0) {
        MemcpyRates()[key] = bps->second.value;
      } else if (MemcpyRates().count(key)) {
        run.counters["vs_memcpy"] = bps->second.value / MemcpyRates()[key];
      }
    }
    ConsoleReporter::ReportRuns(copy);
  }

 private:
  // "impl/layout/shape/threads:T/real_time" -> "shape/threads:T".
  static std::string KeyOf(const std::string& name) {
    std::vector<std::string> parts;
    size_t start = 0;
    for (size_t p; (p = name.find('/', start)) != std::string::npos;
         start = p + 1) {
      parts.push_back(name.substr(start, p - start));
    }
    parts.push_back(name.substr(start));
    std::string shape, threads;
    for (const std::string& part : parts) {
      if (part.rfind("threads:", 0) == 0) threads = part;
      if (part.find("_b") != std::string::npos || part.rfind("dense_", 0) == 0)
        shape = part;
    }
    return shape + "/" + threads;
  }
};

void RegisterAll() {
  for (const BenchShape& shape : ModelShapes()) {
    for (int threads : {1, 2}) {
      const std::string suffix =
          "/" + shape.name + "/threads:" + std::to_string(threads);
      bench::RegisterWallTime("memcpy" + suffix, BM_Memcpy, shape, threads);
      for (BatchNormImpl impl :
           {BatchNormImpl::kHwy, BatchNormImpl::kOneDnn, BatchNormImpl::kRef}) {
        if (impl == BatchNormImpl::kRef && threads != 1)
          continue;  // scalar, 1 thread
        for (Layout layout : {Layout::kNchw, Layout::kNhwc, Layout::kNChw8c,
                              Layout::kNChw16c}) {
          if (impl == BatchNormImpl::kOneDnn &&
              !OneDnnBatchNorm::Supports(shape.dims, layout)) {
            continue;
          }
          const std::string name = std::string(BatchNormImplName(impl)) + "/" +
                                   LayoutName(layout) + suffix;
          bench::RegisterWallTime(name, BM_BatchNorm, shape, impl, layout,
                                  threads);
        }
      }
    }
  }
}

}  // namespace
}  // namespace foldrt::ops

int main(int argc, char** argv) {
  // FOLDRT_KERNEL would override every case's implementation.
  unsetenv("FOLDRT_KERNEL");
  foldrt::ops::MemcpyRateReporter reporter;
  return foldrt::ops::bench::RunBenchmarks(argc, argv, foldrt::ops::RegisterAll,
                                           &reporter);
}
