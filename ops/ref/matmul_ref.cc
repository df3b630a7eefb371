#include "ops/ref/matmul_ref.h"

#include <algorithm>

#include "core/error.h"
#include "core/tensor.h"
#include "ops/ref/shape_util.h"

namespace foldrt::ops::ref {
namespace {

// Both operands as stacks of matrices: 1-D operands get their unit axis, and
// the batch axes are padded with leading 1s to a common rank.
struct MatMulPlan {
  int64_t m = 0;
  int64_t k = 0;
  int64_t n = 0;
  std::vector<int64_t> batch;    // broadcast batch shape
  std::vector<int64_t> a_batch;  // A's batch shape, padded to batch's rank
  std::vector<int64_t> b_batch;
  std::vector<int64_t> y_shape;  // numpy's result shape
};

MatMulPlan Plan(const std::vector<int64_t>& a_shape,
                const std::vector<int64_t>& b_shape) {
  const std::string what =
      "MatMul of " + ShapeToString(a_shape) + " and " + ShapeToString(b_shape);
  if (a_shape.empty() || b_shape.empty()) {
    throw InvalidArgumentError(what + ": operands must have rank >= 1");
  }
  ShapeNumElements(a_shape);
  ShapeNumElements(b_shape);
  std::vector<int64_t> a = a_shape;
  std::vector<int64_t> b = b_shape;
  if (a.size() == 1) a.insert(a.begin(), 1);
  if (b.size() == 1) b.push_back(1);
  MatMulPlan plan;
  plan.m = a[a.size() - 2];
  plan.k = a.back();
  plan.n = b.back();
  if (b[b.size() - 2] != plan.k) {
    throw InvalidArgumentError(what + ": inner dimensions " +
                               std::to_string(plan.k) + " and " +
                               std::to_string(b[b.size() - 2]) + " differ");
  }
  const size_t batch_rank = std::max(a.size(), b.size()) - 2;
  plan.a_batch.assign(batch_rank - (a.size() - 2), 1);
  plan.a_batch.insert(plan.a_batch.end(), a.begin(), a.end() - 2);
  plan.b_batch.assign(batch_rank - (b.size() - 2), 1);
  plan.b_batch.insert(plan.b_batch.end(), b.begin(), b.end() - 2);
  for (size_t i = 0; i < batch_rank; ++i) {
    const int64_t da = plan.a_batch[i];
    const int64_t db = plan.b_batch[i];
    if (da != db && da != 1 && db != 1) {
      throw InvalidArgumentError(what + ": batch dimensions do not broadcast");
    }
    plan.batch.push_back(da == 1 ? db : da);
  }
  plan.y_shape = plan.batch;
  if (a_shape.size() > 1) plan.y_shape.push_back(plan.m);
  if (b_shape.size() > 1) plan.y_shape.push_back(plan.n);
  return plan;
}

}  // namespace

std::vector<int64_t> MatMulOutputShape(const std::vector<int64_t>& a_shape,
                                       const std::vector<int64_t>& b_shape) {
  return Plan(a_shape, b_shape).y_shape;
}

void MatMulRef(const float* a, const std::vector<int64_t>& a_shape,
               const float* b, const std::vector<int64_t>& b_shape, float* y) {
  const MatMulPlan plan = Plan(a_shape, b_shape);
  const int64_t m = plan.m;
  const int64_t k = plan.k;
  const int64_t n = plan.n;
  const int64_t batches = ShapeNumElements(plan.batch);
  const size_t rank = plan.batch.size();
  for (int64_t batch_index = 0; batch_index < batches; ++batch_index) {
    // Unravel the batch index and find each operand's matrix, reading a
    // broadcast axis at index 0.
    int64_t a_matrix = 0;
    int64_t b_matrix = 0;
    int64_t a_stride = 1;
    int64_t b_stride = 1;
    int64_t rest = batch_index;
    for (size_t axis = rank; axis-- > 0;) {
      const int64_t index = rest % plan.batch[axis];
      rest /= plan.batch[axis];
      if (plan.a_batch[axis] != 1) a_matrix += index * a_stride;
      if (plan.b_batch[axis] != 1) b_matrix += index * b_stride;
      a_stride *= plan.a_batch[axis];
      b_stride *= plan.b_batch[axis];
    }
    const float* a_mat = a + a_matrix * m * k;
    const float* b_mat = b + b_matrix * k * n;
    float* y_mat = y + batch_index * m * n;
    for (int64_t i = 0; i < m; ++i) {
      for (int64_t j = 0; j < n; ++j) {
        double dot = 0.0;
        for (int64_t p = 0; p < k; ++p) {
          dot += static_cast<double>(a_mat[i * k + p]) * b_mat[p * n + j];
        }
        y_mat[i * n + j] = static_cast<float>(dot);
      }
    }
  }
}

}  // namespace foldrt::ops::ref
