// Pooling references on inputs small enough to check by hand: window
// placement with strides, padding, dilation and ceil_mode, both AveragePool
// divisors, and NaN propagation in MaxPool.
#include "ops/ref/pool_ref.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "core/error.h"
#include "core/tensor.h"
#include "tests/ops/ref/ref_test_util.h"
#include "ops/ref/shape_util.h"

namespace foldrt::ops::ref {
namespace {

// 1 .. 16 as a (1, 1, 4, 4) image.
std::vector<float> Ramp4x4() {
  std::vector<float> x(16);
  for (int i = 0; i < 16; ++i) x[i] = static_cast<float>(i + 1);
  return x;
}

std::vector<float> MaxPool(const std::vector<float>& x,
                           const std::vector<int64_t>& x_shape,
                           const PoolParams& params) {
  return test::RunIntoNew(PoolOutputShape(x_shape, params), [&](float* y) {
    MaxPoolRef(x.data(), x_shape, params, y);
  });
}

std::vector<float> AveragePool(const std::vector<float>& x,
                               const std::vector<int64_t>& x_shape,
                               const PoolParams& params) {
  return test::RunIntoNew(PoolOutputShape(x_shape, params), [&](float* y) {
    AveragePoolRef(x.data(), x_shape, params, y);
  });
}

TEST(PoolRefTest, GlobalAveragePoolAveragesEachPlane) {
  // Two planes of (2, 3): means 3.5 and -1.
  const std::vector<float> x = {1, 2, 3, 4, 5, 6, -1, -1, -1, -2, 0, -1};
  EXPECT_EQ(GlobalPoolOutputShape({1, 2, 2, 3}),
            (std::vector<int64_t>{1, 2, 1, 1}));
  std::vector<float> y(2);
  GlobalAveragePoolRef(x.data(), {1, 2, 2, 3}, y.data());
  EXPECT_EQ(y, (std::vector<float>{3.5f, -1.0f}));
  EXPECT_THROW(GlobalPoolOutputShape({2, 3}), InvalidArgumentError);
}

TEST(PoolRefTest, MaxPoolWindowsByHand) {
  PoolParams params = DefaultPoolParams({2, 2});
  params.strides = {2, 2};
  EXPECT_EQ(MaxPool(Ramp4x4(), {1, 1, 4, 4}, params),
            (std::vector<float>{6, 8, 14, 16}));

  // Padding never wins, even against negative inputs.
  std::vector<float> negative = Ramp4x4();
  for (float& v : negative) v = -v;
  PoolParams padded = DefaultPoolParams({2, 2});
  padded.strides = {2, 2};
  padded.pads_begin = {1, 1};
  padded.pads_end = {1, 1};
  EXPECT_EQ(MaxPool(negative, {1, 1, 4, 4}, padded),
            (std::vector<float>{-1, -2, -4, -5, -6, -8, -13, -14, -16}));

  // Dilation 2: the window picks every other element.
  PoolParams dilated = DefaultPoolParams({2, 2});
  dilated.dilations = {2, 2};
  EXPECT_EQ(MaxPool(Ramp4x4(), {1, 1, 4, 4}, dilated),
            (std::vector<float>{11, 12, 15, 16}));
}

TEST(PoolRefTest, CeilModeAddsAPartialWindowButNoneStartingInThePadding) {
  PoolParams params = DefaultPoolParams({2});
  params.strides = {2};
  const std::vector<float> x = {1, 5, 2, 4, 3};
  EXPECT_EQ(MaxPool(x, {1, 1, 5}, params), (std::vector<float>{5, 4}));
  params.ceil_mode = true;
  EXPECT_EQ(MaxPool(x, {1, 1, 5}, params), (std::vector<float>{5, 4, 3}));
  // in 5, pad 1 each side, kernel 2, stride 2: rounding up would add a
  // fourth window starting at 6, in the end padding; it is dropped.
  params.pads_begin = {1};
  params.pads_end = {1};
  EXPECT_EQ(PoolOutputShape({1, 1, 5}, params),
            (std::vector<int64_t>{1, 1, 3}));
}

TEST(PoolRefTest, AveragePoolDivisorWithAndWithoutPadding) {
  PoolParams params = DefaultPoolParams({3, 3});
  params.strides = {2, 2};
  params.pads_begin = {1, 1};
  params.pads_end = {1, 1};
  // Top-left window covers 1 2 5 6 (sum 14): 14 / 4 or 14 / 9.
  const std::vector<float> excluded =
      AveragePool(Ramp4x4(), {1, 1, 4, 4}, params);
  ASSERT_EQ(excluded.size(), 4u);
  EXPECT_FLOAT_EQ(excluded[0], 14.0f / 4);
  // Top-right window: rows 0..1, columns 1..3 -> 2 3 4 6 7 8 = 30 over 6.
  EXPECT_FLOAT_EQ(excluded[1], 30.0f / 6);
  params.count_include_pad = true;
  const std::vector<float> included =
      AveragePool(Ramp4x4(), {1, 1, 4, 4}, params);
  EXPECT_FLOAT_EQ(included[0], 14.0f / 9);
  EXPECT_FLOAT_EQ(included[1], 30.0f / 9);
  EXPECT_FLOAT_EQ(included[3],
                  (6 + 7 + 8 + 10 + 11 + 12 + 14 + 15 + 16) / 9.0f);
}

TEST(PoolRefTest, MaxPoolPropagatesNaN) {
  std::vector<float> x = Ramp4x4();
  x[5] = std::numeric_limits<float>::quiet_NaN();
  PoolParams params = DefaultPoolParams({2, 2});
  params.strides = {2, 2};
  const std::vector<float> y = MaxPool(x, {1, 1, 4, 4}, params);
  EXPECT_TRUE(std::isnan(y[0]));
  EXPECT_EQ(y[1], 8.0f);
}

TEST(PoolRefTest, RejectsParametersThatDoNotFit) {
  PoolParams too_big = DefaultPoolParams({5, 5});
  EXPECT_THROW(PoolOutputShape({1, 1, 4, 4}, too_big), InvalidArgumentError);
  PoolParams pad_as_large_as_kernel = DefaultPoolParams({2, 2});
  pad_as_large_as_kernel.pads_begin = {2, 0};
  EXPECT_THROW(PoolOutputShape({1, 1, 4, 4}, pad_as_large_as_kernel),
               InvalidArgumentError);
  EXPECT_THROW(PoolOutputShape({1, 1, 4, 4}, DefaultPoolParams({2})),
               InvalidArgumentError);
  PoolParams dilated = DefaultPoolParams({2, 2});
  dilated.dilations = {2, 1};
  std::vector<float> y(9);
  const std::vector<float> x = Ramp4x4();
  EXPECT_THROW(AveragePoolRef(x.data(), {1, 1, 4, 4}, dilated, y.data()),
               InvalidArgumentError);
}

}  // namespace
}  // namespace foldrt::ops::ref
