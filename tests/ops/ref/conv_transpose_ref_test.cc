// ConvTransposeRef: hand-computed cases, and the defining property that
// ConvTranspose is the adjoint of Conv with the same weights:
// <conv(x), y> == <x, conv_transpose(y)> for every x and y, across ranks,
// strides, dilations, asymmetric pads and groups.
#include "ops/ref/conv_transpose_ref.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "core/error.h"
#include "core/tensor.h"
#include "ops/ref/conv_ref.h"
#include "ops/ref/shape_util.h"
#include "tests/ops/ref/ref_test_util.h"

namespace foldrt::ops::ref {
namespace {

using test::RandomTensor;

std::vector<float> ConvTranspose(const std::vector<float>& x,
                                 const std::vector<int64_t>& x_shape,
                                 const std::vector<float>& w,
                                 const std::vector<int64_t>& w_shape,
                                 const std::vector<float>* bias,
                                 const ConvTransposeParams& params) {
  return test::RunIntoNew(
      ConvTransposeOutputShape(x_shape, w_shape, params), [&](float* y) {
        ConvTransposeRef(x.data(), x_shape, w.data(), w_shape,
                         bias != nullptr ? bias->data() : nullptr, params, y);
      });
}

TEST(ConvTransposeRefTest, StridedScatterByHand) {
  // Each input element spreads over three outputs, two apart.
  ConvTransposeParams params = DefaultConvTransposeParams(1);
  params.conv.strides = {2};
  EXPECT_EQ(ConvTransposeOutputShape({1, 1, 2}, {1, 1, 3}, params),
            (std::vector<int64_t>{1, 1, 5}));
  EXPECT_EQ(
      ConvTranspose({1, 2}, {1, 1, 2}, {1, 1, 1}, {1, 1, 3}, nullptr, params),
      (std::vector<float>{1, 1, 3, 2, 2}));

  // Pads crop the full output; output_padding adds bias-only rows at the end.
  ConvTransposeParams cropped = params;
  cropped.conv.pads_begin = {1};
  cropped.conv.pads_end = {1};
  EXPECT_EQ(
      ConvTranspose({1, 2}, {1, 1, 2}, {1, 1, 1}, {1, 1, 3}, nullptr, cropped),
      (std::vector<float>{1, 3, 2}));
  ConvTransposeParams padded_out = params;
  padded_out.output_padding = {1};
  const std::vector<float> bias = {10};
  EXPECT_EQ(
      ConvTranspose({1, 2}, {1, 1, 2}, {1, 1, 1}, {1, 1, 3}, &bias, padded_out),
      (std::vector<float>{11, 11, 13, 12, 12, 10}));
}

TEST(ConvTransposeRefTest, GroupsMapInputGroupToItsOutputChannels) {
  // 2 groups, 1 input and 2 output channels each: W is (Cin=2, Cout/g=2, 1).
  ConvTransposeParams params = DefaultConvTransposeParams(1);
  params.conv.groups = 2;
  const std::vector<float> x = {1, 2, 3, 4};  // channel 0: 1 2, channel 1: 3 4
  const std::vector<float> w = {1, 10, 100, 1000};
  EXPECT_EQ(ConvTranspose(x, {1, 2, 2}, w, {2, 2, 1}, nullptr, params),
            (std::vector<float>{1, 2, 10, 20, 300, 400, 3000, 4000}));
}

struct AdjointCase {
  std::vector<int64_t> x_shape;  // Conv input (N, Cin, spatial...)
  int64_t out_channels;
  std::vector<int64_t> kernel;
  std::vector<int64_t> strides;
  std::vector<int64_t> dilations;
  std::vector<int64_t> pads_begin;
  std::vector<int64_t> pads_end;
  int64_t groups;
};

TEST(ConvTransposeRefTest, IsTheAdjointOfConvWithTheSameWeights) {
  const AdjointCase cases[] = {
      {{2, 3, 11}, 4, {3}, {2}, {1}, {1}, {0}, 1},
      {{1, 4, 7, 8}, 6, {3, 2}, {2, 3}, {1, 2}, {1, 0}, {2, 1}, 2},
      {{2, 8, 6, 6}, 8, {3, 3}, {1, 1}, {1, 1}, {1, 1}, {1, 1}, 8},
      {{1, 2, 9, 7}, 3, {4, 3}, {3, 2}, {2, 1}, {0, 2}, {1, 0}, 1},
      {{1, 4, 5, 6, 5},
       2,
       {2, 3, 2},
       {2, 1, 2},
       {1, 2, 1},
       {1, 1, 0},
       {0, 1, 1},
       2},
  };
  uint32_t seed = 100;
  for (const AdjointCase& c : cases) {
    const size_t rank = c.kernel.size();
    SCOPED_TRACE(testing::Message()
                 << "x " << ShapeToString(c.x_shape) << " kernel "
                 << ShapeToString(c.kernel) << " groups " << c.groups);
    ConvParams conv = DefaultConvParams(rank);
    conv.strides = c.strides;
    conv.dilations = c.dilations;
    conv.pads_begin = c.pads_begin;
    conv.pads_end = c.pads_end;
    conv.groups = c.groups;
    std::vector<int64_t> w_shape = {c.out_channels, c.x_shape[1] / c.groups};
    w_shape.insert(w_shape.end(), c.kernel.begin(), c.kernel.end());
    const std::vector<int64_t> y_shape =
        ConvOutputShape(c.x_shape, w_shape, conv);

    // The transposed conv maps y's shape back onto x's: output_padding
    // supplies the rows that the strided forward conv never reached.
    ConvTransposeParams transposed = DefaultConvTransposeParams(rank);
    transposed.conv = conv;
    for (size_t i = 0; i < rank; ++i) {
      const int64_t reached = c.strides[i] * (y_shape[2 + i] - 1) +
                              c.dilations[i] * (c.kernel[i] - 1) + 1 -
                              c.pads_begin[i] - c.pads_end[i];
      transposed.output_padding.at(i) = c.x_shape[2 + i] - reached;
    }
    ASSERT_EQ(ConvTransposeOutputShape(y_shape, w_shape, transposed),
              c.x_shape);

    const std::vector<float> x = RandomTensor(c.x_shape, seed++);
    const std::vector<float> y = RandomTensor(y_shape, seed++);
    const std::vector<float> w = RandomTensor(w_shape, seed++);
    std::vector<float> conv_x(y.size());
    ConvRef(x.data(), c.x_shape, w.data(), w_shape, nullptr, conv,
            conv_x.data());
    std::vector<float> transposed_y(x.size());
    ConvTransposeRef(y.data(), y_shape, w.data(), w_shape, nullptr, transposed,
                     transposed_y.data());

    double lhs = 0.0;
    double lhs_magnitude = 0.0;
    for (size_t i = 0; i < y.size(); ++i) {
      lhs += static_cast<double>(conv_x[i]) * y[i];
      lhs_magnitude += std::abs(static_cast<double>(conv_x[i]) * y[i]);
    }
    double rhs = 0.0;
    for (size_t i = 0; i < x.size(); ++i) {
      rhs += static_cast<double>(x[i]) * transposed_y[i];
    }
    // Both sides are the same sum of w * x * y products; they differ only by
    // the float rounding of each op's outputs (relative 2^-24 per value).
    EXPECT_NEAR(lhs, rhs, 1e-6 * lhs_magnitude);
    EXPECT_GT(lhs_magnitude, 1.0);  // a non-trivial inner product
  }
}

TEST(ConvTransposeRefTest, OutputSizeSetsPadsWithTheOddCropAtTheEnd) {
  // onnx/onnx#4527: in 16, stride 2, kernel 3 gives 33 uncropped; 32 asked.
  ConvTransposeParams params = DefaultConvTransposeParams(2);
  params.conv.strides = {2, 2};
  SetConvTransposeOutputSize({1, 1, 16, 16}, {1, 1, 3, 3}, {32, 30}, &params);
  EXPECT_EQ(params.conv.pads_begin, (std::vector<int64_t>{0, 1}));
  EXPECT_EQ(params.conv.pads_end, (std::vector<int64_t>{1, 2}));
  EXPECT_EQ(ConvTransposeOutputShape({1, 1, 16, 16}, {1, 1, 3, 3}, params),
            (std::vector<int64_t>{1, 1, 32, 30}));
  EXPECT_THROW(SetConvTransposeOutputSize({1, 1, 16, 16}, {1, 1, 3, 3},
                                          {34, 32}, &params),
               InvalidArgumentError);
}

TEST(ConvTransposeRefTest, RejectsShapesThatDoNotFit) {
  const ConvTransposeParams params = DefaultConvTransposeParams(2);
  // W's first axis must be the input channel count.
  EXPECT_THROW(ConvTransposeOutputShape({1, 4, 5, 5}, {3, 2, 3, 3}, params),
               InvalidArgumentError);
  ConvTransposeParams grouped = params;
  grouped.conv.groups = 3;
  EXPECT_THROW(ConvTransposeOutputShape({1, 4, 5, 5}, {4, 2, 3, 3}, grouped),
               InvalidArgumentError);
  ConvTransposeParams over_cropped = params;
  over_cropped.conv.pads_begin = {4, 0};
  over_cropped.conv.pads_end = {3, 0};
  EXPECT_THROW(
      ConvTransposeOutputShape({1, 1, 5, 5}, {1, 1, 3, 3}, over_cropped),
      InvalidArgumentError);
}

}  // namespace
}  // namespace foldrt::ops::ref
