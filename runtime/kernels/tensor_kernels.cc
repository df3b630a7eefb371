// Data movement and shape kernels: Flatten, Reshape, Squeeze, Unsqueeze,
// Identity, Dropout (views of their input), Transpose, Concat, Split,
// Slice, Gather, Cast, Pad, Shape and Constant. Float32 and int64 alike.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/error.h"
#include "runtime/kernels/kernel.h"
#include "runtime/kernels/kernel_util.h"
#include "runtime/op_registry.h"
#include "runtime/op_attributes.h"

namespace foldrt::runtime {
namespace {

// Copies input 0 into output 0 unless the session made them share a buffer.
void CopyIfDistinct(const KernelArgs& args) {
  const Tensor& x = *args.inputs[0];
  Tensor& y = *args.outputs[0];
  if (y.raw_data() != x.raw_data() && x.ByteSize() > 0) {
    std::memcpy(y.mutable_raw_data(), x.raw_data(), x.ByteSize());
  }
}

// ------------------------------------------------------ views

// Ops whose output is input 0 with another shape.
class ReshapeLikeKernel : public Kernel {
 public:
  KernelPlan Plan(const std::vector<const PlanInput*>& inputs) const override {
    const PlanInput& x = RequiredInput(inputs, 0);
    KernelPlan plan;
    plan.outputs.resize(num_outputs_);
    plan.outputs[0] = {x.dtype, OutputShape(x, inputs)};
    return plan;
  }
  void Run(const KernelArgs& args) const override { CopyIfDistinct(args); }
  int AliasedInput() const override { return 0; }

 protected:
  explicit ReshapeLikeKernel(size_t num_outputs = 1)
      : num_outputs_(num_outputs) {}
  virtual std::vector<int64_t> OutputShape(
      const PlanInput& x, const std::vector<const PlanInput*>& inputs) const {
    return x.shape;
  }

 private:
  size_t num_outputs_;
};

class FlattenKernel : public ReshapeLikeKernel {
 public:
  explicit FlattenKernel(const KernelBuildContext& ctx)
      : axis_(ctx.node().GetInt("axis", 1)) {}

 protected:
  std::vector<int64_t> OutputShape(
      const PlanInput& x, const std::vector<const PlanInput*>&) const override {
    return FlattenOutputShape(x.shape, axis_);
  }

 private:
  int64_t axis_;
};

class ReshapeKernel : public ReshapeLikeKernel {
 public:
  explicit ReshapeKernel(const KernelBuildContext& ctx)
      : allow_zero_(ctx.node().GetInt("allowzero", 0) != 0) {}

 protected:
  std::vector<int64_t> OutputShape(
      const PlanInput& x,
      const std::vector<const PlanInput*>& inputs) const override {
    return ReshapeOutputShape(x.shape, KnownInt64Input(inputs, 1, "shape"),
                              allow_zero_);
  }

 private:
  bool allow_zero_;
};

// Squeeze and Unsqueeze: axes from the attribute before opset 13, from the
// optional input 1 after.
class SqueezeKernel : public ReshapeLikeKernel {
 public:
  SqueezeKernel(const KernelBuildContext& ctx, bool unsqueeze)
      : unsqueeze_(unsqueeze),
        axes_are_input_(AxesAreAnInput(ctx.node(), ctx.opset())),
        axes_(ctx.node().GetInts("axes")) {}

 protected:
  std::vector<int64_t> OutputShape(
      const PlanInput& x,
      const std::vector<const PlanInput*>& inputs) const override {
    std::vector<int64_t> axes = axes_;
    if (axes_are_input_ && inputs.size() > 1 && inputs[1] != nullptr) {
      axes = KnownInt64Input(inputs, 1, "axes");
    }
    return unsqueeze_ ? UnsqueezeOutputShape(x.shape, axes)
                      : SqueezeOutputShape(x.shape, axes);
  }

