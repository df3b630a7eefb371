#include "ops/ref/gemm_ref.h"

#include "core/error.h"
#include "core/tensor.h"
#include "ops/ref/shape_util.h"

namespace foldrt::ops::ref {

std::vector<int64_t> GemmOutputShape(const std::vector<int64_t>& a_shape,
                                     const std::vector<int64_t>& b_shape,
                                     const std::vector<int64_t>* c_shape,
                                     const GemmParams& params) {
  const std::string what =
      "Gemm of A " + ShapeToString(a_shape) + (params.trans_a ? "^T" : "") +
      " and B " + ShapeToString(b_shape) + (params.trans_b ? "^T" : "");
  if (a_shape.size() != 2 || b_shape.size() != 2) {
    throw InvalidArgumentError(what + ": A and B must be matrices");
  }
  ShapeNumElements(a_shape);
  ShapeNumElements(b_shape);
  const int64_t m = params.trans_a ? a_shape[1] : a_shape[0];
  const int64_t k = params.trans_a ? a_shape[0] : a_shape[1];
  const int64_t k_of_b = params.trans_b ? b_shape[1] : b_shape[0];
  const int64_t n = params.trans_b ? b_shape[0] : b_shape[1];
  if (k != k_of_b) {
    throw InvalidArgumentError(what + ": inner dimensions " +
                               std::to_string(k) + " and " +
                               std::to_string(k_of_b) + " differ");
  }
  if (c_shape != nullptr) {
    const std::vector<int64_t>& c = *c_shape;
    ShapeNumElements(c);
    // Right-aligned: the last dim of C pairs with N, the one before with M.
    const bool fits = c.size() <= 2 &&
                      (c.empty() || c.back() == 1 || c.back() == n) &&
                      (c.size() < 2 || c[0] == 1 || c[0] == m);
    if (!fits) {
      throw InvalidArgumentError(
          what + ": C " + ShapeToString(c) + " does not broadcast to (" +
          std::to_string(m) + ", " + std::to_string(n) + ")");
    }
  }
  return {m, n};
}

void GemmRef(const float* a, const std::vector<int64_t>& a_shape,
             const float* b, const std::vector<int64_t>& b_shape,
             const float* c, const std::vector<int64_t>& c_shape,
             const GemmParams& params, float* y) {
  const std::vector<int64_t> y_shape = GemmOutputShape(
      a_shape, b_shape, c != nullptr ? &c_shape : nullptr, params);
  const int64_t m = y_shape[0];
  const int64_t n = y_shape[1];
  const int64_t k = params.trans_a ? a_shape[0] : a_shape[1];
  // Element strides of C along M and N; 0 where C is broadcast.
  int64_t c_row_stride = 0;
  int64_t c_col_stride = 0;
  if (c != nullptr) {
    const int64_t c_cols = c_shape.empty() ? 1 : c_shape.back();
    const int64_t c_rows = c_shape.size() == 2 ? c_shape[0] : 1;
    c_col_stride = c_cols == 1 ? 0 : 1;
    c_row_stride = c_rows == 1 ? 0 : c_cols;
  }
  for (int64_t i = 0; i < m; ++i) {
    for (int64_t j = 0; j < n; ++j) {
      double dot = 0.0;
      for (int64_t p = 0; p < k; ++p) {
        const float a_ip = params.trans_a ? a[p * m + i] : a[i * k + p];
        const float b_pj = params.trans_b ? b[j * k + p] : b[p * n + j];
        dot += static_cast<double>(a_ip) * b_pj;
      }
      double value = static_cast<double>(params.alpha) * dot;
      if (c != nullptr) {
        value += static_cast<double>(params.beta) *
                 c[i * c_row_stride + j * c_col_stride];
      }
      y[i * n + j] = static_cast<float>(value);
    }
  }
}

}  // namespace foldrt::ops::ref
