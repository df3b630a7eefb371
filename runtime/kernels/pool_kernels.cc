// MaxPool, AveragePool and GlobalAveragePool: oneDNN through ops::Pool, or
// the scalar references of ops/ref.
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/error.h"
#include "ops/pool.h"
#include "ops/ref/pool_ref.h"
#include "runtime/kernels/kernel.h"
#include "runtime/kernels/kernel_util.h"
#include "runtime/op_attributes.h"
#include "runtime/op_registry.h"

namespace foldrt::runtime {
namespace {

struct PoolState : KernelState {
  ops::ref::PoolParams params;
  std::shared_ptr<const ops::Pool> op;  // null: reference path
  // x and y: the producer's layout where ops::Pool takes it (a
  // convolution's nhwc / nChw8c / nChw16c), else plain.
  ops::Layout layout = ops::Layout::kNchw;
};

// The layout a pooling op on `op` runs in for input `x`.
ops::Layout PoolLayout(const ops::Pool* op, const PlanInput& x) {
  return op != nullptr && op->SupportsLayout(x.layout, x.shape.size())
             ? x.layout
             : ops::Layout::kNchw;
}

class WindowPoolKernel : public Kernel {
 public:
  WindowPoolKernel(const KernelBuildContext& ctx, ops::PoolKind kind)
      : kind_(kind),
        attrs_(ReadPoolAttributes(ctx.node())),
        reference_(ctx.options().reference_kernels),
        label_(ctx.node().Label()),
        num_outputs_(ctx.node().num_outputs()) {
    if (kind == ops::PoolKind::kMax) {
      ctx.RequireUnusedOutput(1, "Indices");
    }
    const bool pads_fixed =
        attrs_.window.auto_pad == ops::ref::AutoPad::kNotSet ||
        attrs_.window.auto_pad == ops::ref::AutoPad::kValid;
    if (!reference_ && pads_fixed) {
      ops::ref::PoolParams params = ops::ref::DefaultPoolParams(attrs_.kernel);
      SetFixedWindow(attrs_.window, &params);
      op_ = Build(params);
    }
  }

  KernelPlan Plan(const std::vector<const PlanInput*>& inputs) const override {
    const PlanInput& x = RequiredFloatInput(inputs, 0);
    auto state = std::make_unique<PoolState>();
    state->params = ResolvePoolParams(attrs_, x.shape);
    const std::vector<int64_t> y_shape =
        ops::ref::PoolOutputShape(x.shape, state->params);
    if (!reference_) state->op = op_ ? op_ : Build(state->params);
    if (state->op) {
      CheckOutputDims("oneDNN pooling", state->op->OutputDims(x.shape),
                      y_shape);
    }
    KernelPlan plan;
    // MaxPool's Indices output is refused at load when used; unused, it
    // gets an empty buffer and no data.
    plan.outputs.resize(num_outputs_, {DataType::kInt64, {0}});
    state->layout = PoolLayout(state->op.get(), x);
    plan.outputs[0] = {DataType::kFloat32, y_shape, state->layout};
    plan.input_layouts = FirstInputIn(state->layout, inputs);
    plan.state = std::move(state);
    return plan;
  }

  void Run(const KernelArgs& args) const override {
    const auto& state = static_cast<const PoolState&>(*args.state);
    const Tensor& x = *args.inputs[0];
    Tensor& y = *args.outputs[0];
    if (state.op) {
      state.op->Run(x.data<float>(), x.shape(), state.layout,
                    y.mutable_data<float>(), args.threads);
    } else if (kind_ == ops::PoolKind::kMax) {
      ops::ref::MaxPoolRef(x.data<float>(), x.shape(), state.params,
                           y.mutable_data<float>());
    } else {
      ops::ref::AveragePoolRef(x.data<float>(), x.shape(), state.params,
                               y.mutable_data<float>());
    }
  }

 private:
  std::shared_ptr<const ops::Pool> Build(
      const ops::ref::PoolParams& params) const {
    ops::PoolAttributes attrs;
    attrs.kind = kind_;
    attrs.kernel = params.kernel;
    attrs.strides = params.strides;
    // AveragePool has no dilations before opset 19 (the reader's default
    // is all ones); oneDNN's average pooling takes none.
    if (kind_ == ops::PoolKind::kMax) attrs.dilations = params.dilations;
    attrs.pads_begin = params.pads_begin;
    attrs.pads_end = params.pads_end;
    attrs.ceil_mode = attrs_.ceil_mode;
    attrs.count_include_pad = attrs_.count_include_pad;
    return BuildOrNull(label_, "pooling", [&] {
      return std::make_shared<const ops::Pool>(attrs);
    });
  }

  ops::PoolKind kind_;
  PoolAttributes attrs_;
  bool reference_;
  std::string label_;
  size_t num_outputs_;
  std::shared_ptr<const ops::Pool> op_;  // when pads are fixed
};

class GlobalAveragePoolKernel : public Kernel {
 public:
  explicit GlobalAveragePoolKernel(const KernelBuildContext& ctx) {
    if (!ctx.options().reference_kernels) {
      ops::PoolAttributes attrs;
      attrs.kind = ops::PoolKind::kGlobalAverage;
      op_ = std::make_unique<const ops::Pool>(attrs);
    }
  }

  KernelPlan Plan(const std::vector<const PlanInput*>& inputs) const override {
    const PlanInput& x = RequiredFloatInput(inputs, 0);
    const std::vector<int64_t> y_shape =
        ops::ref::GlobalPoolOutputShape(x.shape);
    if (op_)
      CheckOutputDims("oneDNN pooling", op_->OutputDims(x.shape), y_shape);
    auto state = std::make_unique<PoolState>();
    state->layout = PoolLayout(op_.get(), x);
    const ops::Layout layout = state->layout;
    return OneOutputPlan({DataType::kFloat32, y_shape, layout},
                         std::move(state), FirstInputIn(layout, inputs));
  }

  void Run(const KernelArgs& args) const override {
    const auto& state = static_cast<const PoolState&>(*args.state);
    const Tensor& x = *args.inputs[0];
    Tensor& y = *args.outputs[0];
    if (op_) {
      op_->Run(x.data<float>(), x.shape(), state.layout,
               y.mutable_data<float>(), args.threads);
    } else {
      ops::ref::GlobalAveragePoolRef(x.data<float>(), x.shape(),
                                     y.mutable_data<float>());
    }
  }

 private:
  std::unique_ptr<const ops::Pool> op_;  // null: reference path
};

std::unique_ptr<Kernel> CreateMaxPool(const KernelBuildContext& ctx) {
  return std::make_unique<WindowPoolKernel>(ctx, ops::PoolKind::kMax);
}
std::unique_ptr<Kernel> CreateAveragePool(const KernelBuildContext& ctx) {
  return std::make_unique<WindowPoolKernel>(ctx, ops::PoolKind::kAverage);
}

}  // namespace

void RegisterPoolKernels(OpRegistry* registry) {
  registry->AddKernel("AveragePool", "default", CreateAveragePool);
  registry->AddKernel("GlobalAveragePool", "default",
                      NewKernel<GlobalAveragePoolKernel>);
  registry->AddKernel("MaxPool", "default", CreateMaxPool);
}

}  // namespace foldrt::runtime
