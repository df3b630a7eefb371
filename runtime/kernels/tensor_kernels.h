// What the tensor kernel families share (shape_kernels.cc,
// strided_copy_kernels.cc, data_movement_kernels.cc, cast_kernel.cc): the
// copy of a view that could not share its input's buffer, the identity
// kernel (Identity, Dropout, an all-zero Pad) and the strided copy that
// Transpose, Slice and the channel shuffle plan. Private to these files.
#ifndef FOLDRT_RUNTIME_KERNELS_TENSOR_KERNELS_H_
#define FOLDRT_RUNTIME_KERNELS_TENSOR_KERNELS_H_

#include <cstdint>
#include <cstring>
#include <memory>
#include <utility>
#include <vector>

#include "core/tensor.h"
#include "ops/layout.h"
#include "runtime/kernels/kernel.h"
#include "runtime/kernels/kernel_util.h"

namespace foldrt::runtime {

// Copies input 0 into output 0 unless the session made them share a buffer.
inline void CopyIfDistinct(const KernelArgs& args) {
  const Tensor& x = *args.inputs[0];
  Tensor& y = *args.outputs[0];
  if (y.raw_data() != x.raw_data() && x.ByteSize() > 0) {
    std::memcpy(y.mutable_raw_data(), x.raw_data(), x.ByteSize());
  }
}

struct IdentityState : KernelState {
  ops::Layout layout = ops::Layout::kNchw;
};

// The output is the input, in whatever layout it comes: a view that keeps a
// convolution's channels-last or blocked tensor as it is.
class IdentityKernel : public Kernel {
 public:
  explicit IdentityKernel(size_t num_outputs = 1) : num_outputs_(num_outputs) {}

  KernelPlan Plan(const std::vector<const PlanInput*>& inputs) const override {
    const PlanInput& x = RequiredInput(inputs, 0);
    auto state = std::make_unique<IdentityState>();
    state->layout = x.layout;
    KernelPlan plan;
    plan.outputs.resize(num_outputs_);
    plan.outputs[0] = {x.dtype, x.shape, x.layout};
    plan.input_layouts = FirstInputIn(x.layout, inputs);
    plan.state = std::move(state);
    return plan;
  }
  // Runs only where the session cannot share the buffer (a graph output).
  void Run(const KernelArgs& args) const override {
    const Tensor& x = *args.inputs[0];
    Tensor& y = *args.outputs[0];
    const auto layout = static_cast<const IdentityState&>(*args.state).layout;
    const size_t bytes =
        static_cast<size_t>(BufferElementCount(x.shape(), layout)) *
        DataTypeSize(x.dtype());
    if (y.raw_data() != x.raw_data() && bytes > 0) {
      std::memcpy(y.mutable_raw_data(), x.raw_data(), bytes);
    }
  }
  int AliasedInput() const override { return 0; }

 private:
  size_t num_outputs_;
};

// A copy of input 0 read at base + strides (StridedCopy), as Plan set it.
struct StridedState : KernelState {
  int64_t base = 0;
  std::vector<int64_t> strides;  // source strides per output axis
  // The output in the order its buffer holds it, when that is not its
  // logical shape (channels-last: (N, H, W, C)); empty: y.shape().
  std::vector<int64_t> buffer_shape;
};

// Runs the copy a StridedState (or a state derived from it) describes.
inline void RunStridedCopy(const KernelArgs& args) {
  const auto& state = static_cast<const StridedState&>(*args.state);
  const Tensor& x = *args.inputs[0];
  Tensor& y = *args.outputs[0];
  DispatchDataType(x.dtype(), [&](auto tag) {
    using T = decltype(tag);
    StridedCopy(x.data<T>(), state.base, state.strides,
                state.buffer_shape.empty() ? y.shape() : state.buffer_shape,
                y.mutable_data<T>(), args.threads);
    return 0;
  });
}

}  // namespace foldrt::runtime

#endif  // FOLDRT_RUNTIME_KERNELS_TENSOR_KERNELS_H_