 private:
  bool unsqueeze_;
  bool axes_are_input_;
  std::vector<int64_t> axes_;
};

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

// A Pad whose pads are all zero is the identity (torch.onnx puts one before
// DenseNet's transition AveragePools); it still checks the pad count.
class ZeroPadKernel : public IdentityKernel {
 public:
  explicit ZeroPadKernel(size_t pad_count) : pad_count_(pad_count) {}
  KernelPlan Plan(const std::vector<const PlanInput*>& inputs) const override {
    const PlanInput& x = RequiredInput(inputs, 0);
    if (pad_count_ != 2 * x.shape.size()) {
      throw InvalidArgumentError(
          "pads has " + std::to_string(pad_count_) + " values, expected " +
          std::to_string(2 * x.shape.size()) + " for " + Describe(x));
    }
    return IdentityKernel::Plan(inputs);
  }

 private:
  size_t pad_count_;
};

std::unique_ptr<Kernel> CreateFlatten(const KernelBuildContext& ctx) {
  return std::make_unique<FlattenKernel>(ctx);
}
std::unique_ptr<Kernel> CreateReshape(const KernelBuildContext& ctx) {
  return std::make_unique<ReshapeKernel>(ctx);
}
std::unique_ptr<Kernel> CreateSqueeze(const KernelBuildContext& ctx) {
  return std::make_unique<SqueezeKernel>(ctx, /*unsqueeze=*/false);
}
std::unique_ptr<Kernel> CreateUnsqueeze(const KernelBuildContext& ctx) {
  return std::make_unique<SqueezeKernel>(ctx, /*unsqueeze=*/true);
}
std::unique_ptr<Kernel> CreateIdentity(const KernelBuildContext&) {
  return std::make_unique<IdentityKernel>();
}

std::unique_ptr<Kernel> CreateDropout(const KernelBuildContext& ctx) {
  // Inference Dropout is the identity. Training mode drops at random, which
  // an inference runtime must not do silently.
  if (ctx.opset() >= 12 && ctx.has_input(2)) {
    const Tensor* training = ctx.constant(2);
    if (training == nullptr) {
      ctx.Unsupported("training_mode is computed at run time");
    }
    if (training->NumElements() != 1) {
      ctx.Invalid("training_mode must hold one value");
    }
    const bool on = training->dtype() == DataType::kFloat32
                        ? training->data<float>()[0] != 0.0f
                        : training->data<int64_t>()[0] != 0;
    if (on) ctx.Unsupported("training_mode is true (random dropout)");
  }
  ctx.RequireUnusedOutput(1, "mask");
  return std::make_unique<IdentityKernel>(ctx.node().num_outputs());
}

// ------------------------------------------------------ Transpose

struct StridedState : KernelState {
  int64_t base = 0;
  std::vector<int64_t> strides;  // source strides per output axis
  // The output in the order its buffer holds it, when that is not its
  // logical shape (channels-last: (N, H, W, C)); empty: y.shape().
  std::vector<int64_t> buffer_shape;
};

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
    KernelPlan plan;
    plan.outputs = {{x.dtype, shape}};
    plan.state = std::move(state);
    return plan;
  }

  void Run(const KernelArgs& args) const override { RunStrided(args); }

  static void RunStrided(const KernelArgs& args) {
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

 private:
  std::optional<std::vector<int64_t>> perm_;
};

std::unique_ptr<Kernel> CreateTranspose(const KernelBuildContext& ctx) {
  return std::make_unique<TransposeKernel>(ctx);
}

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
      TransposeKernel::RunStrided(args);
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
    const SliceGeometry geometry = ResolveSlice(x.shape, starts, ends, axes, steps);
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
    TransposeKernel::RunStrided(args);
  }

 private:
  bool bounds_are_inputs_;
  std::vector<int64_t> starts_;
  std::vector<int64_t> ends_;
  std::optional<std::vector<int64_t>> axes_;
};

