#include "ops/conv_transpose.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstdint>
#include <ostream>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "core/error.h"
#include "core/tensor.h"
#include "ops/activation.h"
#include "ops/ref/conv_ref.h"
#include "ops/ref/conv_transpose_ref.h"
#include "ops/ref/shape_util.h"
#include "tests/ops/ops_test_util.h"

namespace foldrt::ops {
namespace {

using test::Count;
using test::CountMismatches;
using test::Expected;
using test::Random;

ConvTransposeAttributes Attrs(std::vector<int64_t> strides = {},
                              std::vector<int64_t> dilations = {},
                              std::vector<int64_t> pads_begin = {},
                              std::vector<int64_t> pads_end = {},
                              std::vector<int64_t> output_padding = {},
                              int64_t groups = 1) {
  ConvTransposeAttributes a;
  a.strides = std::move(strides);
  a.dilations = std::move(dilations);
  a.pads_begin = std::move(pads_begin);
  a.pads_end = std::move(pads_end);
  a.output_padding = std::move(output_padding);
  a.groups = groups;
  return a;
}

ref::ConvTransposeParams ToParams(const ConvTransposeAttributes& attrs,
                                  size_t spatial_rank) {
  ref::ConvTransposeParams p = ref::DefaultConvTransposeParams(spatial_rank);
  p.conv = ref::ConvParamsWithDefaults(
      "ConvTranspose test", spatial_rank, attrs.strides, attrs.dilations,
      attrs.pads_begin, attrs.pads_end, attrs.groups);
  if (!attrs.output_padding.empty()) p.output_padding = attrs.output_padding;
  return p;
}

// Expected output and its error bound; see conv_test.cc for the derivation.
// Each output of a transposed convolution sums at most one product per
// (input channel of its group, kernel tap), K = Cin / groups * prod(kernel),
// plus the bias: atol = (K + 1) * FLT_EPSILON * sum |w| |x| + |bias| (twice
// gamma_{K+1}), rtol = FLT_EPSILON for the reference's own rounding.
Expected Reference(const std::vector<float>& x,
                   const std::vector<int64_t>& x_dims,
                   const std::vector<float>& w,
                   const std::vector<int64_t>& w_dims, const float* bias,
                   const ref::ConvTransposeParams& params,
                   const Activation& act) {
  const std::vector<int64_t> y_dims =
      ref::ConvTransposeOutputShape(x_dims, w_dims, params);
  return test::SumOfProductsReference(
      Count(y_dims), x, w, bias, static_cast<size_t>(y_dims[1]), act,
      Count(w_dims) / w_dims[1] / params.conv.groups,
      [&](const float* xs, const float* ws, const float* b, float* y) {
        ref::ConvTransposeRef(xs, x_dims, ws, w_dims, b, params, y);
      });
}

struct ConvTransposeCase {
  std::string name;
  std::vector<int64_t> x_dims;  // batch overwritten per run
  std::vector<int64_t> w_dims;  // (Cin, Cout / groups, k...)
  ConvTransposeAttributes attrs;
  bool with_bias = true;
};

// gtest prints parameters on failure; the name says it all.
void PrintTo(const ConvTransposeCase& c, std::ostream* os) { *os << c.name; }

std::vector<ConvTransposeCase> Cases() {
  std::vector<ConvTransposeCase> c;
  // 1-D.
  c.push_back({"1d_3to5_stride2_outpad1",
               {1, 3, 7},
               {3, 5, 3},
               Attrs({2}, {}, {1}, {0}, {1})});
  c.push_back({"1d_groups2_stride3_dil2_outpad2",
               {1, 4, 9},
               {4, 3, 4},
               Attrs({3}, {2}, {2}, {1}, {2}, 2)});
  // 2-D.
  c.push_back({"2d_3to8_stride2_pad1_outpad1",
               {1, 3, 5, 6},
               {3, 8, 3, 3},
               Attrs({2, 2}, {}, {1, 1}, {1, 1}, {1, 1})});
  c.push_back({"2d_groups3_mixed",
               {1, 6, 5, 4},
               {6, 2, 3, 2},
               Attrs({2, 1}, {1, 2}, {1, 0}, {0, 2}, {1, 0}, 3)});
  // Cin / g = 2 but Cout / g = 5: a swapped transposition shows.
  c.push_back({"2d_groups2_in2_out5",
               {1, 4, 6, 6},
               {4, 5, 3, 3},
               Attrs({1, 1}, {}, {1, 1}, {1, 1}, {}, 2)});
  c.push_back({"2d_groups4_in3_out2_stride2",
               {1, 12, 4, 5},
               {12, 2, 2, 3},
               Attrs({2, 2}, {}, {0, 1}, {0, 1}, {1, 1}, 4)});
  c.push_back({"2d_depthwise17_stride2",
               {1, 17, 5, 5},
               {17, 1, 4, 4},
               Attrs({2, 2}, {}, {1, 1}, {1, 1}, {}, 17)});
  c.push_back({"2d_17to3_upsample_nobias",
               {1, 17, 4, 4},
               {17, 3, 2, 2},
               Attrs({2, 2}, {}, {}, {}, {}),
               false});
  c.push_back({"2d_32to16_k4_stride2_pad1",
               {1, 32, 6, 6},
               {32, 16, 4, 4},
               Attrs({2, 2}, {}, {1, 1}, {1, 1})});
  c.push_back({"2d_pads_above_outpad",
               {1, 5, 4, 7},
               {5, 4, 3, 3},
               Attrs({2, 3}, {}, {0, 2}, {2, 1}, {1, 2})});
  c.push_back({"2d_defaults", {1, 3, 4, 4}, {3, 2, 2, 2}, Attrs()});
  // 3-D.
  c.push_back({"3d_4to3_strides_asym_outpad",
               {1, 4, 3, 4, 5},
               {4, 3, 3, 3, 3},
               Attrs({2, 1, 2}, {}, {1, 0, 1}, {0, 1, 1}, {1, 0, 0})});
  c.push_back({"3d_groups3_dil",
               {1, 6, 3, 3, 3},
               {6, 2, 2, 2, 2},
               Attrs({2, 2, 2}, {1, 2, 1}, {}, {}, {}, 3)});
  return c;
}

class ConvTransposeSweep : public ::testing::TestWithParam<ConvTransposeCase> {
};

TEST_P(ConvTransposeSweep, MatchesReference) {
  const ConvTransposeCase& cc = GetParam();
  std::mt19937 rng(4321);
  const std::vector<float> w = Random(Count(cc.w_dims), rng);
  const std::vector<float> bias = Random(cc.w_dims[1] * cc.attrs.groups, rng);
  const float* bias_ptr = cc.with_bias ? bias.data() : nullptr;
  const ref::ConvTransposeParams params =
      ToParams(cc.attrs, cc.w_dims.size() - 2);
  for (const Activation& act : test::SweepActivations()) {
    const ConvTranspose op(w.data(), cc.w_dims, bias_ptr, cc.attrs, act);
    ASSERT_NO_FATAL_FAILURE(test::ExpectBatchesAndThreadsMatch(
        op, cc.x_dims, rng, cc.name + " act " + act.ToString(),
        [&](const std::vector<int64_t>& x_dims) {
          return ref::ConvTransposeOutputShape(x_dims, cc.w_dims, params);
        },
        [&](const std::vector<float>& x, const std::vector<int64_t>& x_dims) {
          return Reference(x, x_dims, w, cc.w_dims, bias_ptr, params, act);
        }));
  }
}

INSTANTIATE_TEST_SUITE_P(Configs, ConvTransposeSweep,
                         ::testing::ValuesIn(Cases()),
                         [](const auto& info) { return info.param.name; });

// The group/channel layout written out by hand, independent of the
// reference: with a 1x1 kernel, stride 1, ConvTranspose is per-group
// y[g * Cout/g + j] = sum_i x[g * Cin/g + i] * W[g * Cin/g + i, j].
TEST(ConvTransposeTest, GroupedWeightsByHand) {
  const int64_t groups = 3, in_per_group = 2, out_per_group = 4;
  const int64_t cin = groups * in_per_group, cout = groups * out_per_group;
  const int64_t plane = 5;
  std::vector<float> w(cin * out_per_group);
  for (size_t i = 0; i < w.size(); ++i) w[i] = static_cast<float>(i + 1);
  std::vector<float> x(cin * plane);
  for (size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>(i % 7) - 3;
  const ConvTranspose op(w.data(), {cin, out_per_group, 1, 1}, nullptr,
                         Attrs({}, {}, {}, {}, {}, groups));
  std::vector<float> y(cout * plane);
  op.Run(x.data(), {1, cin, 1, plane}, y.data(), 1);
  for (int64_t g = 0; g < groups; ++g) {
    for (int64_t j = 0; j < out_per_group; ++j) {
      for (int64_t p = 0; p < plane; ++p) {
        float expected = 0;  // small integers: exact in float
        for (int64_t i = 0; i < in_per_group; ++i) {
          const int64_t ic = g * in_per_group + i;
          expected += x[ic * plane + p] * w[ic * out_per_group + j];
        }
        EXPECT_EQ(y[(g * out_per_group + j) * plane + p], expected)
            << "group " << g << " out " << j << " position " << p;
      }
    }
  }
}

TEST(ConvTransposeTest, ZeroBatch) {
  const std::vector<float> w(3 * 2 * 2 * 2, 1.0f);
  const ConvTranspose op(w.data(), {3, 2, 2, 2}, nullptr, Attrs({2, 2}));
  EXPECT_EQ(op.OutputDims({0, 3, 4, 4}), (std::vector<int64_t>{0, 2, 8, 8}));
  op.Run(nullptr, {0, 3, 4, 4}, nullptr, 1);
}

TEST(ConvTransposeTest, ConcurrentRunsOnOneObject) {
  std::mt19937 rng(12);
  const std::vector<int64_t> w_dims = {16, 6, 3, 3};
  const ConvTransposeAttributes attrs =
      Attrs({2, 2}, {}, {1, 1}, {1, 1}, {1, 1}, 2);
  const std::vector<float> w = Random(Count(w_dims), rng);
  const std::vector<float> bias = Random(12, rng);
  const ConvTranspose op(w.data(), w_dims, bias.data(), attrs,
                         Activation::Clip(0.0f, 6.0f));
  std::vector<test::ConcurrentJob> jobs = {{{1, 16, 7, 6}, 2},
                                           {{3, 16, 7, 6}, 1}};
  for (test::ConcurrentJob& job : jobs) {
    job.x = Random(Count(job.x_dims), rng);
    job.e = Reference(job.x, job.x_dims, w, w_dims, bias.data(),
                      ToParams(attrs, 2), Activation::Clip(0.0f, 6.0f));
  }
  test::ExpectConcurrentRunsMatch(op, std::move(jobs), 20);
}

TEST(ConvTransposeTest, RejectsBadConstruction) {
  const std::vector<float> w(1024, 1.0f);
  const std::vector<int64_t> dims = {4, 3, 3, 3};
  EXPECT_THROW(ConvTranspose(nullptr, dims, nullptr, {}), InvalidArgumentError);
  EXPECT_THROW(ConvTranspose(w.data(), {4, 3}, nullptr, {}),
               InvalidArgumentError);
  EXPECT_THROW(ConvTranspose(w.data(), {4, 3, 0, 3}, nullptr, {}),
               InvalidArgumentError);
  EXPECT_THROW(ConvTranspose(w.data(), dims, nullptr, Attrs({2})),
               InvalidArgumentError);  // strides for 1 axis, W has 2
  EXPECT_THROW(ConvTranspose(w.data(), dims, nullptr, Attrs({0, 1})),
               InvalidArgumentError);
  EXPECT_THROW(
      ConvTranspose(w.data(), dims, nullptr, Attrs({}, {}, {}, {}, {-1, 0})),
      InvalidArgumentError);  // negative output_padding
  EXPECT_THROW(
      ConvTranspose(w.data(), dims, nullptr, Attrs({}, {}, {}, {}, {}, 3)),
      InvalidArgumentError);  // 3 groups do not divide Cin 4
  // output_padding 2 with stride 2, no end pad: ONNX allows it with
  // dilation 3, oneDNN cannot express it.
  EXPECT_THROW(ConvTranspose(w.data(), dims, nullptr,
                             Attrs({2, 2}, {3, 3}, {}, {}, {2, 0})),
               UnsupportedError);
}

TEST(ConvTransposeTest, RejectsBadInputWithoutWritingOutput) {
  const std::vector<float> w(4 * 3 * 3 * 3, 1.0f);
  const ConvTranspose op(w.data(), {4, 3, 3, 3}, nullptr,
                         Attrs({}, {}, {2, 2}, {2, 2}, {}, 2));
  const std::vector<std::vector<int64_t>> bad = {
      {1, 4, 5},     // rank 3 for a 2-D kernel
      {1, 6, 5, 5},  // 6 channels, W has 4
      {1, 4, 1, 5},  // pads crop the whole output along H (1 + 2 - 4)
      {1, 4, -5, 5},
  };
  test::ExpectRejectedWithoutWritingOutput(op, bad);
}

}  // namespace
}  // namespace foldrt::ops
