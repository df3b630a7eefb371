#include "ops/conv.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstdint>
#include <limits>
#include <memory>
#include <ostream>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "core/error.h"
#include "core/tensor.h"
#include "ops/activation.h"
#include "ops/layout.h"
#include "ops/layout_reorder.h"
#include "ops/ref/conv_ref.h"
#include "ops/ref/shape_util.h"
#include "tests/ops/ops_test_util.h"

namespace foldrt::ops {
namespace {

using test::Count;
using test::CountMismatches;
using test::Expected;
using test::Random;

// ConvAttributes spelled out field by field (aggregate init with missing
// fields trips -Wmissing-field-initializers).
ConvAttributes Attrs(std::vector<int64_t> strides = {},
                     std::vector<int64_t> dilations = {},
                     std::vector<int64_t> pads_begin = {},
                     std::vector<int64_t> pads_end = {}, int64_t groups = 1) {
  ConvAttributes a;
  a.strides = std::move(strides);
  a.dilations = std::move(dilations);
  a.pads_begin = std::move(pads_begin);
  a.pads_end = std::move(pads_end);
  a.groups = groups;
  return a;
}

struct ConvCase {
  std::string name;
  std::vector<int64_t> x_dims;  // batch overwritten per run
  std::vector<int64_t> w_dims;
  ConvAttributes attrs;
  bool with_bias = true;
};

// The reference's parameters for `attrs` (ONNX defaults for empty vectors).
ref::ConvParams ToParams(const ConvAttributes& attrs, size_t spatial_rank) {
  return ref::ConvParamsWithDefaults("Conv test", spatial_rank, attrs.strides,
                                     attrs.dilations, attrs.pads_begin,
                                     attrs.pads_end, attrs.groups);
}

// Expected output and its error bound.
//
// oneDNN accumulates each output in float, in an order of its choosing, over
// K = Cin / groups * prod(kernel) products plus the bias. Whatever the order
// (and with or without FMA), the rounding error of such a sum is at most
// gamma_{K+1} * sum|terms| with gamma_n = n u / (1 - n u), u = FLT_EPSILON / 2
// (Higham, Accuracy and Stability, 3.1). The reference is exact up to its
// final rounding (double accumulation), which costs <= u |ref|; activations
// are 1-Lipschitz and do not add to it. So
//   |got - ref| <= atol + rtol * |ref|,  atol = (K + 1) * FLT_EPSILON * S,
//   rtol = FLT_EPSILON,
// with S = sum |w| |x| + |bias| per output, computed by the same reference
// on absolute values. That is about twice gamma_{K+1} * S. A single wrong or
// missing term (|w x| ~ S / K) exceeds it by a factor ~ 1 / (K^2 eps), i.e.
// more than 30 for every K used here (K <= 576).
Expected Reference(const std::vector<float>& x,
                   const std::vector<int64_t>& x_dims,
                   const std::vector<float>& w,
                   const std::vector<int64_t>& w_dims, const float* bias,
                   const ref::ConvParams& params, const Activation& act) {
  const std::vector<int64_t> y_dims =
      ref::ConvOutputShape(x_dims, w_dims, params);
  return test::SumOfProductsReference(
      Count(y_dims), x, w, bias, w_dims[0], act, Count(w_dims) / w_dims[0],
      [&](const float* xs, const float* ws, const float* b, float* y) {
        ref::ConvRef(xs, x_dims, ws, w_dims, b, params, y);
      });
}

// The sweep's activations, and Clip with one infinite bound, which is still
// a post-op (only Clip(-inf, inf) is dropped).
std::vector<Activation> ConvActivations() {
  std::vector<Activation> acts = test::SweepActivations();
  acts.push_back(
      Activation::Clip(-std::numeric_limits<float>::infinity(), 0.25f));
  return acts;
}

// gtest prints parameters on failure; the name says it all.
void PrintTo(const ConvCase& c, std::ostream* os) { *os << c.name; }

std::vector<ConvCase> Cases() {
  std::vector<ConvCase> c;
  // 1-D.
  c.push_back(
      {"1d_3to5_k3_pad1", {1, 3, 17}, {5, 3, 3}, Attrs({}, {}, {1}, {1})});
  c.push_back({"1d_groups2_stride2_dil2_asym",
               {1, 4, 20},
               {6, 2, 4},
               Attrs({2}, {2}, {0}, {3}, 2)});
  c.push_back({"1d_depthwise17_asym",
               {1, 17, 9},
               {17, 1, 3},
               Attrs({}, {}, {2}, {0}, 17)});
  c.push_back({"1d_nobias_defaults", {1, 3, 8}, {4, 3, 2}, {}, false});
  // 2-D.
  c.push_back({"2d_3to8_k3_pad1",
               {1, 3, 9, 11},
               {8, 3, 3, 3},
               Attrs({}, {}, {1, 1}, {1, 1})});
  c.push_back({"2d_pointwise_17to5", {1, 17, 10, 7}, {5, 17, 1, 1}, {}});
  c.push_back({"2d_16to32_stride2_asym",
               {1, 16, 12, 12},
               {32, 16, 3, 3},
               Attrs({2, 2}, {}, {1, 0}, {0, 2})});
  c.push_back({"2d_groups3_dil23_stride12_asym",
               {1, 6, 13, 10},
               {9, 2, 3, 2},
               Attrs({1, 2}, {2, 3}, {2, 1}, {0, 3}, 3)});
  c.push_back({"2d_depthwise32_stride2",
               {1, 32, 14, 14},
               {32, 1, 3, 3},
               Attrs({2, 2}, {}, {1, 1}, {1, 1}, 32)});
  c.push_back({"2d_depthwise_multiplier2_dil2",
               {1, 8, 9, 9},
               {16, 1, 5, 5},
               Attrs({}, {2, 2}, {2, 2}, {2, 2}, 8)});
  c.push_back({"2d_stem_7x7_stride2",
               {1, 3, 15, 15},
               {16, 3, 7, 7},
               Attrs({2, 2}, {}, {3, 3}, {3, 3})});
  c.push_back({"2d_64to64_k3",
               {1, 64, 8, 8},
               {64, 64, 3, 3},
               Attrs({}, {}, {1, 1}, {1, 1})});
  c.push_back({"2d_17to3_nobias_stride3",
               {1, 17, 11, 13},
               {3, 17, 2, 3},
               Attrs({3, 3}, {}, {0, 1}, {1, 0}),
               false});
  // 3-D.
  c.push_back({"3d_3to4_k3_pad1",
               {1, 3, 5, 6, 7},
               {4, 3, 3, 3, 3},
               Attrs({}, {}, {1, 1, 1}, {1, 1, 1})});
  c.push_back({"3d_groups2_strides_dil_asym",
               {1, 4, 6, 6, 6},
               {6, 2, 2, 3, 1},
               Attrs({2, 1, 2}, {1, 2, 1}, {1, 0, 0}, {0, 1, 2}, 2)});
  c.push_back({"3d_depthwise16",
               {1, 16, 4, 5, 6},
               {16, 1, 3, 3, 3},
               Attrs({}, {}, {1, 1, 1}, {1, 1, 1}, 16)});
  return c;
}

class ConvSweep : public ::testing::TestWithParam<ConvCase> {};

TEST_P(ConvSweep, MatchesReference) {
  const ConvCase& cc = GetParam();
  std::mt19937 rng(1234);
  const std::vector<float> w = Random(Count(cc.w_dims), rng);
  const std::vector<float> bias = Random(cc.w_dims[0], rng);
  const float* bias_ptr = cc.with_bias ? bias.data() : nullptr;
  const ref::ConvParams params = ToParams(cc.attrs, cc.w_dims.size() - 2);
  for (const Activation& act : ConvActivations()) {
    const Conv conv(w.data(), cc.w_dims, bias_ptr, cc.attrs, act);
    ASSERT_NO_FATAL_FAILURE(test::ExpectBatchesAndThreadsMatch(
        conv, cc.x_dims, rng, cc.name + " act " + act.ToString(),
        [&](const std::vector<int64_t>& x_dims) {
          return ref::ConvOutputShape(x_dims, cc.w_dims, params);
        },
        [&](const std::vector<float>& x, const std::vector<int64_t>& x_dims) {
          return Reference(x, x_dims, w, cc.w_dims, bias_ptr, params, act);
        }));
  }
}

INSTANTIATE_TEST_SUITE_P(Configs, ConvSweep, ::testing::ValuesIn(Cases()),
                         [](const auto& info) { return info.param.name; });

// ---- Winograd (ConvAttributes::winograd) ----
//
// Considered only for 2-D 3x3 stride-1 ungrouped convolutions with >= 16
// channels each way, only when allowed, and used only where oneDNN has it
// and it timed faster: AVX-512 with oneDNN 2.6. On AVX2 and aarch64 these
// tests run the direct path and check that it stays there. Each check asks
// the primitive that Run uses (Conv::ImplementationFor) which algorithm it
// is, and oneDNN's implementation name must agree ("wino" in Winograd's).

bool IsWinogradName(const std::string& implementation_name) {
  return implementation_name.find("wino") != std::string::npos;
}

// The primitive Run uses for x_dims (plain, or in `layouts`) is the
// Winograd one when `winograd`, else a direct one.
void ExpectAlgorithm(const Conv& conv, const std::vector<int64_t>& x_dims,
                     const Conv::Layouts* layouts, int threads, bool winograd,
                     const std::string& what) {
  const Conv::Implementation ran =
      layouts != nullptr
          ? conv.ImplementationFor(x_dims, layouts->src, layouts->dst, threads)
          : conv.ImplementationFor(x_dims, threads);
  EXPECT_EQ(ran.algorithm,
            winograd ? Conv::Algorithm::kWinograd : Conv::Algorithm::kDirect)
      << what << ": " << ran.name;
  EXPECT_EQ(IsWinogradName(ran.name), winograd) << what << ": " << ran.name;
}

Conv MakeConv(const std::vector<int64_t>& w_dims, ConvAttributes attrs,
              bool winograd, Activation act = {}) {
  std::mt19937 rng(17);
  const std::vector<float> w = Random(Count(w_dims), rng);
  const std::vector<float> bias = Random(w_dims[0], rng);
  attrs.winograd = winograd;
  return Conv(w.data(), w_dims, bias.data(), attrs, act);
}

TEST(ConvWinogradTest, ConsideredOnlyForEligibleShapesWhenAllowed) {
  const std::vector<int64_t> x = {2, 64, 28, 28};
  const ConvAttributes same = Attrs({}, {}, {1, 1}, {1, 1});
  struct Ineligible {
    const char* why;
    Conv conv;
    std::vector<int64_t> x_dims;
  };
  const Ineligible cases[] = {
      {"not allowed", MakeConv({64, 64, 3, 3}, same, false), x},
      {"stride 2",
       MakeConv({64, 64, 3, 3}, Attrs({2, 2}, {}, {1, 1}, {1, 1}), true), x},
      {"dilation 2",
       MakeConv({64, 64, 3, 3}, Attrs({}, {2, 2}, {2, 2}, {2, 2}), true), x},
      {"2 groups",
       MakeConv({64, 32, 3, 3}, Attrs({}, {}, {1, 1}, {1, 1}, 2), true), x},
      {"1x1 kernel", MakeConv({64, 64, 1, 1}, Attrs(), true), x},
      {"8 input channels", MakeConv({64, 8, 3, 3}, same, true), {2, 8, 28, 28}},
      {"3-D",
       MakeConv({64, 64, 3, 3, 3}, Attrs({}, {}, {1, 1, 1}, {1, 1, 1}), true),
       {1, 64, 6, 6, 6}},
  };
  for (const Ineligible& c : cases) {
    EXPECT_FALSE(c.conv.UsesWinograd(c.x_dims, 1)) << c.why;
    ExpectAlgorithm(c.conv, c.x_dims, nullptr, 1, false, c.why);
  }
}

// Winograd computes each output from transformed tiles, not as one dot
// product, so the direct sum's bound (Reference's atol) does not cover it
// in theory; measured, it stays inside that bound on this shape. The slack
// of 4 is a margin, small enough that one wrong weight (~1 / (K^2 eps)
// > 30x over the bound) still fails.
constexpr float kWinogradSlack = 4.0f;

TEST(ConvWinogradTest, MatchesReferenceInItsLayoutsAndForcedOnes) {
  const std::vector<int64_t> w_dims = {64, 64, 3, 3};
  const std::vector<int64_t> x_dims = {2, 64, 20, 20};
  const ConvAttributes attrs = Attrs({}, {}, {1, 1}, {1, 1});
  const ref::ConvParams params = ToParams(attrs, 2);
  std::mt19937 rng(17);
  const std::vector<float> w = Random(Count(w_dims), rng);
  const std::vector<float> bias = Random(w_dims[0], rng);
  const std::vector<float> x = Random(Count(x_dims), rng);
  for (const Activation& act : {Activation::None(), Activation::Relu()}) {
    ConvAttributes allowed = attrs;
    allowed.winograd = true;
    const Conv conv(w.data(), w_dims, bias.data(), allowed, act);
    Expected e = Reference(x, x_dims, w, w_dims, bias.data(), params, act);
    for (int threads : {1, 2}) {
      const bool winograd = conv.UsesWinograd(x_dims, threads);
      ::testing::Test::RecordProperty(
          "winograd_" + act.ToString() + "_t" + std::to_string(threads),
          winograd ? "yes" : "no");
      Expected bound = e;
      if (winograd) {
        for (float& a : bound.atol) a *= kWinogradSlack;
      }
      const std::string what = act.ToString() + ", " + std::to_string(threads) +
                               " thread(s), " +
                               (winograd ? "Winograd" : "direct");
      std::vector<float> y(e.ref.size(), NAN);
      conv.Run(x.data(), x_dims, y.data(), threads);
      EXPECT_EQ(CountMismatches(y, bound, what + ", plain Run"), 0);
      ExpectAlgorithm(conv, x_dims, nullptr, threads, winograd,
                      what + ", plain Run");
      // The layouts it prefers (nChw16c for Winograd), and forced ones it
      // has no Winograd kernel for (the direct algorithm runs instead).
      const Conv::Layouts preferred = conv.PreferredLayouts(x_dims, threads);
      for (const Conv::Layouts layouts :
           {preferred, Conv::Layouts{Layout::kNhwc, Layout::kNhwc},
            Conv::Layouts{Layout::kNChw8c, Layout::kNChw8c}}) {
        const std::vector<int64_t> y_dims = conv.OutputDims(x_dims);
        std::vector<float> xl(
            BufferElements(SplitChannelShape(x_dims), layouts.src));
        LayoutReorder(x_dims, Layout::kNchw, layouts.src)
            .Run(x.data(), xl.data(), 1);
        std::vector<float> yl(
            BufferElements(SplitChannelShape(y_dims), layouts.dst), NAN);
        conv.Run(xl.data(), x_dims, layouts.src, yl.data(), layouts.dst,
                 threads);
        std::vector<float> got(e.ref.size());
        LayoutReorder(y_dims, layouts.dst, Layout::kNchw)
            .Run(yl.data(), got.data(), 1);
        const std::string in_layouts = what + ", " + LayoutName(layouts.src) +
                                       " -> " + LayoutName(layouts.dst);
        EXPECT_EQ(CountMismatches(got, bound, in_layouts), 0);
        // Winograd in the layouts it prefers; the forced ones run direct.
        const bool preferred_layouts =
            layouts.src == preferred.src && layouts.dst == preferred.dst;
        ExpectAlgorithm(conv, x_dims, &layouts, threads,
                        winograd && preferred_layouts, in_layouts);
      }
    }
  }
}

// The tolerance is tight enough to see one weight being wrong.
TEST(ConvTest, ToleranceDetectsOneWrongWeight) {
  std::mt19937 rng(7);
  const std::vector<int64_t> x_dims = {1, 64, 8, 8}, w_dims = {64, 64, 3, 3};
  const ConvAttributes attrs = Attrs({}, {}, {1, 1}, {1, 1});
  std::vector<float> w = Random(Count(w_dims), rng);
  const std::vector<float> x = Random(Count(x_dims), rng);
  const Expected e = Reference(x, x_dims, w, w_dims, nullptr,
                               ToParams(attrs, 2), Activation::None());
  w[(5 * 64 + 1) * 9 + 4] += 0.25f;  // centre tap, out channel 5, in 1
  const Conv conv(w.data(), w_dims, nullptr, attrs);
  std::vector<float> y(e.ref.size());
  conv.Run(x.data(), x_dims, y.data(), 1);
  int bad = 0;
  for (size_t i = 0; i < y.size(); ++i) {
    bad += std::fabs(y[i] - e.ref[i]) >
           e.atol[i] + FLT_EPSILON * std::fabs(e.ref[i]);
  }
  // All 64 outputs of channel 5 use it (the centre tap never reads padding)
  // and move by 0.25 * x, x uniform in [-1, 1]; the bound there is ~0.01.
  EXPECT_GE(bad, 55);
}

TEST(ConvTest, WeightsAndBiasAreCopied) {
  std::mt19937 rng(3);
  const std::vector<int64_t> x_dims = {1, 3, 6, 6}, w_dims = {4, 3, 3, 3};
  std::vector<float> w = Random(Count(w_dims), rng);
  std::vector<float> bias = Random(4, rng);
  const std::vector<float> x = Random(Count(x_dims), rng);
  const Expected e = Reference(x, x_dims, w, w_dims, bias.data(),
                               ToParams({}, 2), Activation::None());
  const Conv conv(w.data(), w_dims, bias.data(), {});
  std::fill(w.begin(), w.end(), 0.0f);
  std::fill(bias.begin(), bias.end(), 0.0f);
  std::vector<float> y(e.ref.size());
  conv.Run(x.data(), x_dims, y.data(), 1);
  EXPECT_EQ(CountMismatches(y, e, "copied weights"), 0);
}

// Weights shared instead of copied (the runtime's constants): held through
// the op after the caller lets go, right for a second input shape (a second
// primitive, its weights reordered from the first packed copy), freed with
// the op at the latest.
TEST(ConvTest, SharedWeightsOutliveTheCaller) {
  std::mt19937 rng(4);
  const std::vector<int64_t> w_dims = {8, 3, 3, 3};
  const std::vector<float> w = Random(Count(w_dims), rng);
  const std::vector<float> bias = Random(8, rng);
  bool freed = false;
  std::shared_ptr<const float> shared = test::SharedCopy(w, &freed);
  {
    const Conv conv(SharedFloats{std::move(shared)}, w_dims, bias.data(), {});
    for (const std::vector<int64_t>& x_dims :
         std::vector<std::vector<int64_t>>{{1, 3, 6, 6}, {2, 3, 9, 7}}) {
      const std::vector<float> x = Random(Count(x_dims), rng);
      const Expected e = Reference(x, x_dims, w, w_dims, bias.data(),
                                   ToParams({}, 2), Activation::None());
      for (int threads : {1, 2}) {
        std::vector<float> y(e.ref.size(), NAN);
        conv.Run(x.data(), x_dims, y.data(), threads);
        EXPECT_EQ(CountMismatches(y, e, "shared weights"), 0)
            << ShapeToString(x_dims) << " threads " << threads;
      }
    }
  }
  EXPECT_TRUE(freed);
}

TEST(ConvTest, ZeroBatch) {
  const std::vector<float> w(4 * 3 * 3 * 3, 1.0f);
  const Conv conv(w.data(), {4, 3, 3, 3}, nullptr, {});
  EXPECT_EQ(conv.OutputDims({0, 3, 5, 5}), (std::vector<int64_t>{0, 4, 3, 3}));
  conv.Run(nullptr, {0, 3, 5, 5}, nullptr, 1);
}

// One object, two threads, different batch sizes and thread counts, each
// building its primitive while the other runs.
TEST(ConvTest, ConcurrentRunsOnOneObject) {
  std::mt19937 rng(11);
  const std::vector<int64_t> w_dims = {24, 8, 3, 3};
  const ConvAttributes attrs = Attrs({1, 1}, {}, {1, 1}, {1, 1}, 2);
  const std::vector<float> w = Random(Count(w_dims), rng);
  const std::vector<float> bias = Random(24, rng);
  const Conv conv(w.data(), w_dims, bias.data(), attrs, Activation::Relu());
  std::vector<test::ConcurrentJob> jobs = {{{1, 16, 10, 12}, 1},
                                           {{3, 16, 10, 12}, 2}};
  for (test::ConcurrentJob& job : jobs) {
    job.x = Random(Count(job.x_dims), rng);
    job.e = Reference(job.x, job.x_dims, w, w_dims, bias.data(),
                      ToParams(attrs, 2), Activation::Relu());
  }
  test::ExpectConcurrentRunsMatch(conv, std::move(jobs), 20);
}

TEST(ConvTest, RejectsBadConstruction) {
  const std::vector<float> w(1024, 1.0f);
  EXPECT_THROW(Conv(nullptr, {4, 3, 3, 3}, nullptr, {}), InvalidArgumentError);
  EXPECT_THROW(Conv(w.data(), {4, 3}, nullptr, {}), InvalidArgumentError);
  EXPECT_THROW(Conv(w.data(), {1, 1, 1, 1, 1, 1}, nullptr, {}),
               InvalidArgumentError);
  EXPECT_THROW(Conv(w.data(), {4, 0, 3, 3}, nullptr, {}), InvalidArgumentError);
  EXPECT_THROW(Conv(w.data(), {4, 3, 3, 3}, nullptr, Attrs({1})),
               InvalidArgumentError);  // strides for 1 axis, W has 2
  EXPECT_THROW(Conv(w.data(), {4, 3, 3, 3}, nullptr, Attrs({0, 1})),
               InvalidArgumentError);  // stride 0
  EXPECT_THROW(Conv(w.data(), {4, 3, 3, 3}, nullptr, Attrs({}, {1, 0})),
               InvalidArgumentError);  // dilation 0
  EXPECT_THROW(Conv(w.data(), {4, 3, 3, 3}, nullptr, Attrs({}, {}, {-1, 0})),
               InvalidArgumentError);  // negative pad
  EXPECT_THROW(Conv(w.data(), {4, 3, 3, 3}, nullptr, {{}, {}, {}, {}, 0}),
               InvalidArgumentError);  // group 0
  EXPECT_THROW(Conv(w.data(), {4, 3, 3, 3}, nullptr, {{}, {}, {}, {}, 3}),
               InvalidArgumentError);  // 3 groups do not divide Cout 4
}

TEST(ConvTest, RejectsBadInputWithoutWritingOutput) {
  const std::vector<float> w(4 * 2 * 3 * 3, 1.0f);
  const Conv conv(w.data(), {4, 2, 3, 3}, nullptr, {{}, {}, {}, {}, 2});
  const std::vector<float> x(1000, 1.0f);
  const std::vector<std::vector<int64_t>> bad = {
      {1, 4, 5},           // rank 3 for a 2-D kernel
      {1, 3, 5, 5},        // 3 channels, W wants 2 per group x 2 groups
      {1, 4, 2, 5},        // kernel taller than the input
      {1, 4, -5, 5},       // negative dim
      {1, 4, 5, 5, 5, 5},  // rank 6
  };
  test::ExpectRejectedWithoutWritingOutput(conv, bad);
  std::vector<float> y(100);
  EXPECT_THROW(conv.Run(x.data(), {1, 4, 5, 5}, y.data(), -1),
               InvalidArgumentError);
}

}  // namespace
}  // namespace foldrt::ops
