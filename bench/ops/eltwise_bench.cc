// Sigmoid and Swish (SiLU) on EfficientNet-B0 activation sizes, one thread:
// the Highway kernels of ops/eltwise.h against the scalar loops the runtime
// ran before them (Sigmoid: std::exp per element; SiLU: that Sigmoid, then
// the Mul as a second pass, as the unfused Sigmoid -> Mul graph does).
//
// Counters: bytes_per_second counts the bytes of the input read and of the
// output written once (8 bytes per element), whatever the variant actually
// moves (the two-pass SiLU moves more), so the rates compare as "elements
// per second" x 8; items_per_second is elements.
//
//   build/bench/eltwise_bench --benchmark_filter='swish'
#include <benchmark/benchmark.h>

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "bench/ops/ops_bench_util.h"
#include "ops/eltwise.h"

namespace foldrt::ops {
namespace {

struct FreeDeleter {
  void operator()(float* p) const { std::free(p); }
};
using AlignedFloats = std::unique_ptr<float[], FreeDeleter>;

AlignedFloats AllocateFloats(size_t n, uint32_t seed) {
  const size_t bytes = (n * sizeof(float) + 63) / 64 * 64;
  auto* p =
      static_cast<float*>(std::aligned_alloc(64, bytes < 64 ? 64 : bytes));
  std::mt19937 rng(seed);
  // Pre-activations of a trained CNN are mostly within a few units of 0.
  std::normal_distribution<float> u(0.0f, 3.0f);
  for (size_t i = 0; i < n; ++i) p[i] = u(rng);  // also faults the pages in
  return AlignedFloats(p);
}

// The runtime's Sigmoid before the Highway kernel (one std::exp per
// element; written so that exp never overflows).
void ScalarSigmoid(const float* x, float* y, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    const float v = x[i];
    if (v >= 0.0f) {
      y[i] = 1.0f / (1.0f + std::exp(-v));
    } else {
      const float e = std::exp(v);
      y[i] = e / (1.0f + e);
    }
  }
}

// The unfused graph: Sigmoid into a temporary, then Mul(x, s).
void ScalarSigmoidThenMul(const float* x, float* s, float* y, size_t n) {
  ScalarSigmoid(x, s, n);
  for (size_t i = 0; i < n; ++i) y[i] = x[i] * s[i];
}

enum class Variant { kScalarSigmoid, kHwySigmoid, kScalarSwish, kHwySwish };

void Run(benchmark::State& state, Variant variant, size_t n) {
  AlignedFloats x = AllocateFloats(n, 1);
  AlignedFloats y = AllocateFloats(n, 2);
  AlignedFloats tmp = AllocateFloats(n, 3);
  for (auto _ : state) {
    switch (variant) {
      case Variant::kScalarSigmoid:
        ScalarSigmoid(x.get(), y.get(), n);
        break;
      case Variant::kHwySigmoid:
        SigmoidF32(x.get(), y.get(), n);
        break;
      case Variant::kScalarSwish:
        ScalarSigmoidThenMul(x.get(), tmp.get(), y.get(), n);
        break;
      case Variant::kHwySwish:
        SwishF32(x.get(), y.get(), n);
        break;
    }
    benchmark::DoNotOptimize(y.get());
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * n));
  state.SetBytesProcessed(
      static_cast<int64_t>(state.iterations() * n * 2 * sizeof(float)));
}

struct Shape {
  const char* name;
  size_t elements;
};

// SiLU inputs of EfficientNet-B0 at batch 1 (torchvision), largest first,
// and one that stays in L1.
const Shape kShapes[] = {
    {"b0_stem_32x112x112", 32 * 112 * 112},
    {"b0_expand96x112x112", 96 * 112 * 112},
    {"b0_expand144x56x56", 144 * 56 * 56},
    {"b0_expand240x28x28", 240 * 28 * 28},
    {"b0_expand480x14x14", 480 * 14 * 14},
    {"b0_expand1152x7x7", 1152 * 7 * 7},
    {"l1_4096", 4096},
};

const struct {
  const char* name;
  Variant variant;
} kVariants[] = {
    {"sigmoid/scalar", Variant::kScalarSigmoid},
    {"sigmoid/hwy", Variant::kHwySigmoid},
    {"swish/scalar_sigmoid_then_mul", Variant::kScalarSwish},
    {"swish/hwy", Variant::kHwySwish},
};

const bool registered = [] {
  for (const Shape& shape : kShapes) {
    for (const auto& v : kVariants) {
      const std::string name = std::string(v.name) + "/" + shape.name;
      const Variant variant = v.variant;
      const size_t n = shape.elements;
      bench::RegisterWallTime(name, [variant, n](benchmark::State& state) {
        Run(state, variant, n);
      });
    }
  }
  return true;
}();

}  // namespace
}  // namespace foldrt::ops

BENCHMARK_MAIN();
