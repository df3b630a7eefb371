// Standalone inference BatchNormalization: a BN the folding passes could not
// fold (or every BN, with folding off) runs ops::BatchNorm, built once from
// the constant statistics through the shared affine math, with a following
// ReLU/Clip fused.
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/batch_norm_affine.h"
#include "core/error.h"
#include "ops/batch_norm.h"
#include "ops/layout.h"
#include "runtime/kernels/kernel.h"
#include "runtime/kernels/kernel_util.h"
#include "runtime/op_registry.h"

namespace foldrt::runtime {
namespace {

struct LayoutState : KernelState {
  ops::Layout layout = ops::Layout::kNchw;
  // Of x's buffer when x is a channel slice of it (PlanInput), else 0.
  int64_t x_channels = 0;
};

class BatchNormKernel : public Kernel {
 public:
  explicit BatchNormKernel(const KernelBuildContext& ctx)
      : bn_(MakeBatchNorm(ctx)), num_outputs_(ctx.node().num_outputs()) {}

  KernelPlan Plan(const std::vector<const PlanInput*>& inputs) const override {
    const PlanInput& x = RequiredFloatInput(inputs, 0);
    if (x.shape.size() < 2) {
      throw InvalidArgumentError("input " + Describe(x) +
                                 " needs rank >= 2 (N, C, ...)");
    }
    if (x.shape[1] != static_cast<int64_t>(bn_.channels())) {
      throw InvalidArgumentError(
          "input " + Describe(x) + " has " + std::to_string(x.shape[1]) +
          " channels, the statistics " + std::to_string(bn_.channels()));
    }
    KernelPlan plan;
    // The training-statistics outputs are refused at load when used.
    plan.outputs.resize(num_outputs_, {DataType::kFloat32, {0}});
    // Every BN implementation runs on every layout (DenseNet's BN-ReLU
    // between a Concat and a Conv stays in the convolutions' layout).
    auto state = std::make_unique<LayoutState>();
    state->layout = x.layout;
    state->x_channels = x.buffer_channels;
    plan.outputs[0] = {DataType::kFloat32, x.shape, state->layout};
    plan.input_layouts = FirstInputIn(state->layout, inputs);
    plan.state = std::move(state);
    return plan;
  }

  void Run(const KernelArgs& args) const override {
    const auto& state = static_cast<const LayoutState&>(*args.state);
    const Tensor& x = *args.inputs[0];
    Tensor& y = *args.outputs[0];
    const size_t n =
        static_cast<size_t>(BufferElementCount(x.shape(), state.layout));
    size_t x_size = n;
    if (state.x_channels > 0) {
      std::vector<int64_t> buffer_shape = x.shape();
      buffer_shape[1] = state.x_channels;
      x_size =
          static_cast<size_t>(BufferElementCount(buffer_shape, state.layout));
    }
    bn_.Run(x.data<float>(), x_size, y.mutable_data<float>(), n, x.shape(),
            state.layout, args.threads, static_cast<size_t>(state.x_channels));
  }

  // DenseNet's BN after each Concat reads the concatenation in place.
  bool ReadsChannelSlice(size_t index) const override { return index == 0; }

 private:
  static ops::BatchNorm MakeBatchNorm(const KernelBuildContext& ctx) {
    const graph::Node& node = ctx.node();
    if (ctx.opset() < 9 && node.GetInt("spatial", 1) != 1) {
      ctx.Unsupported("spatial=0 (per-element statistics) is not supported");
    }
    // training_mode=1 with the statistics outputs unused counts as
    // inference (the running statistics are used), as in the folding passes
    // and the reference evaluator; docs/design.md ("The BN math") says
    // where this departs from ONNX.
    for (size_t i = 1; i < node.num_outputs(); ++i) {
      ctx.RequireUnusedOutput(i, "training statistics");
    }
    const char* const kNames[] = {"scale", "B", "input_mean", "input_var"};
    std::vector<float> params[4];
    for (size_t i = 0; i < 4; ++i) {
      const Tensor& t = ctx.RequireFloatConstant(i + 1, kNames[i]);
      if (t.rank() != 1) {
        ctx.Invalid(std::string(kNames[i]) + " is " + ShapeToString(t.shape()) +
                    ", expected one value per channel");
      }
      params[i] = t.ToVector<float>();
    }
    const ops::BatchNormImpl impl = ctx.options().reference_kernels
                                        ? ops::BatchNormImpl::kRef
                                        : ctx.options().batch_norm_impl;
    // Throws InvalidArgumentError for mismatched lengths, negative variance
    // or non-finite statistics, naming the channel.
    return ops::BatchNorm(params[0], params[1], params[2], params[3],
                          node.GetFloat("epsilon", kDefaultBatchNormEpsilon),
                          ctx.fused_activation(), impl);
  }

  ops::BatchNorm bn_;
  size_t num_outputs_;
};

}  // namespace

void RegisterBatchNormKernels(OpRegistry* registry) {
  // ops::BatchNorm picks Highway, oneDNN or the scalar reference itself
  // (ops::BatchNormImpl, measured per layout in bench/ops), so the
  // registry holds one implementation.
  registry
      ->AddKernel("BatchNormalization", "default", NewKernel<BatchNormKernel>)
      .fuses_activation = ops::BatchNormSupportsActivation;
}

}  // namespace foldrt::runtime