std::unique_ptr<Kernel> CreateSlice(const KernelBuildContext& ctx) {
  return std::make_unique<SliceKernel>(ctx);
}

// ------------------------------------------------------ Concat, Split

// The tensors seen as (outer, axis * inner) row blocks.
struct BlockState : KernelState {
  int64_t outer = 1;
  int64_t inner = 1;
  std::vector<int64_t> axis_sizes;  // per concatenated input / split output
  // Concat of float tensors along axis 1 (Kernel::ConcatenatesChannels).
  bool channel_axis = false;
};

// Concat and Split along the channel axis of rank-3..5 float tensors can
// stay in a convolution's layout. Channels-last: one pixel's channels are
// one contiguous run, so the copy loops below work with outer = N x pixels
// and inner = 1. Blocked: when every part's channel count is a multiple of
// the block, one image's part is one contiguous run, as in the plain
// layout, and the loops work unchanged. Returns the layout to use (kNchw
// when neither holds) and adjusts `state` for it.
ops::Layout ChannelAxisLayout(size_t axis, const PlanInput& x,
                              ops::Layout preferred, BlockState* state) {
  if (axis != 1 || x.dtype != DataType::kFloat32 || x.shape.size() < 3 ||
      x.shape.size() > 5 || preferred == ops::Layout::kNchw) {
    return ops::Layout::kNchw;
  }
  if (preferred == ops::Layout::kNhwc) {
    state->outer *= state->inner;
    state->inner = 1;
    return preferred;
  }
  const int64_t block = static_cast<int64_t>(ops::ChannelBlock(preferred));
  for (int64_t c : state->axis_sizes) {
    if (c % block != 0) return ops::Layout::kNchw;
  }
  return preferred;
}

class ConcatKernel : public Kernel {
 public:
  explicit ConcatKernel(const KernelBuildContext& ctx) {
    if (!ctx.node().HasAttribute("axis")) {
      ctx.Invalid("the axis attribute is required");
    }
    axis_ = ctx.node().GetInt("axis", 0);
  }

  KernelPlan Plan(const std::vector<const PlanInput*>& inputs) const override {
    if (inputs.empty()) throw InvalidArgumentError("needs at least one input");
    const PlanInput& first = RequiredInput(inputs, 0);
    const size_t axis = static_cast<size_t>(CheckedAxis(axis_, first.shape));
    auto state = std::make_unique<BlockState>();
    std::vector<int64_t> shape = first.shape;
    shape[axis] = 0;
    for (size_t i = 0; i < inputs.size(); ++i) {
      const PlanInput& part = RequiredInput(inputs, i);
      bool fits =
          part.dtype == first.dtype && part.shape.size() == first.shape.size();
      for (size_t d = 0; fits && d < first.shape.size(); ++d) {
        fits = d == axis || part.shape[d] == first.shape[d];
      }
      if (!fits) {
        throw InvalidArgumentError(
            "input " + std::to_string(i) + " is " + Describe(part) +
            ", which does not concatenate with input 0 " + Describe(first) +
            " along axis " + std::to_string(axis));
      }
      shape[axis] += part.shape[axis];
      state->axis_sizes.push_back(part.shape[axis]);
    }
    state->outer = ShapeProduct(first.shape, 0, axis);
    state->inner = ShapeProduct(first.shape, axis + 1, first.shape.size());
    ops::Layout preferred = ops::Layout::kNchw;
    for (const PlanInput* part : inputs) {
      if (part->layout != ops::Layout::kNchw) preferred = part->layout;
    }
    const ops::Layout layout =
        ChannelAxisLayout(axis, first, preferred, state.get());
    state->channel_axis = axis == 1 && first.dtype == DataType::kFloat32;
    KernelPlan plan;
    plan.outputs = {{first.dtype, shape, layout}};
    plan.input_layouts.assign(inputs.size(), layout);
    plan.state = std::move(state);
    return plan;
  }

