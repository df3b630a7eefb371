#include "ops/ref/shape_util.h"

#include <limits>

#include "core/error.h"

namespace foldrt::ops::ref {

AutoPad ParseAutoPad(std::string_view name) {
  if (name.empty() || name == "NOTSET") return AutoPad::kNotSet;
  if (name == "VALID") return AutoPad::kValid;
  if (name == "SAME_UPPER") return AutoPad::kSameUpper;
  if (name == "SAME_LOWER") return AutoPad::kSameLower;
  throw InvalidArgumentError(
      "unknown auto_pad '" + std::string(name) +
      "' (expected NOTSET, VALID, SAME_UPPER or SAME_LOWER)");
}

void ResolveAutoPad(AutoPad auto_pad, const std::vector<int64_t>& in_spatial,
                    const std::vector<int64_t>& kernel,
                    const std::vector<int64_t>& strides,
                    const std::vector<int64_t>& dilations,
                    std::vector<int64_t>* pads_begin,
                    std::vector<int64_t>* pads_end) {
  if (auto_pad == AutoPad::kNotSet) return;
  const size_t rank = in_spatial.size();
  pads_begin->assign(rank, 0);
  pads_end->assign(rank, 0);
  if (auto_pad == AutoPad::kValid) return;
  for (size_t i = 0; i < rank; ++i) {
    // In 128 bits, as in SlidingOutputSize: hostile strides, kernels or
    // dilations must not overflow int64.
    using Wide = __int128;
    const Wide out = (Wide{in_spatial[i]} + strides[i] - 1) / strides[i];
    const Wide dilated_kernel = (Wide{kernel[i]} - 1) * dilations[i] + 1;
    Wide wide_total = (out - 1) * strides[i] + dilated_kernel - in_spatial[i];
    if (wide_total < 0) wide_total = 0;
    if (wide_total > std::numeric_limits<int64_t>::max()) {
      throw InvalidArgumentError("auto_pad padding overflows 64 bits");
    }
    const int64_t total = static_cast<int64_t>(wide_total);
    const int64_t smaller_half = total / 2;
    if (auto_pad == AutoPad::kSameUpper) {
      (*pads_begin)[i] = smaller_half;
      (*pads_end)[i] = total - smaller_half;
    } else {
      (*pads_begin)[i] = total - smaller_half;
      (*pads_end)[i] = smaller_half;
    }
  }
}

int64_t SlidingOutputSize(int64_t in, int64_t kernel, int64_t stride,
                          int64_t dilation, int64_t pad_begin, int64_t pad_end,
                          bool ceil_mode) {
  // In 128 bits: a hostile model's pads or dilations near INT64_MAX would
  // overflow int64 (undefined behaviour) before any check could see them.
  using Wide = __int128;
  const Wide dilated_kernel = (Wide{kernel} - 1) * dilation + 1;
  const Wide span = Wide{in} + pad_begin + pad_end - dilated_kernel;
  if (span < 0) return 0;
  Wide out = (ceil_mode ? (span + stride - 1) / stride : span / stride) + 1;
  if (ceil_mode && (out - 1) * stride >= Wide{in} + pad_begin) --out;
  if (out > std::numeric_limits<int64_t>::max()) {
    throw InvalidArgumentError("window output size overflows 64 bits (input " +
                               std::to_string(in) + ", pads " +
                               std::to_string(pad_begin) + " + " +
                               std::to_string(pad_end) + ")");
  }
  return static_cast<int64_t>(out);
}

int64_t FittingOutputSize(const std::string& what, const std::string& window,
                          size_t axis, int64_t in, int64_t kernel,
                          int64_t stride, int64_t dilation, int64_t pad_begin,
                          int64_t pad_end, bool ceil_mode) {
  const int64_t out = SlidingOutputSize(in, kernel, stride, dilation, pad_begin,
                                        pad_end, ceil_mode);
  if (out < 1) {
    throw InvalidArgumentError(what + ": " + window +
                               " does not fit into the padded input along " +
                               "spatial axis " + std::to_string(axis));
  }
  return out;
}

void CheckWindowParam(const std::string& what, const std::string& name,
                      const std::vector<int64_t>& values, size_t expected,
                      int64_t min_value) {
  if (values.size() != expected) {
    throw InvalidArgumentError(what + ": " + name + " has " +
                               std::to_string(values.size()) +
                               " values, expected " + std::to_string(expected));
  }
  for (int64_t v : values) {
    if (v < min_value) {
      throw InvalidArgumentError(what + ": " + name + " " +
                                 ShapeToString(values) + " has a value below " +
                                 std::to_string(min_value));
    }
  }
}

void CheckWindowInputShape(const std::string& what,
                           const std::vector<int64_t>& x_shape) {
  if (x_shape.size() < 3 || x_shape.size() > 5) {
    throw InvalidArgumentError(what + ": x must have rank 3, 4 or 5 (N, C, " +
                               "1 to 3 spatial dims)");
  }
  ShapeNumElements(x_shape);
}

void CheckStridesDilationsPads(const std::string& what, size_t rank,
                               const std::vector<int64_t>& strides,
                               const std::vector<int64_t>& dilations,
                               const std::vector<int64_t>& pads_begin,
                               const std::vector<int64_t>& pads_end) {
  CheckWindowParam(what, "strides", strides, rank, 1);
  CheckWindowParam(what, "dilations", dilations, rank, 1);
  CheckWindowParam(what, "pads (begin)", pads_begin, rank, 0);
  CheckWindowParam(what, "pads (end)", pads_end, rank, 0);
}

std::array<int64_t, 3> ToThreeAxes(const std::vector<int64_t>& values,
                                   int64_t fill) {
  std::array<int64_t, 3> out = {fill, fill, fill};
  const size_t offset = 3 - values.size();
  for (size_t i = 0; i < values.size(); ++i) out[offset + i] = values[i];
  return out;
}

}  // namespace foldrt::ops::ref
