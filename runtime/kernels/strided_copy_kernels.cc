// Strided copy kernels: Transpose, Slice and the fused channel shuffle
// (Reshape -> Transpose -> Reshape), each planned as one StridedCopy of its
// input (runtime/kernels/tensor_kernels.h); Slice and the shuffle also run
// on channels-last tensors. Float32 and int64 alike.
#include <algorithm>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include "core/error.h"
#include "graph/graph.h"
#include "runtime/kernels/kernel.h"
#include "runtime/kernels/kernel_util.h"
#include "runtime/kernels/tensor_kernels.h"
#include "runtime/op_attributes.h"
#include "runtime/op_registry.h"

namespace foldrt::runtime {
namespace {

// ------------------------------------------------------ Transpose

class TransposeKernel : public Kernel {
 public:
  explicit TransposeKernel(const KernelBuildContext& ctx)
      : perm_(OptionalInts(ctx.node(), "perm")) {}

  KernelPlan Plan(const std::vector<const PlanInput*>& inputs) const override {
    const PlanInput& x = RequiredInput(inputs, 0);
    const std::vector<int64_t> perm = TransposePerm(perm_, x.shape.size());
    const std::vector<int64_t> in_strides = ContiguousStrides(x.shape);
    auto state = std::make_unique<StridedState>();
    std::vector<int64_t> shape(perm.size());
    for (size_t i = 0; i < perm.size(); ++i) {
      shape[i] = x.shape[perm[i]];
      state->strides.push_back(in_strides[perm[i]]);
    }
    return OneOutputPlan({x.dtype, shape}, std::move(state));
  }

  void Run(const KernelArgs& args) const override { RunStridedCopy(args); }

 private:
  std::optional<std::vector<int64_t>> perm_;
};

// ------------------------------------------------------ channel shuffle

struct ShuffleState : StridedState {
  bool channels_last = false;  // the per-pixel channel permutation
  int64_t pixels = 0, channels = 0, groups = 0;
};

class ReshapeTransposeReshapeKernel : public Kernel {
 public:
  ReshapeTransposeReshapeKernel(const KernelBuildContext& first,
                                const graph::Node& transpose,
                                const KernelBuildContext& second)
      : allow_zero_first_(first.node().GetInt("allowzero", 0) != 0),
        allow_zero_second_(second.node().GetInt("allowzero", 0) != 0),
        perm_(OptionalInts(transpose, "perm")) {}

  KernelPlan Plan(const std::vector<const PlanInput*>& inputs) const override {
    const PlanInput& x = RequiredInput(inputs, 0);
    const std::vector<int64_t> split = ReshapeOutputShape(
        x.shape, KnownInt64Input(inputs, 1, "shape"), allow_zero_first_);
    const std::vector<int64_t> perm = TransposePerm(perm_, split.size());
    std::vector<int64_t> transposed(perm.size());
    for (size_t i = 0; i < perm.size(); ++i) transposed[i] = split[perm[i]];
    const std::vector<int64_t> shape = ReshapeOutputShape(
        transposed, KnownInt64Input(inputs, 2, "shape"), allow_zero_second_);
    auto state = std::make_unique<ShuffleState>();
    KernelPlan plan;
    plan.input_layouts.assign(inputs.size(), ops::Layout::kNchw);
    const bool shuffle =
        x.layout == ops::Layout::kNhwc && x.dtype == DataType::kFloat32 &&
        x.shape.size() == 4 && split.size() == 5 && shape == x.shape &&
        perm == std::vector<int64_t>{0, 2, 1, 3, 4} && split[0] == x.shape[0] &&
        split[1] > 0 && split[2] > 0 && split[1] * split[2] == x.shape[1] &&
        split[3] == x.shape[2] && split[4] == x.shape[3];
    if (shuffle) {
      state->channels_last = true;
      state->pixels = x.shape[0] * x.shape[2] * x.shape[3];
      state->channels = x.shape[1];
      state->groups = split[1];
      plan.input_layouts[0] = ops::Layout::kNhwc;
      plan.outputs = {{x.dtype, shape, ops::Layout::kNhwc}};
    } else {
      const std::vector<int64_t> in_strides = ContiguousStrides(split);
      for (int64_t axis : perm) state->strides.push_back(in_strides[axis]);
      state->buffer_shape = transposed;
      plan.outputs = {{x.dtype, shape}};
    }
    plan.state = std::move(state);
    return plan;
  }