  bool ConcatenatesChannels(const KernelState* state) const override {
    return static_cast<const BlockState&>(*state).channel_axis;
  }

  void Run(const KernelArgs& args) const override {
    const auto& s = static_cast<const BlockState&>(*args.state);
    if (args.outputs[0]->NumElements() == 0) return;
    const size_t element = DataTypeSize(args.outputs[0]->dtype());
    const int64_t out_row = args.outputs[0]->NumElements() /
                            std::max<int64_t>(s.outer, 1) * element;
    auto* y = static_cast<char*>(args.outputs[0]->mutable_raw_data());
    ParallelFor(s.outer, args.threads,
                std::max<int64_t>(1, 65536 / out_row + 1),
                [&](int64_t begin, int64_t end) {
                  for (int64_t o = begin; o < end; ++o) {
                    char* dst = y + o * out_row;
                    for (size_t i = 0; i < args.inputs.size(); ++i) {
                      const int64_t chunk = s.axis_sizes[i] * s.inner *
                                            static_cast<int64_t>(element);
                      const auto* src =
                          static_cast<const char*>(args.inputs[i]->raw_data());
                      if (chunk > 0) std::memcpy(dst, src + o * chunk, chunk);
                      dst += chunk;
                    }
                  }
                });
  }

 private:
  int64_t axis_;
};

std::unique_ptr<Kernel> CreateConcat(const KernelBuildContext& ctx) {
  return std::make_unique<ConcatKernel>(ctx);
}

class SplitKernel : public Kernel {
 public:
  explicit SplitKernel(const KernelBuildContext& ctx)
      : axis_(ctx.node().GetInt("axis", 0)),
        sizes_are_input_(ctx.opset() >= 13),
        num_outputs_(ctx.node().num_outputs()) {
    if (!sizes_are_input_) sizes_ = OptionalInts(ctx.node(), "split");
  }

  KernelPlan Plan(const std::vector<const PlanInput*>& inputs) const override {
    const PlanInput& x = RequiredInput(inputs, 0);
    const size_t axis = static_cast<size_t>(CheckedAxis(axis_, x.shape));
    std::optional<std::vector<int64_t>> sizes = sizes_;
    if (sizes_are_input_ && inputs.size() > 1 && inputs[1] != nullptr) {
      sizes = KnownInt64Input(inputs, 1, "split");
    }
    sizes = ResolveSplitSizes(x.shape, axis, sizes, num_outputs_, Describe(x));
    auto state = std::make_unique<BlockState>();
    state->outer = ShapeProduct(x.shape, 0, axis);
    state->inner = ShapeProduct(x.shape, axis + 1, x.shape.size());
    state->axis_sizes = *sizes;
    const ops::Layout layout =
        ChannelAxisLayout(axis, x, x.layout, state.get());
    KernelPlan plan;
    for (int64_t size : *sizes) {
      std::vector<int64_t> shape = x.shape;
      shape[axis] = size;
      plan.outputs.push_back({x.dtype, shape, layout});
    }
    plan.input_layouts = FirstInputIn(layout, inputs);
    plan.state = std::move(state);
    return plan;
  }

  void Run(const KernelArgs& args) const override {
    const auto& s = static_cast<const BlockState&>(*args.state);
    const int64_t element =
        static_cast<int64_t>(DataTypeSize(args.inputs[0]->dtype()));
    const int64_t in_row =
        args.inputs[0]->NumElements() / std::max<int64_t>(s.outer, 1) * element;
    const auto* x = static_cast<const char*>(args.inputs[0]->raw_data());
    for (int64_t o = 0; o < s.outer; ++o) {
      const char* src = x + o * in_row;
      for (size_t i = 0; i < args.outputs.size(); ++i) {
        const int64_t chunk = s.axis_sizes[i] * s.inner * element;
        if (args.outputs[i] != nullptr && chunk > 0) {
          auto* dst = static_cast<char*>(args.outputs[i]->mutable_raw_data());
          std::memcpy(dst + o * chunk, src, chunk);
        }
        src += chunk;
      }
    }
  }

