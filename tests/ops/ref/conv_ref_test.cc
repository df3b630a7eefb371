// ConvRef: small cases worked out by hand (padding, strides, dilations,
// asymmetric pads), and identities that tie the general loop nest to simpler
// computations (1x1 conv = matmul, groups = separate convs, 3-D with a flat
// kernel = 2-D per slice, 1-D = 2-D of height 1).
#include "ops/ref/conv_ref.h"

#include <gtest/gtest.h>

#include <vector>

#include "core/error.h"
#include "core/tensor.h"
#include "ops/ref/shape_util.h"
#include "tests/ops/ref/ref_test_util.h"

namespace foldrt::ops::ref {
namespace {

using test::RandomTensor;

std::vector<float> Conv(const std::vector<float>& x,
                        const std::vector<int64_t>& x_shape,
                        const std::vector<float>& w,
                        const std::vector<int64_t>& w_shape,
                        const std::vector<float>* bias,
                        const ConvParams& params) {
  return test::RunIntoNew(
      ConvOutputShape(x_shape, w_shape, params), [&](float* y) {
        ConvRef(x.data(), x_shape, w.data(), w_shape,
                bias != nullptr ? bias->data() : nullptr, params, y);
      });
}

TEST(ConvRefTest, PaddedThreeByThreeOfOnesSumsNeighbourhoods) {
  const std::vector<float> x = {1, 2, 3, 4, 5, 6, 7, 8, 9};
  const std::vector<float> w(9, 1.0f);
  ConvParams params = DefaultConvParams(2);
  params.pads_begin = {1, 1};
  params.pads_end = {1, 1};
  EXPECT_EQ(ConvOutputShape({1, 1, 3, 3}, {1, 1, 3, 3}, params),
            (std::vector<int64_t>{1, 1, 3, 3}));
  EXPECT_EQ(Conv(x, {1, 1, 3, 3}, w, {1, 1, 3, 3}, nullptr, params),
            (std::vector<float>{12, 21, 16, 27, 45, 33, 24, 39, 28}));

  params.strides = {2, 2};
  const std::vector<float> bias = {0.5f};
  EXPECT_EQ(Conv(x, {1, 1, 3, 3}, w, {1, 1, 3, 3}, &bias, params),
            (std::vector<float>{12.5f, 16.5f, 24.5f, 28.5f}));
}

TEST(ConvRefTest, DilationAndAsymmetricPadsByHand) {
  // y[i] = x[i] + 10 x[i + 2].
  ConvParams dilated = DefaultConvParams(1);
  dilated.dilations = {2};
  EXPECT_EQ(
      Conv({1, 2, 3, 4, 5}, {1, 1, 5}, {1, 10}, {1, 1, 2}, nullptr, dilated),
      (std::vector<float>{31, 42, 53}));

  ConvParams pad_end = DefaultConvParams(1);
  pad_end.pads_end = {1};
  EXPECT_EQ(Conv({1, 2, 3}, {1, 1, 3}, {1, 1}, {1, 1, 2}, nullptr, pad_end),
            (std::vector<float>{3, 5, 3}));
  ConvParams pad_begin = DefaultConvParams(1);
  pad_begin.pads_begin = {1};
  EXPECT_EQ(Conv({1, 2, 3}, {1, 1, 3}, {1, 1}, {1, 1, 2}, nullptr, pad_begin),
            (std::vector<float>{1, 3, 5}));
}

TEST(ConvRefTest, OneByOneConvIsAMatMulPerPixel) {
  const std::vector<int64_t> x_shape = {2, 5, 3, 4};
  const std::vector<int64_t> w_shape = {7, 5, 1, 1};
  const std::vector<float> x = RandomTensor(x_shape, 1);
  const std::vector<float> w = RandomTensor(w_shape, 2);
  const std::vector<float> bias = RandomTensor({7}, 3);
  const std::vector<float> y =
      Conv(x, x_shape, w, w_shape, &bias, DefaultConvParams(2));
  ASSERT_EQ(y.size(), 2u * 7 * 12);
  for (int n = 0; n < 2; ++n) {
    for (int o = 0; o < 7; ++o) {
      for (int p = 0; p < 12; ++p) {
        double expected = bias[o];
        for (int c = 0; c < 5; ++c) {
          expected +=
              static_cast<double>(w[o * 5 + c]) * x[(n * 5 + c) * 12 + p];
        }
        EXPECT_EQ(y[(n * 7 + o) * 12 + p], static_cast<float>(expected));
      }
    }
  }
}

// A grouped conv is `groups` independent convs on slices of the channels.
void ExpectGroupsAreSeparateConvs(int64_t batch, int64_t in_channels,
                                  int64_t out_channels, int64_t groups,
                                  uint32_t seed) {
  SCOPED_TRACE(testing::Message() << "groups " << groups);
  const int64_t in_per_group = in_channels / groups;
  const int64_t out_per_group = out_channels / groups;
  const std::vector<int64_t> x_shape = {batch, in_channels, 6, 5};
  const std::vector<int64_t> w_shape = {out_channels, in_per_group, 3, 3};
  const std::vector<float> x = RandomTensor(x_shape, seed);
  const std::vector<float> w = RandomTensor(w_shape, seed + 1);
  const std::vector<float> bias = RandomTensor({out_channels}, seed + 2);
  ConvParams params = DefaultConvParams(2);
  params.strides = {2, 1};
  params.pads_begin = {1, 0};
  params.pads_end = {0, 2};
  params.groups = groups;
  const std::vector<int64_t> y_shape =
      ConvOutputShape(x_shape, w_shape, params);
  const std::vector<float> y = Conv(x, x_shape, w, w_shape, &bias, params);
  const int64_t x_plane = 6 * 5;
  const int64_t y_plane = y_shape[2] * y_shape[3];
  const int64_t w_size = in_per_group * 9;

  ConvParams single = params;
  single.groups = 1;
  for (int64_t g = 0; g < groups; ++g) {
    std::vector<float> x_g;
    for (int64_t n = 0; n < batch; ++n) {
      const float* from =
          x.data() + (n * in_channels + g * in_per_group) * x_plane;
      x_g.insert(x_g.end(), from, from + in_per_group * x_plane);
    }
    const std::vector<float> w_g(w.begin() + g * out_per_group * w_size,
                                 w.begin() + (g + 1) * out_per_group * w_size);
    const std::vector<float> bias_g(bias.begin() + g * out_per_group,
                                    bias.begin() + (g + 1) * out_per_group);
    const std::vector<float> y_g =
        Conv(x_g, {batch, in_per_group, 6, 5}, w_g,
             {out_per_group, in_per_group, 3, 3}, &bias_g, single);
    for (int64_t n = 0; n < batch; ++n) {
      for (int64_t i = 0; i < out_per_group * y_plane; ++i) {
        ASSERT_EQ(y[(n * out_channels + g * out_per_group) * y_plane + i],
                  y_g[n * out_per_group * y_plane + i]);
      }
    }
  }
}

TEST(ConvRefTest, GroupedConvIsSeparateConvsPerGroup) {
  ExpectGroupsAreSeparateConvs(2, 4, 6, 2, 10);
  ExpectGroupsAreSeparateConvs(1, 6, 3, 3, 20);
}

TEST(ConvRefTest, DepthwiseConvIsOneConvPerChannel) {
  ExpectGroupsAreSeparateConvs(2, 5, 5, 5, 30);
  ExpectGroupsAreSeparateConvs(1, 4, 8, 4, 40);  // channel multiplier 2
}

TEST(ConvRefTest, ThreeDConvWithFlatKernelIsTwoDConvPerSlice) {
  const std::vector<int64_t> x_shape = {1, 3, 4, 5, 6};
  const std::vector<int64_t> w_shape = {2, 3, 1, 3, 3};
  const std::vector<float> x = RandomTensor(x_shape, 50);
  const std::vector<float> w = RandomTensor(w_shape, 51);
  ConvParams params = DefaultConvParams(3);
  params.pads_begin = {0, 1, 1};
  params.pads_end = {0, 1, 2};
  params.dilations = {1, 1, 2};
  const std::vector<int64_t> y_shape =
      ConvOutputShape(x_shape, w_shape, params);
  ASSERT_EQ(y_shape, (std::vector<int64_t>{1, 2, 4, 5, 5}));
  const std::vector<float> y = Conv(x, x_shape, w, w_shape, nullptr, params);

  ConvParams params_2d = DefaultConvParams(2);
  params_2d.pads_begin = {1, 1};
  params_2d.pads_end = {1, 2};
  params_2d.dilations = {1, 2};
  for (int64_t d = 0; d < 4; ++d) {
    std::vector<float> slice;
    for (int64_t c = 0; c < 3; ++c) {
      const float* from = x.data() + (c * 4 + d) * 30;
      slice.insert(slice.end(), from, from + 30);
    }
    const std::vector<float> y_2d =
        Conv(slice, {1, 3, 5, 6}, w, {2, 3, 3, 3}, nullptr, params_2d);
    for (int64_t o = 0; o < 2; ++o) {
      for (int64_t i = 0; i < 25; ++i) {
        ASSERT_EQ(y[(o * 4 + d) * 25 + i], y_2d[o * 25 + i]);
      }
    }
  }
}

TEST(ConvRefTest, OneDConvIsTwoDConvOfHeightOne) {
  const std::vector<float> x = RandomTensor({2, 3, 9}, 60);
  const std::vector<float> w = RandomTensor({4, 3, 3}, 61);
  ConvParams params_1d = DefaultConvParams(1);
  params_1d.strides = {2};
  params_1d.pads_begin = {2};
  params_1d.pads_end = {1};
  ConvParams params_2d = DefaultConvParams(2);
  params_2d.strides = {1, 2};
  params_2d.pads_begin = {0, 2};
  params_2d.pads_end = {0, 1};
  EXPECT_EQ(Conv(x, {2, 3, 9}, w, {4, 3, 3}, nullptr, params_1d),
            Conv(x, {2, 3, 1, 9}, w, {4, 3, 1, 3}, nullptr, params_2d));
}

TEST(ConvRefTest, RejectsShapesThatDoNotFit) {
  const ConvParams params = DefaultConvParams(2);
  // Channel count of W does not match x.
  EXPECT_THROW(ConvOutputShape({1, 4, 5, 5}, {2, 3, 3, 3}, params),
               InvalidArgumentError);
  // Kernel larger than the (unpadded) input.
  EXPECT_THROW(ConvOutputShape({1, 1, 2, 2}, {1, 1, 3, 3}, params),
               InvalidArgumentError);
  // Groups that do not divide the channels.
  ConvParams grouped = params;
  grouped.groups = 3;
  EXPECT_THROW(ConvOutputShape({1, 4, 5, 5}, {3, 1, 3, 3}, grouped),
               InvalidArgumentError);
  // Rank 2 input, and parameters of the wrong length.
  EXPECT_THROW(ConvOutputShape({1, 4}, {2, 4}, DefaultConvParams(0)),
               InvalidArgumentError);
  EXPECT_THROW(
      ConvOutputShape({1, 1, 5, 5}, {1, 1, 3, 3}, DefaultConvParams(1)),
      InvalidArgumentError);
  ConvParams zero_stride = params;
  zero_stride.strides = {1, 0};
  EXPECT_THROW(ConvOutputShape({1, 1, 5, 5}, {1, 1, 3, 3}, zero_stride),
               InvalidArgumentError);
}

}  // namespace
}  // namespace foldrt::ops::ref
