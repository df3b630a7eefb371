// ONNX pooling over the spatial axes of (N, C, ...) on oneDNN's
// pooling_v2_forward: MaxPool (with dilations), AveragePool
// (count_include_pad 0 or 1), GlobalAveragePool and GlobalMaxPool; windows
// over 1 to 3 spatial axes (1-D runs as 2-D with a unit height), global
// pooling over any number; ceil_mode.
//
// Output sizes follow ops/ref/pool_ref (PyTorch's rule: with ceil_mode a
// last window that would start in the end padding is dropped). oneDNN has no
// ceil_mode: it gets an end pad enlarged until its floor formula gives that
// size. Its include-padding average always divides by the whole kernel,
// while PyTorch/ONNX Runtime count only window positions inside the
// user-given padding; for the windows that stick out past it (ceil_mode
// only) Run rescales those outputs afterwards.
//
// Same contract as the other prepared ops: Run const and thread-safe,
// primitives cached per (input dims, thread count), plain NCHW in and out.
// Known difference from the reference: oneDNN's JIT MaxPool does not
// promise to propagate NaN.
#ifndef FOLDRT_OPS_POOL_H_
#define FOLDRT_OPS_POOL_H_

#include <cstdint>
#include <memory>
#include <vector>

namespace foldrt::ops {

enum class PoolKind { kMax, kAverage, kGlobalAverage, kGlobalMax };

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

  // y (OutputDims(x_dims) elements) from x; they must not overlap.
  // threads: 0 = every core OpenMP sees, n > 0 = exactly n. The first Run
  // for a shape validates it like OutputDims.
  void Run(const float* x, const std::vector<int64_t>& x_dims, float* y,
           int threads) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace foldrt::ops

#endif  // FOLDRT_OPS_POOL_H_