 private:
  int64_t axis_;
  bool sizes_are_input_;
  size_t num_outputs_;
  std::optional<std::vector<int64_t>> sizes_;
};

std::unique_ptr<Kernel> CreateSplit(const KernelBuildContext& ctx) {
  if (ctx.node().num_outputs() == 0) ctx.Invalid("has no outputs");
  if (ctx.opset() >= 18) ctx.Unsupported("opset 18 Split is not supported");
  return std::make_unique<SplitKernel>(ctx);
}

// ------------------------------------------------------ Gather

struct GatherState : KernelState {
  int64_t outer = 1;
  int64_t axis_size = 0;
  int64_t inner = 1;
};

class GatherKernel : public Kernel {
 public:
  explicit GatherKernel(const KernelBuildContext& ctx)
      : axis_(ctx.node().GetInt("axis", 0)) {}

  KernelPlan Plan(const std::vector<const PlanInput*>& inputs) const override {
    const PlanInput& data = RequiredInput(inputs, 0);
    const PlanInput& indices = RequiredInput(inputs, 1);
    if (indices.dtype != DataType::kInt64) {
      throw InvalidArgumentError("indices are " + Describe(indices) +
                                 "; expected an integer tensor");
    }
    const size_t axis = static_cast<size_t>(CheckedAxis(axis_, data.shape));
    std::vector<int64_t> shape(data.shape.begin(), data.shape.begin() + axis);
    shape.insert(shape.end(), indices.shape.begin(), indices.shape.end());
    shape.insert(shape.end(), data.shape.begin() + axis + 1, data.shape.end());
    auto state = std::make_unique<GatherState>();
    state->outer = ShapeProduct(data.shape, 0, axis);
    state->axis_size = data.shape[axis];
    state->inner = ShapeProduct(data.shape, axis + 1, data.shape.size());
    KernelPlan plan;
    plan.outputs = {{data.dtype, shape}};
    plan.state = std::move(state);
    return plan;
  }

  void Run(const KernelArgs& args) const override {
    const auto& s = static_cast<const GatherState&>(*args.state);
    const Tensor& indices = *args.inputs[1];
    const int64_t* index = indices.data<int64_t>();
    const int64_t count = indices.NumElements();
    // Indices are data: checked before anything is written.
    for (int64_t i = 0; i < count; ++i) {
      if (index[i] < -s.axis_size || index[i] >= s.axis_size) {
        throw InvalidArgumentError("index " + std::to_string(index[i]) +
                                   " is out of range for an axis of size " +
                                   std::to_string(s.axis_size));
      }
    }
    const size_t row =
        static_cast<size_t>(s.inner) * DataTypeSize(args.inputs[0]->dtype());
    const auto* src = static_cast<const char*>(args.inputs[0]->raw_data());
    auto* dst = static_cast<char*>(args.outputs[0]->mutable_raw_data());
    for (int64_t o = 0; o < s.outer; ++o) {
      for (int64_t i = 0; i < count; ++i) {
        const int64_t k = index[i] < 0 ? index[i] + s.axis_size : index[i];
        if (row > 0) {
          std::memcpy(dst, src + (o * s.axis_size + k) * row, row);
        }
        dst += row;
      }
    }
  }

 private:
  int64_t axis_;
};

std::unique_ptr<Kernel> CreateGather(const KernelBuildContext& ctx) {
  return std::make_unique<GatherKernel>(ctx);
}

// ------------------------------------------------------ Cast

// Cast to float32 or int64, the two element types the runtime computes in.
// Exporters emit it in shape arithmetic (torch: Div -> Cast(int64) for
// `channels // groups` in ShuffleNet's channel shuffle).
class CastKernel : public Kernel {
 public:
  explicit CastKernel(DataType to) : to_(to) {}

