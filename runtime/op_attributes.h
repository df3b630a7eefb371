// ONNX attribute parsing and output-shape rules shared by the reference
// evaluator and the runtime's kernels, so that both read a node the same way
// (same defaults, same opset rules, same refusals).
//
// Attribute readers run once per node (the kernels call them at load time,
// so that a bad attribute is reported before any input arrives); resolvers
// combine what they read with the input shapes. Every function throws
// InvalidArgumentError (or UnsupportedError for valid values foldrt does not
// implement) without node context: the callers add the node and op.
#ifndef FOLDRT_RUNTIME_OP_ATTRIBUTES_H_
#define FOLDRT_RUNTIME_OP_ATTRIBUTES_H_

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "graph/graph.h"
#include "ops/ref/conv_ref.h"
#include "ops/ref/conv_transpose_ref.h"
#include "ops/ref/gemm_ref.h"
#include "ops/ref/pool_ref.h"
#include "ops/ref/shape_util.h"

namespace foldrt::runtime {

// An axis attribute in [-rank, rank) (or [-rank, rank] when `inclusive`, for
// Flatten), made non-negative. Returns -1 when out of range.
int64_t NormalizeAxis(int64_t axis, int64_t rank, bool inclusive = false);

// NormalizeAxis that throws InvalidArgumentError ("axis 3 is out of range
// for shape (2, 3)") instead of returning -1.
int64_t CheckedAxis(int64_t axis, const std::vector<int64_t>& shape,
                    bool inclusive = false);

// numpy broadcasting of two shapes (right-aligned, size-1 axes stretch).
std::vector<int64_t> BroadcastShapes(const std::vector<int64_t>& a,
                                     const std::vector<int64_t>& b);

// Product of shape[from, to).
int64_t ShapeProduct(const std::vector<int64_t>& shape, size_t from, size_t to);

// Row-major element strides of `shape`.
std::vector<int64_t> ContiguousStrides(const std::vector<int64_t>& shape);

// Element strides for reading a C-order tensor of `shape` as if broadcast
// to `out` (0 on broadcast axes, so that a strided read repeats it).
// `shape` must broadcast to `out`.
std::vector<int64_t> BroadcastStrides(const std::vector<int64_t>& shape,
                                      const std::vector<int64_t>& out);

// --------------------------------------------------- windowed ops

// The window attributes Conv, ConvTranspose and the pools share, with ONNX
// defaults, checked for length and range; pads split into begin and end.
struct WindowAttributes {
  ops::ref::AutoPad auto_pad = ops::ref::AutoPad::kNotSet;
  std::vector<int64_t> strides;
  std::vector<int64_t> dilations;
  std::vector<int64_t> pads_begin;
  std::vector<int64_t> pads_end;
};
WindowAttributes ReadWindowAttributes(const graph::Node& node,
                                      size_t spatial_rank);

struct ConvAttributes {
  WindowAttributes window;
  int64_t groups = 1;
  std::optional<std::vector<int64_t>> kernel_shape;  // when given
};
ConvAttributes ReadConvAttributes(const graph::Node& node, size_t spatial_rank);
// Checks kernel_shape against W and resolves auto_pad for x's spatial size.
ops::ref::ConvParams ResolveConvParams(const ConvAttributes& attrs,
                                       const std::vector<int64_t>& x_shape,
                                       const std::vector<int64_t>& w_shape);

struct ConvTransposeAttributes {
  WindowAttributes window;
  int64_t groups = 1;
  std::vector<int64_t> output_padding;
  std::optional<std::vector<int64_t>> output_shape;  // spatial part
  std::optional<std::vector<int64_t>> kernel_shape;
};
// auto_pad SAME_* is refused (UnsupportedError): the spec and the runtimes
// disagree on where SAME puts the odd crop (onnx/onnx#2788, #4527).
ConvTransposeAttributes ReadConvTransposeAttributes(const graph::Node& node,
                                                    size_t spatial_rank);
ops::ref::ConvTransposeParams ResolveConvTransposeParams(
    const ConvTransposeAttributes& attrs, const std::vector<int64_t>& x_shape,
    const std::vector<int64_t>& w_shape);

// MaxPool / AveragePool: kernel_shape is required and sets the spatial
// rank.
struct PoolAttributes {
  WindowAttributes window;
  std::vector<int64_t> kernel;
  bool ceil_mode = false;
  bool count_include_pad = false;
};
PoolAttributes ReadPoolAttributes(const graph::Node& node);
ops::ref::PoolParams ResolvePoolParams(const PoolAttributes& attrs,
                                       const std::vector<int64_t>& x_shape);

ops::ref::GemmParams ReadGemmParams(const graph::Node& node);

// --------------------------------------------------- shape ops

// Reshape's target: 0 copies the input dim (unless allowzero), one -1 is
// inferred.
std::vector<int64_t> ReshapeOutputShape(const std::vector<int64_t>& x_shape,
                                        const std::vector<int64_t>& target,
                                        bool allow_zero);
// (product of dims before axis, product of dims from axis).
std::vector<int64_t> FlattenOutputShape(const std::vector<int64_t>& x_shape,
                                        int64_t axis);
std::vector<int64_t> UnsqueezeOutputShape(const std::vector<int64_t>& x_shape,
                                          const std::vector<int64_t>& axes);
// Empty axes drop every size-1 axis.
std::vector<int64_t> SqueezeOutputShape(const std::vector<int64_t>& x_shape,
                                        const std::vector<int64_t>& axes);
// Squeeze / Unsqueeze (and ReduceMean before opset 18) take axes as an
// attribute before opset 13 and as an input from 13 on.
bool AxesAreAnInput(const graph::Node& node, int64_t opset);

// An ints attribute, or nullopt when the node does not set it.
std::optional<std::vector<int64_t>> OptionalInts(const graph::Node& node,
                                                 const std::string& name);

// Transpose's perm for `rank` axes: the attribute's value (nullopt: reversed
// axes), checked to be a permutation.
std::vector<int64_t> TransposePerm(
    const std::optional<std::vector<int64_t>>& perm_attribute, size_t rank);

// Shape's opset-15 [start, end), clamped like Python slices.
std::pair<int64_t, int64_t> ShapeOpRange(const graph::Node& node, int64_t rank);

// Softmax over `length` values spaced `inner` apart, `outer` times. Before
// opset 13 Softmax flattens x to 2-D at `axis` (default 1) and normalizes
// each row; from 13 on it normalizes along `axis` (default -1).
struct SoftmaxGeometry {
  int64_t outer = 1;
  int64_t length = 1;
  int64_t inner = 1;
};
// The axis attribute with the opset's default.
int64_t SoftmaxAxis(const graph::Node& node, int64_t opset);
SoftmaxGeometry SoftmaxGeometryFor(int64_t axis, int64_t opset,
                                   const std::vector<int64_t>& x_shape);

// --------------------------------------------------- data movement ops
// `what` in these is how the caller's messages show x ("float32 (2, 3)").

// Slice: where each axis starts, its step, and the output shape, with
// starts and ends clamped as the spec says ([0, dim] forward, [-1, dim - 1]
// backward). `axes` and `steps` are nullopt when the node omits them.
struct SliceGeometry {
  std::vector<int64_t> begin;
  std::vector<int64_t> step;
  std::vector<int64_t> shape;
};
SliceGeometry ResolveSlice(const std::vector<int64_t>& x_shape,
                           const std::vector<int64_t>& starts,
                           const std::vector<int64_t>& ends,
                           const std::optional<std::vector<int64_t>>& axes,
                           const std::optional<std::vector<int64_t>>& steps);

// Split: the size of each of `num_outputs` parts along `axis` (the `split`
// values when given, else equal parts).
std::vector<int64_t> ResolveSplitSizes(
    const std::vector<int64_t>& x_shape, size_t axis,
    const std::optional<std::vector<int64_t>>& sizes, size_t num_outputs,
    const std::string& what);

// ReduceMean: which axes are reduced (empty `axes`: all of them, unless
// noop_with_empty_axes), and the output shape.
std::vector<bool> ReducedAxes(const std::vector<int64_t>& x_shape,
                              const std::vector<int64_t>& axes,
                              bool noop_with_empty_axes);
std::vector<int64_t> ReduceOutputShape(const std::vector<int64_t>& x_shape,
                                       const std::vector<bool>& reduced,
                                       bool keep_dims);

// Pad: the mode attribute (UnsupportedError for other modes), and for each
// axis, each output coordinate's source coordinate in x, or -1 for a padded
// position of constant mode (the map's length is the output dim).
enum class PadMode { kConstant, kReflect, kEdge };
PadMode ReadPadMode(const graph::Node& node);
std::vector<std::vector<int64_t>> PadSourceIndices(
    const std::vector<int64_t>& x_shape, const std::vector<int64_t>& pads,
    PadMode mode, const std::string& what);

// Cast: the `to` attribute, float or int64 (what foldrt computes in);
// InvalidArgumentError when missing, UnsupportedError for other types.
graph::DataType ReadCastTarget(const graph::Node& node);
// float -> int64 truncates toward zero; ONNX leaves NaN and out-of-range
// values undefined, foldrt saturates them (NaN -> 0) instead of UB.
inline int64_t CastFloatToInt64(float v) {
  constexpr float kLimit = 9.2233720368547758e18f;  // 2^63
  if (v != v) return 0;
  if (v >= kLimit) return INT64_MAX;
  if (v < -kLimit) return INT64_MIN;
  return static_cast<int64_t>(v);
}

// min(1, max(0, alpha * v + beta)), NaN passing through.
inline double HardSigmoidOf(double v, double alpha, double beta) {
  const double r = alpha * v + beta;
  if (r != r) return r;
  return r < 0.0 ? 0.0 : (r > 1.0 ? 1.0 : r);
}

}  // namespace foldrt::runtime

#endif  // FOLDRT_RUNTIME_OP_ATTRIBUTES_H_
