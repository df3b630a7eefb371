// Scalar reference for ONNX Conv (1-D, 2-D and 3-D): plain loops over the
// logical indices, double accumulation, one rounding to float per output.
// Ground truth for the folding passes and the optimized kernels.
#ifndef FOLDRT_OPS_REF_CONV_REF_H_
#define FOLDRT_OPS_REF_CONV_REF_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace foldrt::ops::ref {

// Hyper-parameters of a convolution, one entry per spatial axis.
struct ConvParams {
  std::vector<int64_t> strides;
  std::vector<int64_t> dilations;
  // Zero padding added before / after each spatial axis of the input (for
  // ConvTranspose: cropped from the full output).
  std::vector<int64_t> pads_begin;
  std::vector<int64_t> pads_end;
  int64_t groups = 1;
};

// ONNX defaults for `spatial_rank` axes: stride 1, dilation 1, no padding, one
// group.
ConvParams DefaultConvParams(size_t spatial_rank);

// ConvParams from ONNX attribute values (Conv's, and ConvTranspose's window):
// empty vectors take the defaults, the rest is checked against spatial_rank
// (CheckStridesDilationsPads); errors are prefixed with `what`.
ConvParams ConvParamsWithDefaults(const std::string& what, size_t spatial_rank,
                                  std::vector<int64_t> strides,
                                  std::vector<int64_t> dilations,
                                  std::vector<int64_t> pads_begin,
                                  std::vector<int64_t> pads_end,
                                  int64_t groups);

// Throws InvalidArgumentError, prefixed with `what`, unless w_shape is a
// Conv / ConvTranspose weight shape: two channel axes (`channel_axes` names
// them in the message, "Cout, Cin / group") and 1 to 3 kernel dims, none
// empty, an element count that fits int64.
void CheckConvWeightShape(const std::string& what,
                          const std::vector<int64_t>& w_shape,
                          const std::string& channel_axes);

// Output shape (N, Cout, out...) of convolving x (N, Cin, in...) with w
// (Cout, Cin / groups, k...). Throws InvalidArgumentError for shapes or
// parameters that do not fit together (rank outside 3..5, channel counts not
// divisible by groups, a kernel larger than the padded input, ...).
std::vector<int64_t> ConvOutputShape(const std::vector<int64_t>& x_shape,
                                     const std::vector<int64_t>& w_shape,
                                     const ConvParams& params);

// y[n, o, ...] = bias[o] + sum over the group's input channels and the kernel
// window of x * w, with zero padding. `bias` holds Cout values or is null; y
// holds the elements of ConvOutputShape. Validates like ConvOutputShape.
void ConvRef(const float* x, const std::vector<int64_t>& x_shape,
             const float* w, const std::vector<int64_t>& w_shape,
             const float* bias, const ConvParams& params, float* y);

}  // namespace foldrt::ops::ref

#endif  // FOLDRT_OPS_REF_CONV_REF_H_