  DataType OutputDataType(const std::vector<DataType>&) const override {
    return to_;
  }

  KernelPlan Plan(const std::vector<const PlanInput*>& inputs) const override {
    const PlanInput& x = RequiredInput(inputs, 0);
    KernelPlan plan;
    plan.outputs = {{to_, x.shape}};
    return plan;
  }

  void Run(const KernelArgs& args) const override {
    const Tensor& x = *args.inputs[0];
    Tensor& y = *args.outputs[0];
    const int64_t n = x.NumElements();
    if (x.dtype() == to_) {
      CopyIfDistinct(args);
    } else if (to_ == DataType::kFloat32) {
      const int64_t* src = x.data<int64_t>();
      float* dst = y.mutable_data<float>();
      for (int64_t i = 0; i < n; ++i) dst[i] = static_cast<float>(src[i]);
    } else {
      const float* src = x.data<float>();
      int64_t* dst = y.mutable_data<int64_t>();
      for (int64_t i = 0; i < n; ++i) dst[i] = CastFloatToInt64(src[i]);
    }
  }

 private:
  DataType to_;
};

std::unique_ptr<Kernel> CreateCast(const KernelBuildContext& ctx) {
  return std::make_unique<CastKernel>(
      ReadCastTarget(ctx.node()) == graph::DataType::kFloat
          ? DataType::kFloat32
          : DataType::kInt64);
}

// ------------------------------------------------------ Pad

struct PadState : KernelState {
  // For each axis, each output coordinate's source coordinate, or -1 for a
  // padded position of constant mode.
  std::vector<std::vector<int64_t>> source;
  std::vector<int64_t> x_strides;
};

class PadKernel : public Kernel {
 public:
  explicit PadKernel(const KernelBuildContext& ctx)
      : pads_are_input_(ctx.opset() >= 11) {
    mode_ = ReadPadMode(ctx.node());
    if (!pads_are_input_) {
      pads_ = ctx.node().GetInts("pads");
      value_ = ctx.node().GetFloat("value", 0.0f);
    }
    if (ctx.has_input(3)) ctx.Unsupported("the axes input is not supported");
  }

  KernelPlan Plan(const std::vector<const PlanInput*>& inputs) const override {
    const PlanInput& x = RequiredInput(inputs, 0);
    const std::vector<int64_t> pads =
        pads_are_input_ ? KnownInt64Input(inputs, 1, "pads") : pads_;
    const size_t rank = x.shape.size();
    std::vector<std::vector<int64_t>> source =
        PadSourceIndices(x.shape, pads, mode_, Describe(x));
    if (pads_are_input_ && inputs.size() > 2 && inputs[2] != nullptr) {
      const PlanInput& value = RequiredInput(inputs, 2);
      if (value.dtype != x.dtype || ShapeNumElements(value.shape) != 1) {
        throw InvalidArgumentError("constant_value is " + Describe(value) +
                                   "; expected one " + DataTypeName(x.dtype));
      }
    }
    auto state = std::make_unique<PadState>();
    state->x_strides = ContiguousStrides(x.shape);
    std::vector<int64_t> shape(rank);
    for (size_t axis = 0; axis < rank; ++axis) {
      shape[axis] = static_cast<int64_t>(source[axis].size());
    }
    state->source = std::move(source);
    KernelPlan plan;
    plan.outputs = {{x.dtype, shape}};
    plan.state = std::move(state);
    return plan;
  }

