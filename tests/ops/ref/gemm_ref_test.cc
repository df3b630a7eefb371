// GemmRef against a naive loop over explicitly transposed copies of A and B
// and an explicitly expanded C, for every transpose combination, alpha and
// beta, and every C broadcast shape ONNX allows.
#include "ops/ref/gemm_ref.h"

#include <gtest/gtest.h>

#include <vector>

#include "core/error.h"
#include "core/tensor.h"
#include "ops/ref/shape_util.h"
#include "tests/ops/ref/ref_test_util.h"

namespace foldrt::ops::ref {
namespace {

using test::RandomTensor;

// rows x cols matrix m, transposed.
std::vector<float> Transposed(const std::vector<float>& m, int64_t rows,
                              int64_t cols) {
  std::vector<float> t(m.size());
  for (int64_t i = 0; i < rows; ++i) {
    for (int64_t j = 0; j < cols; ++j) t[j * rows + i] = m[i * cols + j];
  }
  return t;
}

TEST(GemmRefTest, MatchesNaiveLoopForEveryTransposeAndBroadcast) {
  const int64_t m = 3;
  const int64_t k = 5;
  const int64_t n = 4;
  // op(A) (M, K) and op(B) (K, N) as plain row-major matrices.
  const std::vector<float> a = RandomTensor({m, k}, 1);
  const std::vector<float> b = RandomTensor({k, n}, 2);
  const std::vector<std::vector<int64_t>> c_shapes = {
      {}, {1}, {n}, {1, n}, {m, 1}, {m, n}, {1, 1}};
  uint32_t seed = 10;
  for (bool trans_a : {false, true}) {
    for (bool trans_b : {false, true}) {
      const std::vector<float> a_stored = trans_a ? Transposed(a, m, k) : a;
      const std::vector<int64_t> a_shape =
          trans_a ? std::vector<int64_t>{k, m} : std::vector<int64_t>{m, k};
      const std::vector<float> b_stored = trans_b ? Transposed(b, k, n) : b;
      const std::vector<int64_t> b_shape =
          trans_b ? std::vector<int64_t>{n, k} : std::vector<int64_t>{k, n};
      for (size_t c_case = 0; c_case <= c_shapes.size(); ++c_case) {
        const bool has_c = c_case < c_shapes.size();
        const std::vector<int64_t> c_shape =
            has_c ? c_shapes[c_case] : std::vector<int64_t>{};
        const std::vector<float> c = RandomTensor(c_shape, seed++);
        GemmParams params;
        params.trans_a = trans_a;
        params.trans_b = trans_b;
        params.alpha = 0.75f;
        params.beta = -1.5f;
        SCOPED_TRACE(testing::Message()
                     << "transA " << trans_a << " transB " << trans_b << " C "
                     << (has_c ? ShapeToString(c_shape) : "absent"));
        ASSERT_EQ(GemmOutputShape(a_shape, b_shape, has_c ? &c_shape : nullptr,
                                  params),
                  (std::vector<int64_t>{m, n}));
        std::vector<float> y(m * n);
        GemmRef(a_stored.data(), a_shape, b_stored.data(), b_shape,
                has_c ? c.data() : nullptr, c_shape, params, y.data());
        for (int64_t i = 0; i < m; ++i) {
          for (int64_t j = 0; j < n; ++j) {
            double dot = 0.0;
            for (int64_t p = 0; p < k; ++p) {
              dot += static_cast<double>(a[i * k + p]) * b[p * n + j];
            }
            double c_ij = 0.0;
            if (has_c) {
              const int64_t row =
                  c_shape.size() == 2 && c_shape[0] == m ? i : 0;
              const int64_t col =
                  !c_shape.empty() && c_shape.back() == n ? j : 0;
              const int64_t cols = c_shape.empty() ? 1 : c_shape.back();
              c_ij = c[row * cols + col];
            }
            const double expected = 0.75 * dot - 1.5 * c_ij;
            EXPECT_EQ(y[i * n + j], static_cast<float>(expected))
                << "at (" << i << ", " << j << ")";
          }
        }
      }
    }
  }
}

TEST(GemmRefTest, SmallCaseByHand) {
  // [1 2; 3 4] * [5; 6] * 2 + 1 = [35; 79].
  const std::vector<float> a = {1, 2, 3, 4};
  const std::vector<float> b = {5, 6};
  const std::vector<float> c = {1};
  GemmParams params;
  params.alpha = 2.0f;
  std::vector<float> y(2);
  GemmRef(a.data(), {2, 2}, b.data(), {2, 1}, c.data(), {}, params, y.data());
  EXPECT_EQ(y, (std::vector<float>{35, 79}));
}

TEST(GemmRefTest, RejectsShapesThatDoNotFit) {
  const GemmParams plain;
  EXPECT_THROW(GemmOutputShape({3, 5}, {4, 2}, nullptr, plain),
               InvalidArgumentError);
  GemmParams trans_b;
  trans_b.trans_b = true;
  EXPECT_NO_THROW(GemmOutputShape({3, 5}, {2, 5}, nullptr, trans_b));
  EXPECT_THROW(GemmOutputShape({3, 5}, {5, 2}, nullptr, trans_b),
               InvalidArgumentError);
  EXPECT_THROW(GemmOutputShape({3, 5, 1}, {5, 2}, nullptr, plain),
               InvalidArgumentError);
  for (const std::vector<int64_t>& bad_c :
       std::vector<std::vector<int64_t>>{{3}, {2, 2}, {3, 3}, {1, 3, 2}}) {
    SCOPED_TRACE(ShapeToString(bad_c));
    EXPECT_THROW(GemmOutputShape({3, 5}, {5, 2}, &bad_c, plain),
                 InvalidArgumentError);
  }
}

}  // namespace
}  // namespace foldrt::ops::ref
