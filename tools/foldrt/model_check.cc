#include "tools/foldrt/model_check.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "core/error.h"
#include "tools/foldrt/cli.h"

namespace foldrt {

OutputDeviation CompareOutputs(const float* got, const float* ref,
                               size_t count) {
  OutputDeviation d;
  double diff_sq = 0.0;
  double ref_sq = 0.0;
  double max_ref = 0.0;
  for (size_t i = 0; i < count; ++i) {
    if (!std::isfinite(got[i])) {
      ++d.non_finite;
      continue;
    }
    const double diff = static_cast<double>(got[i]) - ref[i];
    diff_sq += diff * diff;
    ref_sq += static_cast<double>(ref[i]) * ref[i];
    d.max_abs = std::max(d.max_abs, std::abs(diff));
    max_ref = std::max(max_ref, std::abs(static_cast<double>(ref[i])));
  }
  // Zero reference norms only match exactly.
  constexpr double kInf = std::numeric_limits<double>::infinity();
  d.relative_l2 = diff_sq > 0.0 ? kInf : 0.0;
  if (ref_sq > 0.0) d.relative_l2 = std::sqrt(diff_sq / ref_sq);
  d.max_abs_ratio = d.max_abs > 0.0 ? kInf : 0.0;
  if (max_ref > 0.0) d.max_abs_ratio = d.max_abs / max_ref;
  return d;
}

Tensor RandomInput(const runtime::ValueInfo& info, uint32_t seed,
                   int64_t max_elements, int64_t free_dim) {
  if (!info.shape) {
    throw UsageError("input '" + info.name +
                     "' declares no shape; give it with --input " + info.name +
                     "=FILE.npy");
  }
  std::vector<int64_t> shape;
  for (const runtime::Dimension& d : *info.shape) {
    shape.push_back(d.known() ? d.value : free_dim);
  }
  const int64_t count = ShapeNumElements(shape);
  if (count > max_elements) {
    throw InvalidArgumentError(
        "input '" + info.name + "' " + ShapeToString(shape) + " would have " +
        std::to_string(count) + " elements, over the limit of " +
        std::to_string(max_elements) + " elements per tensor");
  }
  if (info.dtype == DataType::kInt64) {
    return Tensor::Zeros(DataType::kInt64, shape);
  }
  std::vector<float> values(static_cast<size_t>(count));
  std::mt19937 generator(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  for (float& v : values) v = normal(generator);
  return Tensor::FromFloats(shape, values);
}

}  // namespace foldrt