  void Run(const KernelArgs& args) const override {
    const auto& s = static_cast<const PadState&>(*args.state);
    DispatchDataType(args.inputs[0]->dtype(), [&](auto tag) {
      using T = decltype(tag);
      T value = static_cast<T>(value_);
      if (pads_are_input_ && args.inputs.size() > 2 &&
          args.inputs[2] != nullptr) {
        value = args.inputs[2]->data<T>()[0];
      }
      RunTyped(s, args.inputs[0]->data<T>(), args.outputs[0]->mutable_data<T>(),
               args.outputs[0]->shape(), value, args.threads);
      return 0;
    });
  }

 private:
  template <typename T>
  static void RunTyped(const PadState& s, const T* x, T* y,
                       const std::vector<int64_t>& shape, T value,
                       int threads) {
    const size_t rank = shape.size();
    if (rank == 0) {
      y[0] = x[0];
      return;
    }
    const int64_t inner = shape[rank - 1];
    int64_t rows = 1;
    for (size_t i = 0; i + 1 < rank; ++i) rows *= shape[i];
    if (inner == 0 || rows == 0) return;
    const std::vector<int64_t>& inner_map = s.source[rank - 1];
    ParallelFor(rows, threads, std::max<int64_t>(1, 16384 / inner),
                [&](int64_t begin, int64_t end) {
                  for (int64_t row = begin; row < end; ++row) {
                    // Source row of this output row, or none (padding).
                    int64_t remaining = row;
                    int64_t offset = 0;
                    bool padded = false;
                    for (size_t axis = rank - 1; axis-- > 0;) {
                      const int64_t o = remaining % shape[axis];
                      remaining /= shape[axis];
                      const int64_t i = s.source[axis][o];
                      if (i < 0) padded = true;
                      offset += i * s.x_strides[axis];
                    }
                    T* out = y + row * inner;
                    if (padded) {
                      std::fill(out, out + inner, value);
                      continue;
                    }
                    const T* in = x + offset;
                    for (int64_t k = 0; k < inner; ++k) {
                      const int64_t i = inner_map[k];
                      out[k] = i < 0 ? value : in[i];
                    }
                  }
                });
  }

  bool pads_are_input_;
  PadMode mode_ = PadMode::kConstant;
  std::vector<int64_t> pads_;
  float value_ = 0.0f;
};

std::unique_ptr<Kernel> CreatePad(const KernelBuildContext& ctx) {
  return std::make_unique<PadKernel>(ctx);
}

// A Pad whose pads are known at load and all zero (torch.onnx writes them
// before convolutions) is an identity; declines every other Pad.
std::unique_ptr<Kernel> CreateZeroPad(const KernelBuildContext& ctx) {
  PadKernel checked(ctx);  // refuses what the general Pad refuses
  std::vector<int64_t> pads;
  if (ctx.opset() < 11) {
    pads = ctx.node().GetInts("pads");
  } else if (const Tensor* known = ctx.constant(1);
             known != nullptr && known->dtype() == DataType::kInt64) {
    pads = known->ToVector<int64_t>();
  } else {
    return nullptr;
  }
  for (int64_t p : pads) {
    if (p != 0) return nullptr;
  }
  return std::make_unique<ZeroPadKernel>(pads.size());
}

// ------------------------------------------------------ Shape, Constant

class ShapeKernel : public Kernel {
 public:
  explicit ShapeKernel(const KernelBuildContext& ctx)
      : start_(ctx.node().GetInt("start", 0)),
        end_(ctx.node().GetInt("end", std::numeric_limits<int64_t>::max())) {}

  DataType OutputDataType(const std::vector<DataType>&) const override {
    return DataType::kInt64;
  }

  KernelPlan Plan(const std::vector<const PlanInput*>& inputs) const override {
    const PlanInput& x = RequiredInput(inputs, 0);
    const int64_t rank = static_cast<int64_t>(x.shape.size());
    // Opset-15 start / end, clamped like Python slices.
    const auto clamp = [&](int64_t v) {
      if (v < 0) v += rank;
      return std::min(std::max<int64_t>(v, 0), rank);
    };
    const int64_t start = clamp(start_);
    const int64_t end = clamp(end_);
    std::vector<int64_t> dims;
    for (int64_t i = start; i < end; ++i) dims.push_back(x.shape[i]);
    const int64_t count = static_cast<int64_t>(dims.size());
    KernelPlan plan;
    plan.outputs = {{DataType::kInt64, {count}}};
    plan.values.push_back(Tensor::FromInt64s({count}, dims));
    return plan;
  }