  void Run(const KernelArgs& args) const override {
    const auto& state = static_cast<const ShuffleState&>(*args.state);
    if (!state.channels_last) {
      RunStridedCopy(args);
      return;
    }
    const float* x = args.inputs[0]->data<float>();
    float* y = args.outputs[0]->mutable_data<float>();
    const int64_t c = state.channels;
    const int64_t g = state.groups;
    const int64_t per_group = c / g;
    ParallelFor(state.pixels, args.threads,
                std::max<int64_t>(1, (int64_t{1} << 14) / (c + 1)),
                [&](int64_t begin, int64_t end) {
                  for (int64_t p = begin; p < end; ++p) {
                    const float* src = x + p * c;
                    float* dst = y + p * c;
                    if (g == 2) {  // ShuffleNet: interleave the two halves
                      const float* hi = src + per_group;
                      for (int64_t j = 0; j < per_group; ++j) {
                        dst[2 * j] = src[j];
                        dst[2 * j + 1] = hi[j];
                      }
                      continue;
                    }
                    // Channel i * (C / g) + j goes to j * g + i.
                    for (int64_t i = 0; i < g; ++i) {
                      for (int64_t j = 0; j < per_group; ++j) {
                        dst[j * g + i] = src[i * per_group + j];
                      }
                    }
                  }
                });
  }

 private:
  bool allow_zero_first_;
  bool allow_zero_second_;
  std::optional<std::vector<int64_t>> perm_;
};

// ------------------------------------------------------ Slice

class SliceKernel : public Kernel {
 public:
  explicit SliceKernel(const KernelBuildContext& ctx)
      : bounds_are_inputs_(ctx.opset() >= 10) {
    if (!bounds_are_inputs_) {
      starts_ = ctx.node().GetInts("starts");
      ends_ = ctx.node().GetInts("ends");
      axes_ = OptionalInts(ctx.node(), "axes");
    }
  }

  KernelPlan Plan(const std::vector<const PlanInput*>& inputs) const override {
    const PlanInput& x = RequiredInput(inputs, 0);
    std::vector<int64_t> starts = starts_;
    std::vector<int64_t> ends = ends_;
    std::optional<std::vector<int64_t>> axes = axes_;
    std::optional<std::vector<int64_t>> steps;
    if (bounds_are_inputs_) {
      starts = KnownInt64Input(inputs, 1, "starts");
      ends = KnownInt64Input(inputs, 2, "ends");
      if (inputs.size() > 3 && inputs[3] != nullptr) {
        axes = KnownInt64Input(inputs, 3, "axes");
      }
      if (inputs.size() > 4 && inputs[4] != nullptr) {
        steps = KnownInt64Input(inputs, 4, "steps");
      }
    }
    const size_t rank = x.shape.size();
    const SliceGeometry geometry =
        ResolveSlice(x.shape, starts, ends, axes, steps);
    const std::vector<int64_t>& begin = geometry.begin;
    const std::vector<int64_t>& step = geometry.step;
    const std::vector<int64_t>& shape = geometry.shape;
    auto state = std::make_unique<StridedState>();
    KernelPlan plan;
    if (x.layout == ops::Layout::kNhwc && rank == 4 &&
        x.dtype == DataType::kFloat32) {
      // Channels-last in and out (ShuffleNet's channel split): the same
      // copy over the buffer's (N, H, W, C) order.
      const int64_t sw = x.shape[1];
      const int64_t sh = x.shape[3] * sw;
      const int64_t sn = x.shape[2] * sh;
      const int64_t physical_strides[] = {sn, 1, sh, sw};  // by logical axis
      for (size_t axis : {0u, 2u, 3u, 1u}) {
        if (shape[axis] > 0) {
          state->base += begin[axis] * physical_strides[axis];
        }
        state->strides.push_back(physical_strides[axis] * step[axis]);
        state->buffer_shape.push_back(shape[axis]);
      }
      plan.outputs = {{x.dtype, shape, ops::Layout::kNhwc}};
      plan.input_layouts.assign(inputs.size(), ops::Layout::kNchw);
      plan.input_layouts[0] = ops::Layout::kNhwc;
      plan.state = std::move(state);
      return plan;
    }
    const std::vector<int64_t> in_strides = ContiguousStrides(x.shape);
    for (size_t axis = 0; axis < rank; ++axis) {
      if (shape[axis] > 0) state->base += begin[axis] * in_strides[axis];
      state->strides.push_back(in_strides[axis] * step[axis]);
    }
    plan.outputs = {{x.dtype, shape}};
    plan.state = std::move(state);
    return plan;
  }

  void Run(const KernelArgs& args) const override {
    if (args.outputs[0]->NumElements() == 0) return;
    RunStridedCopy(args);
  }

 private:
  bool bounds_are_inputs_;
  std::vector<int64_t> starts_;
  std::vector<int64_t> ends_;
  std::optional<std::vector<int64_t>> axes_;
};

}  // namespace

std::unique_ptr<Kernel> CreateReshapeTransposeReshape(
    const KernelBuildContext& first, const graph::Node& transpose,
    const KernelBuildContext& second) {
  return std::make_unique<ReshapeTransposeReshapeKernel>(first, transpose,
                                                         second);
}

void RegisterStridedCopyKernels(OpRegistry* registry) {
  registry->AddKernel("Slice", "default", NewKernel<SliceKernel>);
  registry->AddKernel("Transpose", "default", NewKernel<TransposeKernel>);
}

}  // namespace foldrt::runtime
