// Scalar references for ONNX pooling over the spatial axes of (N, C, ...):
// GlobalAveragePool, MaxPool and AveragePool (1-D to 3-D windows). Double
// accumulation, one rounding to float per output.
#ifndef FOLDRT_OPS_REF_POOL_REF_H_
#define FOLDRT_OPS_REF_POOL_REF_H_

#include <cstdint>
#include <vector>

namespace foldrt::ops::ref {

// (N, C, 1, ...): every spatial axis reduced to 1. Throws
// InvalidArgumentError for rank < 3.
std::vector<int64_t> GlobalPoolOutputShape(const std::vector<int64_t>& x_shape);

// Mean over the spatial axes of every (n, c) plane.
void GlobalAveragePoolRef(const float* x, const std::vector<int64_t>& x_shape,
                          float* y);

// Window of a MaxPool / AveragePool, one entry per spatial axis.
struct PoolParams {
  std::vector<int64_t> kernel;
  std::vector<int64_t> strides;
  std::vector<int64_t> dilations;  // MaxPool only; AveragePool needs all 1
  std::vector<int64_t> pads_begin;
  std::vector<int64_t> pads_end;
  // Output size rounds up instead of down; a last window that would start in
  // the end padding is dropped.
  bool ceil_mode = false;
  // AveragePool divides by the whole window including padding, instead of
  // by the number of input elements it covers.
  bool count_include_pad = false;
};

// ONNX defaults for `kernel`: stride 1, dilation 1, no padding.
PoolParams DefaultPoolParams(std::vector<int64_t> kernel);

// (N, C, out...). Throws InvalidArgumentError for rank outside 3..5, bad
// parameters, a pad not smaller than the dilated kernel, or a window that
// does not fit.
std::vector<int64_t> PoolOutputShape(const std::vector<int64_t>& x_shape,
                                     const PoolParams& params);

// Maximum over the window's input elements (padding never wins). NaN
// propagates.
void MaxPoolRef(const float* x, const std::vector<int64_t>& x_shape,
                const PoolParams& params, float* y);

// Mean over the window, see PoolParams::count_include_pad. With
// count_include_pad the divisor counts the window positions inside the
// padded input, so windows sticking out past the end padding under
// ceil_mode count only up to the padding (as PyTorch does).
void AveragePoolRef(const float* x, const std::vector<int64_t>& x_shape,
                    const PoolParams& params, float* y);

}  // namespace foldrt::ops::ref

#endif  // FOLDRT_OPS_REF_POOL_REF_H_
