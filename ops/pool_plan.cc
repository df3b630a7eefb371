// ops::Pool's shape and parameter resolution: window attributes with their
// ONNX defaults and checks, and the plane plan (clipped windows and
// divisors per output row and column) the Highway window kernel runs.

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/tensor.h"
#include "ops/pool_internal.h"
#include "ops/ref/shape_util.h"

namespace foldrt::ops::pool_internal {

ref::PoolParams ResolveWindowAttributes(PoolAttributes* attrs) {
  const std::string what = std::string(PoolKindName(attrs->kind)) +
                           " with kernel " + ShapeToString(attrs->kernel);
  const size_t rank = attrs->kernel.size();
  if (rank < 1 || rank > 3) {
    throw InvalidArgumentError(what + ": kernel_shape needs 1 to 3 values");
  }
  ref::PoolParams params = ref::DefaultPoolParams(attrs->kernel);
  if (!attrs->strides.empty()) params.strides = attrs->strides;
  if (!attrs->dilations.empty()) params.dilations = attrs->dilations;
  if (!attrs->pads_begin.empty()) params.pads_begin = attrs->pads_begin;
  if (!attrs->pads_end.empty()) params.pads_end = attrs->pads_end;
  params.ceil_mode = attrs->ceil_mode;
  params.count_include_pad = attrs->count_include_pad;
  ref::CheckWindowParam(what, "kernel_shape", params.kernel, rank, 1);
  ref::CheckStridesDilationsPads(what, rank, params.strides, params.dilations,
                                 params.pads_begin, params.pads_end);
  for (size_t i = 0; i < rank; ++i) {
    const int64_t dilated = (params.kernel[i] - 1) * params.dilations[i] + 1;
    if (params.pads_begin[i] >= dilated || params.pads_end[i] >= dilated) {
      throw InvalidArgumentError(what + ": pads must be smaller than the " +
                                 "(dilated) kernel");
    }
  }
  if (attrs->kind == PoolKind::kAverage &&
      std::any_of(params.dilations.begin(), params.dilations.end(),
                  [](int64_t d) { return d != 1; })) {
    throw UnsupportedError(what + ": dilations " +
                           ShapeToString(params.dilations) +
                           " are not supported for AveragePool");
  }
  attrs->strides = params.strides;
  attrs->dilations = params.dilations;
  attrs->pads_begin = params.pads_begin;
  attrs->pads_end = params.pads_end;
  return params;
}

PlanePlan MakePlanePlan(const PoolAttributes& attrs,
                        const std::vector<int64_t>& x_dims,
                        const std::vector<int64_t>& y_dims) {
  PlanePlan p;
  p.max = attrs.kind == PoolKind::kMax;
  // 1-D windows: a unit height. Axis 0 = H, 1 = W.
  const bool lift = x_dims.size() == 3;
  const size_t first = lift ? 1 : 0;
  int64_t in[2] = {1, 1}, out[2] = {1, 1}, kernel[2] = {1, 1},
          stride[2] = {1, 1}, pad_begin[2] = {0, 0}, pad_end[2] = {0, 0};
  for (size_t a = first; a < 2; ++a) {
    const size_t i = a - first;
    in[a] = x_dims[2 + i];
    out[a] = y_dims[2 + i];
    kernel[a] = attrs.kernel[i];
    stride[a] = attrs.strides[i];
    pad_begin[a] = attrs.pads_begin[i];
    pad_end[a] = attrs.pads_end[i];
  }
  p.in_h = static_cast<size_t>(in[0]);
  p.in_w = static_cast<size_t>(in[1]);
  p.out_h = static_cast<size_t>(out[0]);
  p.out_w = static_cast<size_t>(out[1]);
  p.kernel_h = static_cast<size_t>(kernel[0]);
  p.kernel_w = static_cast<size_t>(kernel[1]);
  p.stride_w = static_cast<size_t>(stride[1]);
  p.pad_w = static_cast<size_t>(pad_begin[1]);
  p.padded_w = static_cast<size_t>(
      std::max(pad_begin[1] + in[1], (out[1] - 1) * stride[1] + kernel[1]));
  // Window o along an axis covers [o * s - pad_begin, + k): inside the
  // input [begin, end); the divisor counts those (exclude padding) or the
  // positions inside the padded input [-pad_begin, in + pad_end) (include
  // padding, PyTorch's rule for ceil_mode windows past the end padding).
  auto divisors = [&](size_t a, std::vector<size_t>* begins,
                      std::vector<size_t>* ends, std::vector<float>* scale) {
    for (int64_t o = 0; o < out[a]; ++o) {
      const int64_t start = o * stride[a] - pad_begin[a];
      const int64_t b = std::max<int64_t>(start, 0);
      const int64_t e = std::min(start + kernel[a], in[a]);
      begins->push_back(static_cast<size_t>(b));
      ends->push_back(static_cast<size_t>(e));
      const int64_t count =
          attrs.count_include_pad
              ? std::min(start + kernel[a], in[a] + pad_end[a]) - start
              : e - b;
      scale->push_back(1.0f / static_cast<float>(count));
    }
  };
  divisors(0, &p.row_begin, &p.row_end, &p.row_scale);
  divisors(1, &p.col_begin, &p.col_end, &p.col_scale);
  return p;
}

}  // namespace foldrt::ops::pool_internal
