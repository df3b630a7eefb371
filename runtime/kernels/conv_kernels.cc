// Conv and ConvTranspose: oneDNN through ops::Conv / ops::ConvTranspose,
// or the scalar references of ops/ref (SessionOptions::reference_kernels,
// FOLDRT_KERNEL=ref, or where the oneDNN op refuses a configuration).
// Weights (and bias) must be constants; a fused activation is applied as
// the op's post-op, a fused residual Add as its sum post-op.
#include <algorithm>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/error.h"
#include "ops/conv.h"
#include "ops/conv_transpose.h"
#include "ops/ref/conv_ref.h"
#include "ops/ref/conv_transpose_ref.h"
#include "runtime/kernels/kernel.h"
#include "runtime/kernels/kernel_util.h"
#include "runtime/op_attributes.h"
#include "runtime/op_registry.h"

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

// The weights for a oneDNN op, shared with it rather than copied: the op
// holds a copy of the tensor (which shares its storage) for as long as it
// reads them. A view (storage someone else keeps) is copied as before.
template <typename Op, typename Attributes>
std::shared_ptr<const Op> MakeOp(const ConvWeights& w, Attributes attrs,
                                 const ops::Activation& act) {
  const float* bias = w.bias ? w.bias->data<float>() : nullptr;
  if (!w.weights.owns_data()) {
    return std::make_shared<const Op>(w.weights.data<float>(),
                                      w.weights.shape(), bias, std::move(attrs),
                                      act);
  }
  auto holder = std::make_shared<const Tensor>(w.weights);
  ops::SharedFloats weights{
      std::shared_ptr<const float>(holder, holder->data<float>())};
  return std::make_shared<const Op>(std::move(weights), w.weights.shape(), bias,
                                    std::move(attrs), act);
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

// What Conv and ConvTranspose share: the checked weights and bias (let go
// of once the oneDNN op holds them, so that the plain weights are freed
// when it packed them: ReleasesConstantInput), their shape, the fused
// activation, and the oneDNN op (`Op`) built at load when the pads do not
// depend on the input shape.
template <typename Op>
class WeightedKernel : public Kernel {
 public:
  bool ReleasesConstantInput(size_t index) const override {
    return op_ != nullptr && (index == 1 || index == 2);
  }

 protected:
  // `op_type`: "Conv" or "ConvTranspose", for messages.
  WeightedKernel(const KernelBuildContext& ctx, const char* op_type)
      : w_(ReadConvWeights(ctx)),
        w_shape_(w_.weights.shape()),
        act_(ctx.fused_activation()),
        reference_(ctx.options().reference_kernels),
        label_(ctx.node().Label()),
        op_type_(op_type) {}

  // The oneDNN op with these attributes, or null (reference path) where
  // oneDNN refuses the configuration.
  template <typename Attributes>
  std::shared_ptr<const Op> BuildOp(Attributes attrs) const {
    return BuildOrNull(label_, op_type_,
                       [&] { return MakeOp<Op>(w_, std::move(attrs), act_); });
  }

  // Once op_ is built it holds the weights (until it packed them) and a
  // copy of the bias; Plan reads only the shape.
  void ReleaseWeightsIfBuilt() {
    if (op_) w_ = ConvWeights{};
  }

  ConvWeights w_;  // empty once op_ is built
  std::vector<int64_t> w_shape_;
  ops::Activation act_;
  bool reference_;
  std::string label_;
  std::shared_ptr<const Op> op_;  // when the pads are fixed

 private:
  const char* op_type_;
};

// ------------------------------------------------------ Conv

struct ConvState : KernelState {
  ops::ref::ConvParams params;
  std::shared_ptr<const ops::Conv> conv;  // null: reference path
  // What oneDNN's implementation prefers; the session converts x into
  // src_layout when its producer wrote another one.
  ops::Conv::Layouts layouts;
  // A fused residual Add: r has y's shape (read in y's layout), or it
  // broadcasts to it (read plain at these strides, y plain).
  std::vector<int64_t> x_shape;  // for Prepare
  bool residual_broadcasts = false;
  std::vector<int64_t> residual_strides;
};

// Index of the residual operand among a fused Conv step's inputs (after X,
// W and the optional B).
constexpr size_t kResidualInput = 3;

class ConvKernel : public WeightedKernel<ops::Conv> {
 public:
  explicit ConvKernel(const KernelBuildContext& ctx)
      : WeightedKernel(ctx, "Conv"),
        attrs_(ReadConvAttributes(ctx.node(), w_.weights.rank() - 2)),
        conv_layout_(ctx.options().conv_layout),
        winograd_(ctx.options().winograd),
        threads_(ctx.options().threads),
        residual_(ctx.fused_residual()) {
    CheckBias(ctx, w_.bias, w_.weights.shape()[0]);
    if (!reference_ && !PadsDependOnInputShape(attrs_.window)) {
      ops::ref::ConvParams params;
      SetFixedWindow(attrs_.window, &params);
      params.groups = attrs_.groups;
      op_ = BuildConv(params);
    }
    ReleaseWeightsIfBuilt();
  }

  KernelPlan Plan(const std::vector<const PlanInput*>& inputs) const override {
    const PlanInput& x = RequiredFloatInput(inputs, 0);
    auto state = std::make_unique<ConvState>();
    state->params = ResolveConvParams(attrs_, x.shape, w_shape_);
    const std::vector<int64_t> y_shape =
        ops::ref::ConvOutputShape(x.shape, w_shape_, state->params);
    if (!reference_) {
      state->conv = op_ ? op_ : BuildConv(state->params);
    }
    if (state->conv) {
      CheckOutputDims("oneDNN Conv", state->conv->OutputDims(x.shape), y_shape);
    }
    KernelPlan plan;
    if (state->conv && x.shape.size() >= 3 && x.shape.size() <= 5) {
      state->layouts = conv_layout_
                           ? ops::Conv::Layouts{*conv_layout_, *conv_layout_}
                           : state->conv->PreferredLayouts(x.shape, threads_);
    }
    if (residual_) PlanResidual(inputs, y_shape, state.get());
    state->x_shape = x.shape;
    plan.outputs = {{DataType::kFloat32, y_shape, state->layouts.dst}};
    plan.input_layouts = FirstInputIn(state->layouts.src, inputs);
    if (residual_) {
      plan.input_layouts[kResidualInput] =
          state->residual_broadcasts ? ops::Layout::kNchw : state->layouts.dst;
    }
    plan.state = std::move(state);
    return plan;
  }

  void Prepare(const KernelState* state, int threads) const override {
    const auto& s = static_cast<const ConvState&>(*state);
    if (s.conv) {
      s.conv->Prepare(s.x_shape, s.layouts.src, s.layouts.dst, threads);
    }
  }

  int InPlaceInput() const override {
    return residual_ ? static_cast<int>(kResidualInput) : -1;
  }

  void Run(const KernelArgs& args) const override {
    const auto& state = static_cast<const ConvState&>(*args.state);
    const Tensor& x = *args.inputs[0];
    Tensor& y = *args.outputs[0];
    float* out = y.mutable_data<float>();
    const int64_t count = BufferElementCount(y.shape(), state.layouts.dst);
    if (state.conv) {
      if (residual_) {
        // y = r first; the primitive's sum post-op adds the convolution.
        // Nothing to copy when the session put y over r's buffer.
        const float* r = args.inputs[kResidualInput]->data<float>();
        if (state.residual_broadcasts) {
          StridedCopy(r, 0, state.residual_strides, y.shape(), out,
                      args.threads);
        } else if (r != out) {
          ParallelFor(count, args.threads, int64_t{1} << 16,
                      [&](int64_t begin, int64_t end) {
                        std::copy(r + begin, r + end, out + begin);
                      });
        }
      }
      state.conv->Run(x.data<float>(), x.shape(), state.layouts.src, out,
                      state.layouts.dst, args.threads);
      return;
    }
    // Reference path (plain layouts): y may be r's buffer, so r is read
    // before the convolution overwrites it.
    std::vector<float> residual;
    if (residual_) {
      residual.resize(static_cast<size_t>(count));
      const float* r = args.inputs[kResidualInput]->data<float>();
      if (state.residual_broadcasts) {
        StridedCopy(r, 0, state.residual_strides, y.shape(), residual.data(),
                    args.threads);
      } else {
        std::copy(r, r + count, residual.data());
      }
    }
    ops::ref::ConvRef(x.data<float>(), x.shape(), w_.weights.data<float>(),
                      w_.weights.shape(),
                      w_.bias ? w_.bias->data<float>() : nullptr, state.params,
                      out);
    for (size_t i = 0; i < residual.size(); ++i) out[i] += residual[i];
    ApplyActivationInPlace(act_, out, y.NumElements(), args.threads);
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
    attrs.accumulate = residual_;
    attrs.winograd = winograd_;
    return BuildOp(std::move(attrs));
  }

  // The residual r (input 3) against the convolution's output y: the same
  // shape, or one that broadcasts to it (then read plain, and y plain);
  // an r that would make the Add's result larger than y is refused.
  void PlanResidual(const std::vector<const PlanInput*>& inputs,
                    const std::vector<int64_t>& y_shape,
                    ConvState* state) const {
    const PlanInput& r = RequiredFloatInput(inputs, kResidualInput);
    if (r.shape == y_shape) return;
    if (BroadcastShapes(r.shape, y_shape) != y_shape) {
      throw UnsupportedError("the fused residual Add of " + Describe(r) +
                             " would broadcast the convolution's output " +
                             ShapeToString(y_shape));
    }
    state->residual_broadcasts = true;
    state->layouts.dst = ops::Layout::kNchw;
    state->residual_strides = BroadcastStrides(r.shape, y_shape);
  }

  ConvAttributes attrs_;
  std::optional<ops::Layout> conv_layout_;
  bool winograd_;
  int threads_;  // the session's: Winograd is timed under it
  bool residual_;
};

// ------------------------------------------------------ ConvTranspose

struct ConvTransposeState : KernelState {
  ops::ref::ConvTransposeParams params;
  std::shared_ptr<const ops::ConvTranspose> op;  // null: reference path
};

class ConvTransposeKernel : public WeightedKernel<ops::ConvTranspose> {
 public:
  explicit ConvTransposeKernel(const KernelBuildContext& ctx)
      : WeightedKernel(ctx, "ConvTranspose"),
        attrs_(ReadConvTransposeAttributes(ctx.node(), w_.weights.rank() - 2)) {
    CheckBias(ctx, w_.bias, w_.weights.shape()[1] * attrs_.groups);
    if (!reference_ && !attrs_.output_shape) {
      ops::ref::ConvTransposeParams params;
      SetFixedWindow(attrs_.window, &params.conv);
      params.conv.groups = attrs_.groups;
      params.output_padding = attrs_.output_padding;
      op_ = Build(params);
    }
    ReleaseWeightsIfBuilt();
  }

  KernelPlan Plan(const std::vector<const PlanInput*>& inputs) const override {
    const PlanInput& x = RequiredFloatInput(inputs, 0);
    auto state = std::make_unique<ConvTransposeState>();
    state->params = ResolveConvTransposeParams(attrs_, x.shape, w_shape_);
    const std::vector<int64_t> y_shape =
        ops::ref::ConvTransposeOutputShape(x.shape, w_shape_, state->params);
    if (!reference_) state->op = op_ ? op_ : Build(state->params);
    if (state->op) {
      CheckOutputDims("oneDNN ConvTranspose", state->op->OutputDims(x.shape),
                      y_shape);
    }
    return OneOutputPlan({DataType::kFloat32, y_shape}, std::move(state));
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
    return BuildOp(std::move(attrs));
  }

  // op_ is built at load when there is no output_shape.
  ConvTransposeAttributes attrs_;
};

}  // namespace

void RegisterConvKernels(OpRegistry* registry) {
  // Every activation: a oneDNN post-op, or ApplyActivation on the
  // reference path.
  const auto any_activation = [](ops::Activation::Kind) { return true; };
  registry->AddKernel("Conv", "default", NewKernel<ConvKernel>)
      .fuses_activation = any_activation;
  registry
      ->AddKernel("ConvTranspose", "default", NewKernel<ConvTransposeKernel>)
      .fuses_activation = any_activation;
}

}  // namespace foldrt::runtime
