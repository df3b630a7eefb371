// Conv and ConvTranspose: oneDNN through ops::Conv / ops::ConvTranspose,
// or the scalar references of ops/ref (SessionOptions::reference_kernels,
// FOLDRT_KERNEL=ref, or where the oneDNN op refuses a configuration).
// Weights (and bias) must be constants; a fused ReLU/Clip is applied as the
// op's post-op.
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "ops/conv.h"
#include "ops/conv_transpose.h"
#include "ops/ref/conv_ref.h"
#include "ops/ref/conv_transpose_ref.h"
#include "runtime/core/error.h"
#include "runtime/core/logging.h"
#include "runtime/kernels/kernel.h"
#include "runtime/kernels/kernel_util.h"
#include "runtime/op_attributes.h"

namespace foldrt::runtime {
namespace {

// The weights and optional bias of a Conv / ConvTranspose node, checked.
struct ConvWeights {
  Tensor weights;
  std::optional<Tensor> bias;
};

ConvWeights ReadConvWeights(const KernelBuildContext& ctx) {
  ConvWeights w{ctx.RequireFloatConstant(1, "the weight W"), std::nullopt};
  const size_t rank = w.weights.rank();
  if (rank < 3 || rank > 5) {
    ctx.Unsupported("W is " + ShapeToString(w.weights.shape()) +
                    "; 1 to 3 spatial axes are supported");
  }
  if (ctx.has_input(2)) {
    w.bias = ctx.RequireFloatConstant(2, "the bias B");
  }
  return w;
}

// Checks B against the output channel count.
void CheckBias(const KernelBuildContext& ctx, const std::optional<Tensor>& bias,
               int64_t out_channels) {
  if (bias && bias->shape() != std::vector<int64_t>{out_channels}) {
    ctx.Invalid("bias is " + ShapeToString(bias->shape()) + ", expected (" +
                std::to_string(out_channels) + ")");
  }
}

bool PadsDependOnInputShape(const WindowAttributes& window) {
  return window.auto_pad == ops::ref::AutoPad::kSameUpper ||
         window.auto_pad == ops::ref::AutoPad::kSameLower;
}

// ------------------------------------------------------ Conv

struct ConvState : KernelState {
  ops::ref::ConvParams params;
  std::shared_ptr<const ops::Conv> conv;  // null: reference path
};

class ConvKernel : public Kernel {
 public:
  explicit ConvKernel(const KernelBuildContext& ctx)
      : w_(ReadConvWeights(ctx)),
        attrs_(ReadConvAttributes(ctx.node(), w_.weights.rank() - 2)),
        act_(ctx.fused_activation()),
        reference_(ctx.options().reference_kernels),
        label_(ctx.node().Label()) {
    CheckBias(ctx, w_.bias, w_.weights.shape()[0]);
    if (!reference_ && !PadsDependOnInputShape(attrs_.window)) {
      // VALID means no padding; NOTSET keeps the explicit pads.
      ops::ref::ConvParams params;
      params.strides = attrs_.window.strides;
      params.dilations = attrs_.window.dilations;
      params.pads_begin = attrs_.window.pads_begin;
      params.pads_end = attrs_.window.pads_end;
      if (attrs_.window.auto_pad == ops::ref::AutoPad::kValid) {
        params.pads_begin.assign(params.strides.size(), 0);
        params.pads_end.assign(params.strides.size(), 0);
      }
      params.groups = attrs_.groups;
      conv_ = BuildConv(params);
    }
  }

  KernelPlan Plan(const std::vector<const PlanInput*>& inputs) const override {
    const PlanInput& x = RequiredFloatInput(inputs, 0);
    auto state = std::make_unique<ConvState>();
    state->params = ResolveConvParams(attrs_, x.shape, w_.weights.shape());
    const std::vector<int64_t> y_shape =
        ops::ref::ConvOutputShape(x.shape, w_.weights.shape(), state->params);
    if (!reference_) {
      state->conv = conv_ ? conv_ : BuildConv(state->params);
    }
    if (state->conv && state->conv->OutputDims(x.shape) != y_shape) {
      throw InvalidArgumentError(
          "oneDNN Conv computes " +
          ShapeToString(state->conv->OutputDims(x.shape)) + ", the reference " +
          ShapeToString(y_shape));
    }
    KernelPlan plan;
    plan.outputs = {{DataType::kFloat32, y_shape}};
    plan.state = std::move(state);
    return plan;
  }

  void Run(const KernelArgs& args) const override {
    const auto& state = static_cast<const ConvState&>(*args.state);
    const Tensor& x = *args.inputs[0];
    Tensor& y = *args.outputs[0];
    if (state.conv) {
      state.conv->Run(x.data<float>(), x.shape(), y.mutable_data<float>(),
                      args.threads);
      return;
    }
    ops::ref::ConvRef(x.data<float>(), x.shape(), w_.weights.data<float>(),
                      w_.weights.shape(),
                      w_.bias ? w_.bias->data<float>() : nullptr, state.params,
                      y.mutable_data<float>());
    ApplyActivationInPlace(act_, y.mutable_data<float>(), y.NumElements(),
                           args.threads);
  }