  void Run(const KernelArgs& args) const override {
    // Planning computes Shape's output; this serves direct callers.
    const std::vector<int64_t>& shape = args.inputs[0]->shape();
    const int64_t rank = static_cast<int64_t>(shape.size());
    const int64_t count = args.outputs[0]->NumElements();
    int64_t start = start_ < 0 ? start_ + rank : start_;
    start = std::min(std::max<int64_t>(start, 0), rank);
    int64_t* y = args.outputs[0]->mutable_data<int64_t>();
    for (int64_t i = 0; i < count; ++i) y[i] = shape[start + i];
  }

 private:
  int64_t start_;
  int64_t end_;
};

std::unique_ptr<Kernel> CreateShape(const KernelBuildContext& ctx) {
  return std::make_unique<ShapeKernel>(ctx);
}

class ConstantKernel : public Kernel {
 public:
  explicit ConstantKernel(Tensor value) : value_(std::move(value)) {}

  DataType OutputDataType(const std::vector<DataType>&) const override {
    return value_.dtype();
  }

  KernelPlan Plan(const std::vector<const PlanInput*>&) const override {
    KernelPlan plan;
    plan.outputs = {{value_.dtype(), value_.shape()}};
    plan.values.push_back(value_);
    return plan;
  }

  void Run(const KernelArgs& args) const override {
    if (value_.ByteSize() > 0) {
      std::memcpy(args.outputs[0]->mutable_raw_data(), value_.raw_data(),
                  value_.ByteSize());
    }
  }

 private:
  Tensor value_;
};

std::unique_ptr<Kernel> CreateConstant(const KernelBuildContext& ctx) {
  const graph::Tensor* value = ctx.node().ConstantValue();
  if (value == nullptr) {
    ctx.Unsupported(
        "only value, value_float(s) and value_int(s) constants are supported "
        "(not sparse_value or strings)");
  }
  return std::make_unique<ConstantKernel>(
      ToRuntimeTensor(*value, "the constant '" + ctx.node().output(0) + "'"));
}

}  // namespace

std::unique_ptr<Kernel> CreateReshapeTransposeReshape(
    const KernelBuildContext& first, const graph::Node& transpose,
    const KernelBuildContext& second) {
  return std::make_unique<ReshapeTransposeReshapeKernel>(first, transpose,
                                                         second);
}

void RegisterTensorKernels(OpRegistry* registry) {
  registry->AddKernel("Cast", "default", CreateCast);
  registry->AddKernel("Concat", "default", CreateConcat);
  registry->AddKernel("Constant", "default", CreateConstant);
  registry->AddKernel("Dropout", "default", CreateDropout);
  registry->AddKernel("Flatten", "default", CreateFlatten);
  registry->AddKernel("Gather", "default", CreateGather);
  registry->AddKernel("Identity", "default", CreateIdentity);
  registry->AddKernel("Pad", "zero_pad", CreateZeroPad);
  registry->AddKernel("Pad", "default", CreatePad);
  registry->AddKernel("Reshape", "default", CreateReshape);
  registry->AddKernel("Shape", "default", CreateShape);
  registry->AddKernel("Slice", "default", CreateSlice);
  registry->AddKernel("Split", "default", CreateSplit);
  registry->AddKernel("Squeeze", "default", CreateSqueeze);
  registry->AddKernel("Transpose", "default", CreateTranspose);
  registry->AddKernel("Unsqueeze", "default", CreateUnsqueeze);
}

}  // namespace foldrt::runtime
