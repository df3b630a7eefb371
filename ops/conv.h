// ONNX Conv (1-D, 2-D, 3-D; groups incl. depthwise; dilations; asymmetric
// pads) as a prepared op on oneDNN's convolution_forward (the direct
// algorithm, or Winograd where allowed and measured faster), with an
// optional fused activation (a post-op).
//
// Built once from constant weights; Run is const and may be called from
// several threads at once. Primitives are created per (input dims, thread
// count) on first use and cached; the weights are reordered once per weight
// layout oneDNN asks for (usually one, blocked) and kept in it.
//
// Activations come in two ways. The plain Run takes and returns NCHW
// (C-contiguous, ONNX order) and reorders into and out of the layouts oneDNN
// picks (nhwc or blocked nChw8c/16c for most shapes) through temporary
// buffers. The layout-aware Run takes and writes the layouts the caller
// names; the runtime asks PreferredLayouts and keeps tensors in them between
// ops, so that no reorder runs inside a chain of convolutions.
//
// Fused activations run in oneDNN's JIT eltwise, which turns ReLU(NaN) into
// 0 and Clip(NaN) into the lower bound (ApplyActivation keeps NaN); the same
// holds for ConvTranspose, MatMul and Gemm.
#ifndef FOLDRT_OPS_CONV_H_
#define FOLDRT_OPS_CONV_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "ops/activation.h"
#include "ops/layout.h"
#include "ops/shared_floats.h"

namespace foldrt::ops {

// One entry per spatial axis, ONNX semantics (dilation 1 = dense kernel).
// An empty vector means the ONNX default: stride 1, dilation 1, pad 0.
struct ConvAttributes {
  std::vector<int64_t> strides, dilations, pads_begin, pads_end;
  int64_t groups = 1;
  // y = act(conv(x) + bias + y): Run adds the convolution to what y holds
  // (oneDNN's sum post-op, before the activation). A residual Add (+ ReLU)
  // after a convolution runs this way, reading the residual once.
  bool accumulate = false;
  // Let a 3x3, stride-1, ungrouped 2-D convolution run oneDNN's Winograd
  // algorithm where it exists (AVX-512 in oneDNN 2.6) and, timed once per
  // shape when the shape is first planned, beats the direct one by 10 %.
  // Winograd rounds differently (relative error ~1e-6 instead of ~1e-7 on
  // the torchvision models); off keeps the direct algorithm everywhere.
  bool winograd = false;
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
  // The same, sharing the weights instead of copying them: they are held
  // until reordered into the layout oneDNN asks for (the first Run), then
  // let go (kept when oneDNN reads them as they are). The bias is copied.
  Conv(SharedFloats weights, std::vector<int64_t> weight_dims,
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

  // The layouts oneDNN's fastest implementation for this input reads and
  // writes (it chooses with format "any"): oneDNN 2.6 picks nhwc for its
  // brgemm convolutions on AVX-512, nChw8c / nChw16c for its direct JIT
  // ones (AVX2) and nChw16c for Winograd, nchw for the source of a first
  // layer with few channels; kNchw also where it picks a layout foldrt has
  // no name for or refuses the shape (Run then says why). Throws
  // InvalidArgumentError like OutputDims for an input that does not fit.
  // `threads` (as in Run) is the count the caller will run with: the
  // Winograd decision is timed under it.
  struct Layouts {
    Layout src = Layout::kNchw;
    Layout dst = Layout::kNchw;
  };
  Layouts PreferredLayouts(const std::vector<int64_t>& x_dims,
                           int threads = 1) const;
  // Whether this input shape runs the Winograd algorithm
  // (ConvAttributes::winograd) under `threads`: decided by timing both
  // algorithms under that thread count, by the first PreferredLayouts, Run
  // or Prepare for the shape; the same problem in another Conv reuses the
  // decision.
  bool UsesWinograd(const std::vector<int64_t>& x_dims, int threads) const;

  // What the primitive of one Run actually is, as opposed to what
  // UsesWinograd decided: a Winograd request that oneDNN refuses in the
  // layouts a caller forced runs the direct algorithm. `name` is oneDNN's
  // implementation name (primitive_desc::impl_info_str(), e.g.
  // "jit_wino_4x3:avx512_core" or "brg:avx512_core"); empty, with kDirect,
  // for a zero batch, which builds no primitive.
  enum class Algorithm { kDirect, kWinograd };
  struct Implementation {
    Algorithm algorithm = Algorithm::kDirect;
    std::string name;
  };
  // The primitive the plain Run uses for `x_dims` under `threads`, and the
  // one the layout-aware Run (or Prepare) uses with these layouts. Builds it
  // as Prepare does when the shape has none yet; throws like Run.
  Implementation ImplementationFor(const std::vector<int64_t>& x_dims,
                                   int threads) const;
  Implementation ImplementationFor(const std::vector<int64_t>& x_dims,
                                   Layout x_layout, Layout y_layout,
                                   int threads) const;
  // As Run above, with x in `x_layout` and y written in `y_layout` (any
  // Layout; blocked buffers hold the channels padded to the block, zero in
  // the padding, and Run writes zeros there). No reorder runs inside.
  void Run(const float* x, const std::vector<int64_t>& x_dims, Layout x_layout,
           float* y, Layout y_layout, int threads) const;

  // Everything that Run with these arguments would do before computing:
  // builds (JIT-compiles) the primitive and packs the weights into its
  // layout, so that the first Run only computes. The session calls it when
  // it plans a shape.
  void Prepare(const std::vector<int64_t>& x_dims, Layout x_layout,
               Layout y_layout, int threads) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace foldrt::ops

#endif  // FOLDRT_OPS_CONV_H_