 private:
  // The oneDNN op for these pads, or null (reference path) where oneDNN
  // refuses the configuration.
  std::shared_ptr<const ops::Conv> BuildConv(
      const ops::ref::ConvParams& params) const {
    ops::ConvAttributes attrs;
    attrs.strides = params.strides;
    attrs.dilations = params.dilations;
    attrs.pads_begin = params.pads_begin;
    attrs.pads_end = params.pads_end;
    attrs.groups = params.groups;
    try {
      return std::make_shared<const ops::Conv>(
          w_.weights.data<float>(), w_.weights.shape(),
          w_.bias ? w_.bias->data<float>() : nullptr, attrs, act_);
    } catch (const UnsupportedError& e) {
      Logger().debug("node '{}' (Conv) runs the reference kernel: {}", label_,
                     e.message());
      return nullptr;
    }
  }

  ConvWeights w_;
  ConvAttributes attrs_;
  ops::Activation act_;
  bool reference_;
  std::string label_;
  std::shared_ptr<const ops::Conv> conv_;  // when pads are fixed
};

std::unique_ptr<Kernel> CreateConv(const KernelBuildContext& ctx) {
  return std::make_unique<ConvKernel>(ctx);
}

// ------------------------------------------------------ ConvTranspose

struct ConvTransposeState : KernelState {
  ops::ref::ConvTransposeParams params;
  std::shared_ptr<const ops::ConvTranspose> op;  // null: reference path
};

class ConvTransposeKernel : public Kernel {
 public:
  explicit ConvTransposeKernel(const KernelBuildContext& ctx)
      : w_(ReadConvWeights(ctx)),
        attrs_(ReadConvTransposeAttributes(ctx.node(), w_.weights.rank() - 2)),
        act_(ctx.fused_activation()),
        reference_(ctx.options().reference_kernels),
        label_(ctx.node().Label()) {
    CheckBias(ctx, w_.bias, w_.weights.shape()[1] * attrs_.groups);
    if (!reference_ && !attrs_.output_shape) {
      ops::ref::ConvTransposeParams params;
      params.conv.strides = attrs_.window.strides;
      params.conv.dilations = attrs_.window.dilations;
      params.conv.pads_begin = attrs_.window.pads_begin;
      params.conv.pads_end = attrs_.window.pads_end;
      if (attrs_.window.auto_pad == ops::ref::AutoPad::kValid) {
        params.conv.pads_begin.assign(params.conv.strides.size(), 0);
        params.conv.pads_end.assign(params.conv.strides.size(), 0);
      }
      params.conv.groups = attrs_.groups;
      params.output_padding = attrs_.output_padding;
      op_ = Build(params);
    }
  }

  KernelPlan Plan(const std::vector<const PlanInput*>& inputs) const override {
    const PlanInput& x = RequiredFloatInput(inputs, 0);
    auto state = std::make_unique<ConvTransposeState>();
    state->params =
        ResolveConvTransposeParams(attrs_, x.shape, w_.weights.shape());
    const std::vector<int64_t> y_shape = ops::ref::ConvTransposeOutputShape(
        x.shape, w_.weights.shape(), state->params);
    if (!reference_) state->op = op_ ? op_ : Build(state->params);
    if (state->op && state->op->OutputDims(x.shape) != y_shape) {
      throw InvalidArgumentError("oneDNN ConvTranspose computes " +
                                 ShapeToString(state->op->OutputDims(x.shape)) +
                                 ", the reference " + ShapeToString(y_shape));
    }
    KernelPlan plan;
    plan.outputs = {{DataType::kFloat32, y_shape}};
    plan.state = std::move(state);
    return plan;
  }

  void Run(const KernelArgs& args) const override {
    const auto& state = static_cast<const ConvTransposeState&>(*args.state);
    const Tensor& x = *args.inputs[0];
    Tensor& y = *args.outputs[0];
    if (state.op) {
      state.op->Run(x.data<float>(), x.shape(), y.mutable_data<float>(),
                    args.threads);
      return;
    }
    ops::ref::ConvTransposeRef(x.data<float>(), x.shape(),
                               w_.weights.data<float>(), w_.weights.shape(),
                               w_.bias ? w_.bias->data<float>() : nullptr,
                               state.params, y.mutable_data<float>());
    ApplyActivationInPlace(act_, y.mutable_data<float>(), y.NumElements(),
                           args.threads);
  }

 private:
  std::shared_ptr<const ops::ConvTranspose> Build(
      const ops::ref::ConvTransposeParams& params) const {
    ops::ConvTransposeAttributes attrs;
    attrs.strides = params.conv.strides;
    attrs.dilations = params.conv.dilations;
    attrs.pads_begin = params.conv.pads_begin;
    attrs.pads_end = params.conv.pads_end;
    attrs.output_padding = params.output_padding;
    attrs.groups = params.conv.groups;
    try {
      return std::make_shared<const ops::ConvTranspose>(
          w_.weights.data<float>(), w_.weights.shape(),
          w_.bias ? w_.bias->data<float>() : nullptr, attrs, act_);
    } catch (const UnsupportedError& e) {
      Logger().debug("node '{}' (ConvTranspose) runs the reference kernel: {}",
                     label_, e.message());
      return nullptr;
    }
  }

  ConvWeights w_;
  ConvTransposeAttributes attrs_;
  ops::Activation act_;
  bool reference_;
  std::string label_;
  // When the pads do not depend on the input shape (no output_shape).
  std::shared_ptr<const ops::ConvTranspose> op_;
};

std::unique_ptr<Kernel> CreateConvTranspose(const KernelBuildContext& ctx) {
  return std::make_unique<ConvTransposeKernel>(ctx);
}

}  // namespace

void AddConvKernels(KernelTable* table) {
  (*table)["Conv"] = CreateConv;
  (*table)["ConvTranspose"] = CreateConvTranspose;
}

}  // namespace foldrt::runtime
