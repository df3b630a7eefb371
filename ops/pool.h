// ONNX pooling over the spatial axes of (N, C, ...) on oneDNN's
// pooling_v2_forward and Highway kernels (see "Implementations" below):
// MaxPool (with dilations), AveragePool (count_include_pad 0 or 1),
// GlobalAveragePool and GlobalMaxPool; windows over 1 to 3 spatial axes (1-D
// runs as 2-D with a unit height), global pooling over any number;
// ceil_mode.
//
// Output sizes follow ops/ref/pool_ref (PyTorch's rule: with ceil_mode a
// last window that would start in the end padding is dropped). oneDNN has no
// ceil_mode: it gets an end pad enlarged until its floor formula gives that
// size. Its include-padding average always divides by the whole kernel,
// while PyTorch/ONNX Runtime count only window positions inside the
// user-given padding; for the windows that stick out past it (ceil_mode
// only) Run rescales those outputs afterwards, in any layout. The Highway
// kernels compute PyTorch's divisors directly.
//
// Layouts (ops/layout.h): plain NCHW for every rank; oneDNN's
// channel-blocked nChw8c / nChw16c for rank-4 inputs (2-D windows and the
// global kinds), so that pooling between blocked convolutions needs no
// reorder. y comes out in x's layout.
//
// Implementations, picked per (dims, layout):
//  - blocked: oneDNN's pooling on exactly that format (its JIT kernels, no
//    reorder). The primitive runs on the padded channel count: the padding
//    channels are pooled like real ones, so y's come out zero because x's
//    are, and oneDNN sees no padded area it could zero-fill in x.
//  - plain NCHW, 1-D / 2-D windows without dilation and the global kinds:
//    Highway kernels on the planes (oneDNN's plain-layout pooling is a
//    scalar loop for many shapes; see bench/ops/pool_bench.cc);
//  - plain NCHW otherwise (3-D windows, dilated MaxPool): oneDNN.
//
// Same contract as the other prepared ops: Run const and thread-safe,
// prepared state cached per (input dims, layout, thread count). Known
// difference from the reference: MaxPool does not promise to propagate NaN
// (oneDNN's JIT and the Highway max differ per target).
#ifndef FOLDRT_OPS_POOL_H_
#define FOLDRT_OPS_POOL_H_

#include <cstdint>
#include <memory>
#include <vector>

#include "ops/layout.h"

namespace foldrt::ops {

enum class PoolKind { kMax, kAverage, kGlobalAverage, kGlobalMax };

// The ONNX op type: "MaxPool", "AveragePool", "GlobalAveragePool",
// "GlobalMaxPool".
const char* PoolKindName(PoolKind kind);

// Window attributes, one entry per spatial axis (ignored by the global
// kinds). kernel is required; an empty strides / dilations / pads vector
// means the ONNX default (1, 1, 0).
struct PoolAttributes {
  PoolKind kind = PoolKind::kMax;
  std::vector<int64_t> kernel, strides, dilations, pads_begin, pads_end;
  bool ceil_mode = false;
  bool count_include_pad = false;  // kAverage only
};

class Pool {
 public:
  // Throws InvalidArgumentError for a missing or out-of-range kernel,
  // attribute lengths that differ from the kernel's, values out of range,
  // or a pad not smaller than the (dilated) kernel; UnsupportedError for an
  // AveragePool with dilations (ONNX opset 19).
  explicit Pool(PoolAttributes attrs);
  ~Pool();
  Pool(Pool&&) noexcept;
  Pool& operator=(Pool&&) noexcept;

  PoolKind kind() const;

  // (N, C, out...) for an input (N, C, in...); (N, C, 1, ...) for the
  // global kinds. Throws InvalidArgumentError when the input does not fit
  // (rank outside 3..5 or not matching the kernel, a window that does not
  // fit).
  std::vector<int64_t> OutputDims(const std::vector<int64_t>& input_dims) const;

  // Whether Run accepts `layout` for an input of rank `rank`: kNchw always
  // (the rank is checked by Run); kNhwc, kNChw8c and kNChw16c for rank 4,
  // windowed and global kinds.
  bool SupportsLayout(Layout layout, size_t rank) const;

  // y (OutputDims(x_dims) logical elements) from x, both in `layout`; they
  // must not overlap. x_dims is the logical (N, C, ...) shape. Blocked
  // buffers hold ceil(C / b) * b channels (BufferElements): the padding
  // channels of x must be zero, and Run writes zeros into those of y.
  // threads: 0 = every core OpenMP sees, n > 0 = exactly n. Throws
  // InvalidArgumentError for a layout SupportsLayout refuses; the first Run
  // for a shape validates it like OutputDims. Nothing is written to y when
  // it throws.
  void Run(const float* x, const std::vector<int64_t>& x_dims, Layout layout,
           float* y, int threads) const;

  // Run(x, x_dims, Layout::kNchw, y, threads).
  void Run(const float* x, const std::vector<int64_t>& x_dims, float* y,
           int threads) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace foldrt::ops

#endif  // FOLDRT_OPS_POOL_H_
