// ONNX ConvTranspose (1-D, 2-D, 3-D; groups; dilations; asymmetric pads;
// output_padding) as a prepared op on oneDNN's deconvolution_forward (direct
// algorithm), with an optional fused activation (a post-op).
//
// Same contract as ops/conv.h: built once from constant weights, Run const
// and thread-safe, primitives cached per (input dims, thread count), weights
// reordered once per layout oneDNN asks for, plain NCHW in and out (with a
// reorder into and out of oneDNN's chosen layout inside Run when they
// differ).
//
// Not covered: ONNX's output_shape attribute (resolve it into pads with
// ref::SetConvTransposeOutputSize before building the op) and auto_pad
// (ref::ResolveAutoPad); both need the input shape.
#ifndef FOLDRT_OPS_CONV_TRANSPOSE_H_
#define FOLDRT_OPS_CONV_TRANSPOSE_H_

#include <cstdint>
#include <memory>
#include <vector>

#include "ops/activation.h"
#include "ops/shared_floats.h"

namespace foldrt::ops {

// One entry per spatial axis, ONNX semantics: pads are cropped from the full
// output, output_padding adds rows/columns at the end. An empty vector means
// the ONNX default (stride 1, dilation 1, pad 0, output_padding 0).
struct ConvTransposeAttributes {
  std::vector<int64_t> strides, dilations, pads_begin, pads_end, output_padding;
  int64_t groups = 1;
};

class ConvTranspose {
 public:
  // weights: (Cin, Cout / groups, k...) row-major (ONNX layout), 1 to 3
  // spatial axes; bias: Cout floats or null. Both are copied. Throws
  // InvalidArgumentError for a bad weight shape, attribute lengths that do
  // not match its spatial rank, values out of range or groups not dividing
  // Cin; UnsupportedError when output_padding - pad_end reaches the stride
  // (oneDNN takes output_padding as a negative end pad, which must stay
  // above -stride; ONNX allows it up to the dilation).
  ConvTranspose(const float* weights, std::vector<int64_t> weight_dims,
                const float* bias, ConvTransposeAttributes attrs,
                Activation act = {});
  // The same, sharing the weights as Conv's sharing constructor does.
  ConvTranspose(SharedFloats weights, std::vector<int64_t> weight_dims,
                const float* bias, ConvTransposeAttributes attrs,
                Activation act = {});
  ~ConvTranspose();
  ConvTranspose(ConvTranspose&&) noexcept;
  ConvTranspose& operator=(ConvTranspose&&) noexcept;

  const std::vector<int64_t>& weight_dims() const;

  // (N, Cout, out...) with out = stride * (in - 1) + output_padding +
  // dilation * (k - 1) + 1 - pad_begin - pad_end. Throws
  // InvalidArgumentError when the input does not fit.
  std::vector<int64_t> OutputDims(const std::vector<int64_t>& input_dims) const;

  // y (OutputDims(x_dims) elements) = act(conv_transpose(x) + bias). Same
  // contract as Conv::Run.
  void Run(const float* x, const std::vector<int64_t>& x_dims, float* y,
           int threads) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace foldrt::ops

#endif  // FOLDRT_OPS_CONV_TRANSPOSE_H_
