// MatMulRef: numpy.matmul semantics. 2-D against a naive loop, the 1-D
// operand rules, and batch broadcasting against per-matrix 2-D products.
#include "ops/ref/matmul_ref.h"

#include <gtest/gtest.h>

#include <vector>

#include "core/error.h"
#include "core/tensor.h"
#include "ops/ref/shape_util.h"
#include "tests/ops/ref/ref_test_util.h"

namespace foldrt::ops::ref {
namespace {

using test::RandomTensor;

std::vector<float> MatMul(const std::vector<float>& a,
                          const std::vector<int64_t>& a_shape,
                          const std::vector<float>& b,
                          const std::vector<int64_t>& b_shape) {
  return test::RunIntoNew(MatMulOutputShape(a_shape, b_shape), [&](float* y) {
    MatMulRef(a.data(), a_shape, b.data(), b_shape, y);
  });
}

TEST(MatMulRefTest, TwoDByHand) {
  // [1 2 3; 4 5 6] * [1 0; 0 1; 1 1] = [4 5; 10 11].
  EXPECT_EQ(MatMul({1, 2, 3, 4, 5, 6}, {2, 3}, {1, 0, 0, 1, 1, 1}, {3, 2}),
            (std::vector<float>{4, 5, 10, 11}));
}

TEST(MatMulRefTest, OneDOperandsLoseTheirAddedAxis) {
  const std::vector<float> m = {1, 2, 3, 4, 5, 6};  // (2, 3) or (3, 2)
  EXPECT_EQ(MatMulOutputShape({3}, {3, 2}), (std::vector<int64_t>{2}));
  EXPECT_EQ(MatMul({1, 1, 1}, {3}, m, {3, 2}), (std::vector<float>{9, 12}));
  EXPECT_EQ(MatMulOutputShape({2, 3}, {3}), (std::vector<int64_t>{2}));
  EXPECT_EQ(MatMul(m, {2, 3}, {1, 0, 1}, {3}), (std::vector<float>{4, 10}));
  EXPECT_EQ(MatMulOutputShape({3}, {3}), (std::vector<int64_t>{}));
  EXPECT_EQ(MatMul({1, 2, 3}, {3}, {4, 5, 6}, {3}), (std::vector<float>{32}));
  // A 1-D operand against a batch of matrices.
  EXPECT_EQ(MatMulOutputShape({4, 2, 3}, {3}), (std::vector<int64_t>{4, 2}));
  EXPECT_EQ(MatMulOutputShape({2}, {4, 2, 3}), (std::vector<int64_t>{4, 3}));
}

TEST(MatMulRefTest, BatchAxesBroadcastLikeNumpy) {
  const std::vector<int64_t> a_shape = {2, 1, 3, 4};
  const std::vector<int64_t> b_shape = {5, 4, 2};
  ASSERT_EQ(MatMulOutputShape(a_shape, b_shape),
            (std::vector<int64_t>{2, 5, 3, 2}));
  const std::vector<float> a = RandomTensor(a_shape, 1);
  const std::vector<float> b = RandomTensor(b_shape, 2);
  const std::vector<float> y = MatMul(a, a_shape, b, b_shape);
  for (int64_t i = 0; i < 2; ++i) {
    for (int64_t j = 0; j < 5; ++j) {
      const std::vector<float> a_ij(a.begin() + i * 12,
                                    a.begin() + (i + 1) * 12);
      const std::vector<float> b_ij(b.begin() + j * 8, b.begin() + (j + 1) * 8);
      const std::vector<float> expected = MatMul(a_ij, {3, 4}, b_ij, {4, 2});
      const std::vector<float> got(y.begin() + (i * 5 + j) * 6,
                                   y.begin() + (i * 5 + j + 1) * 6);
      EXPECT_EQ(got, expected) << "batch (" << i << ", " << j << ")";
    }
  }
}

TEST(MatMulRefTest, TwoDMatchesNaiveLoop) {
  const std::vector<float> a = RandomTensor({7, 9}, 3);
  const std::vector<float> b = RandomTensor({9, 5}, 4);
  const std::vector<float> y = MatMul(a, {7, 9}, b, {9, 5});
  for (int i = 0; i < 7; ++i) {
    for (int j = 0; j < 5; ++j) {
      double dot = 0.0;
      for (int p = 0; p < 9; ++p)
        dot += static_cast<double>(a[i * 9 + p]) * b[p * 5 + j];
      EXPECT_EQ(y[i * 5 + j], static_cast<float>(dot));
    }
  }
}

TEST(MatMulRefTest, RejectsShapesThatDoNotFit) {
  EXPECT_THROW(MatMulOutputShape({2, 3}, {2, 3}), InvalidArgumentError);
  EXPECT_THROW(MatMulOutputShape({3}, {2}), InvalidArgumentError);
  EXPECT_THROW(MatMulOutputShape({}, {3}), InvalidArgumentError);
  EXPECT_THROW(MatMulOutputShape({2, 3, 4}, {3, 4, 2}), InvalidArgumentError);
}

}  // namespace
}  // namespace foldrt::ops::ref
