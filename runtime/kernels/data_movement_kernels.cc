// Data movement kernels: Concat and Split (row blocks copied whole, in a
// convolution's layout where the channel axis allows), Gather, and Pad (an
// all-zero Pad first, as the identity). Float32 and int64 alike.
#include <algorithm>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/error.h"
#include "runtime/kernels/kernel.h"
#include "runtime/kernels/kernel_util.h"
#include "runtime/kernels/tensor_kernels.h"
#include "runtime/op_attributes.h"
#include "runtime/op_registry.h"

namespace foldrt::runtime {
namespace {

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
    return OneOutputPlan({data.dtype, shape}, std::move(state));
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
    return OneOutputPlan({x.dtype, shape}, std::move(state));
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

}  // namespace

void RegisterDataMovementKernels(OpRegistry* registry) {
  registry->AddKernel("Concat", "default", NewKernel<ConcatKernel>);
  registry->AddKernel("Gather", "default", NewKernel<GatherKernel>);
  registry->AddKernel("Pad", "zero_pad", CreateZeroPad);
  registry->AddKernel("Pad", "default", NewKernel<PadKernel>);
  registry->AddKernel("Split", "default", CreateSplit);
}

}  // namespace foldrt::runtime
