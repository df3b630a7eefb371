// Scalar reference for ONNX ConvTranspose (1-D, 2-D and 3-D), written as the
// scatter it is defined by: every input element adds x * w into the output
// window it maps to. Double accumulation, one rounding to float per output.
#ifndef FOLDRT_OPS_REF_CONV_TRANSPOSE_REF_H_
#define FOLDRT_OPS_REF_CONV_TRANSPOSE_REF_H_

#include <cstddef>
#include <cstdint>
#include <vector>

#include "ops/ref/conv_ref.h"

namespace foldrt::ops::ref {

struct ConvTransposeParams {
  // strides, dilations and groups as for Conv; pads are cropped from the
  // full output.
  ConvParams conv;
  // Extra output rows/columns added at the end of each spatial axis (they
  // only receive the bias unless a window reaches them).
  std::vector<int64_t> output_padding;
};

// ONNX defaults for `spatial_rank` axes (output_padding 0).
ConvTransposeParams DefaultConvTransposeParams(size_t spatial_rank);

// Sets pads so that the output's spatial size is `output_spatial` (ONNX's
// output_shape attribute): the total crop is split evenly, the odd one
// cropped at the end. That is what ONNX Runtime does for auto_pad NOTSET; the
// spec's formula puts it at the beginning, contradicting its own auto_pad
// text (onnx/onnx#4527). Throws InvalidArgumentError when the requested size
// is larger than the uncropped output or the sizes do not match the rank.
void SetConvTransposeOutputSize(const std::vector<int64_t>& x_shape,
                                const std::vector<int64_t>& w_shape,
                                const std::vector<int64_t>& output_spatial,
                                ConvTransposeParams* params);

// Output shape (N, Cout, out...) of ConvTranspose of x (N, Cin, in...) with
// w (Cin, Cout / groups, k...):
//   out = stride * (in - 1) + output_padding + dilation * (k - 1) + 1
//         - pad_begin - pad_end.
// Throws InvalidArgumentError for shapes or parameters that do not fit.
std::vector<int64_t> ConvTransposeOutputShape(
    const std::vector<int64_t>& x_shape, const std::vector<int64_t>& w_shape,
    const ConvTransposeParams& params);

// y[n, g * Cout/groups + j, o] = bias + sum of x[n, g * Cin/groups + i, p] *
// w[g * Cin/groups + i, j, k] over o = p * stride + k * dilation - pad_begin.
// `bias` holds Cout values or is null; y holds the elements of
// ConvTransposeOutputShape.
void ConvTransposeRef(const float* x, const std::vector<int64_t>& x_shape,
                      const float* w, const std::vector<int64_t>& w_shape,
                      const float* bias, const ConvTransposeParams& params,
                      float* y);

}  // namespace foldrt::ops::ref

#endif  // FOLDRT_OPS_REF_CONV_TRANSPOSE_REF_H_
