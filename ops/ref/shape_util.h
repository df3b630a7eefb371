// Shape helpers shared by the scalar reference ops: the sliding-window
// geometry (ONNX auto_pad, output sizes) that Conv, ConvTranspose and pooling
// share. Printing and counting shapes is core's (core/tensor.h).
#ifndef FOLDRT_OPS_REF_SHAPE_UTIL_H_
#define FOLDRT_OPS_REF_SHAPE_UTIL_H_

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/tensor.h"

namespace foldrt::ops::ref {


// ONNX auto_pad of Conv, ConvTranspose and the pooling ops.
enum class AutoPad { kNotSet, kValid, kSameUpper, kSameLower };

// "NOTSET" (or ""), "VALID", "SAME_UPPER", "SAME_LOWER"; InvalidArgumentError
// otherwise.
AutoPad ParseAutoPad(std::string_view name);

// The pads auto_pad implies for a strided, dilated window sliding over
// `in_spatial`: VALID means none; SAME_* pads so that out = ceil(in / stride),
// the odd one at the end (UPPER) or the beginning (LOWER). kNotSet leaves
// *pads_begin / *pads_end as they are. All vectors have one entry per spatial
// axis.
void ResolveAutoPad(AutoPad auto_pad, const std::vector<int64_t>& in_spatial,
                    const std::vector<int64_t>& kernel,
                    const std::vector<int64_t>& strides,
                    const std::vector<int64_t>& dilations,
                    std::vector<int64_t>* pads_begin,
                    std::vector<int64_t>* pads_end);

// Number of window positions along one axis: floor (or ceil, for pooling's
// ceil_mode) of (in + pads - dilated kernel) / stride, plus one. With
// ceil_mode a last window that would start in the end padding is dropped (as
// PyTorch does). Returns 0 when the dilated kernel does not fit at all.
int64_t SlidingOutputSize(int64_t in, int64_t kernel, int64_t stride,
                          int64_t dilation, int64_t pad_begin, int64_t pad_end,
                          bool ceil_mode);

// Throws InvalidArgumentError, prefixed with `what`, unless x_shape is what
// every window op (Conv, ConvTranspose, pooling) takes: rank 3 to 5 (N, C,
// 1 to 3 spatial axes), an element count that fits int64.
void CheckWindowInputShape(const std::string& what,
                           const std::vector<int64_t>& x_shape);

// CheckWindowParam for the attributes Conv, ConvTranspose and pooling share:
// strides and dilations >= 1, pads >= 0, `rank` values each.
void CheckStridesDilationsPads(const std::string& what, size_t rank,
                               const std::vector<int64_t>& strides,
                               const std::vector<int64_t>& dilations,
                               const std::vector<int64_t>& pads_begin,
                               const std::vector<int64_t>& pads_end);

// SlidingOutputSize along spatial axis `axis`, which must be at least 1:
// else InvalidArgumentError "<what>: <window> does not fit into the padded
// input along spatial axis <axis>" (window: "the dilated kernel", ...).
int64_t FittingOutputSize(const std::string& what, const std::string& window,
                          size_t axis, int64_t in, int64_t kernel,
                          int64_t stride, int64_t dilation, int64_t pad_begin,
                          int64_t pad_end, bool ceil_mode);

// Throws InvalidArgumentError, prefixed with `what`, unless `values` has
// `expected` entries, each >= `min_value`. `name` is the parameter's name
// ("strides", "pads", ...).
void CheckWindowParam(const std::string& what, const std::string& name,
                      const std::vector<int64_t>& values, size_t expected,
                      int64_t min_value);

// 1-3 spatial values widened to exactly three by prepending `fill`, so the
// references can run one 3-D loop nest for 1-D, 2-D and 3-D windows. At most
// three values (callers have validated the rank).
std::array<int64_t, 3> ToThreeAxes(const std::vector<int64_t>& values,
                                   int64_t fill);

}  // namespace foldrt::ops::ref

#endif  // FOLDRT_OPS_REF_SHAPE_UTIL_H_
