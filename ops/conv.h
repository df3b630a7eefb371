// ONNX Conv (1-D, 2-D, 3-D; groups incl. depthwise; dilations; asymmetric
// pads) as a prepared op on oneDNN's convolution_forward (direct algorithm),
// with an optional fused activation (a post-op).
//
// Built once from constant weights; Run is const and may be called from
// several threads at once. Primitives are created per (input dims, thread
// count) on first use and cached; the weights are reordered once per weight
// layout oneDNN asks for (usually one, blocked) and kept in it.
//
// Activations are plain NCHW (C-contiguous, ONNX order) in and out. oneDNN
// picks its own src/dst layouts (blocked nChw16c on AVX-512 for most
// shapes), so Run reorders the input into it and the output back out of it
// through temporary buffers; a later layout pass will keep tensors blocked
// between ops and remove those two copies.
//
// Fused activations run in oneDNN's JIT eltwise, which turns ReLU(NaN) into
// 0 and Clip(NaN) into the lower bound (ApplyActivation keeps NaN); the same
// holds for ConvTranspose, MatMul and Gemm.
#ifndef FOLDRT_OPS_CONV_H_
#define FOLDRT_OPS_CONV_H_

#include <cstdint>
#include <memory>
#include <vector>

#include "ops/activation.h"

namespace foldrt::ops {

// One entry per spatial axis, ONNX semantics (dilation 1 = dense kernel).
// An empty vector means the ONNX default: stride 1, dilation 1, pad 0.
struct ConvAttributes {
  std::vector<int64_t> strides, dilations, pads_begin, pads_end;
  int64_t groups = 1;
};

class Conv {
 public:
  // weights: (Cout, Cin / groups, k...) row-major, 1 to 3 spatial axes;
  // bias: Cout floats or null. Both are copied. Throws InvalidArgumentError
  // for a bad weight shape, attribute lengths that do not match its spatial
  // rank, values out of range (stride/dilation < 1, pad < 0, groups < 1 or
  // not dividing Cout) or a null weights pointer.
  Conv(const float* weights, std::vector<int64_t> weight_dims,
       const float* bias, ConvAttributes attrs, Activation act = {});
  ~Conv();
  Conv(Conv&&) noexcept;
  Conv& operator=(Conv&&) noexcept;

  const std::vector<int64_t>& weight_dims() const;

  // (N, Cout, out...) for an input (N, Cin, in...). Throws
  // InvalidArgumentError when the input does not fit (rank, channel count,
  // kernel larger than the padded input, ...).
  std::vector<int64_t> OutputDims(const std::vector<int64_t>& input_dims) const;

  // y (OutputDims(x_dims) elements) = act(conv(x) + bias). x and y must not
  // overlap. threads: 0 = every core OpenMP sees, n > 0 = exactly n. The
  // first Run for a shape validates it like OutputDims and builds the
  // primitive; later Runs with that shape only look it up.
  void Run(const float* x, const std::vector<int64_t>& x_dims, float* y,
           int threads) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace foldrt::ops

#endif  // FOLDRT_OPS_CONV_H_
