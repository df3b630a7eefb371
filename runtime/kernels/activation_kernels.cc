// The activation kernels: Relu, Clip, Sigmoid, HardSigmoid, HardSwish (and
// Sigmoid with its Mul fused in, as Swish). They map every element alike,
// so they run on whatever layout their input is in. Plain loops the
// compiler vectorizes (Sigmoid and Swish: the Highway kernels of
// ops/eltwise.h), split over OpenMP threads for large tensors.
#include <limits>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "core/error.h"
#include "ops/activation.h"
#include "ops/eltwise.h"
#include "ops/layout.h"
#include "runtime/kernels/kernel.h"
#include "runtime/kernels/kernel_util.h"
#include "runtime/op_attributes.h"
#include "runtime/op_registry.h"

namespace foldrt::runtime {
namespace {

// ------------------------------------------------------ unary activations

// Unary ops map every element alike, so they run on whatever layout their
// input is in: the whole buffer, padding included. Where f(0) != 0 the
// padding is zeroed again afterwards.
struct UnaryState : KernelState {
  ops::Layout layout = ops::Layout::kNchw;
  ops::ChannelShape shape;  // blocked layouts only
  int64_t count = 0;        // floats in the buffer
};

// Plans a layout-preserving unary op on input 0.
KernelPlan PlanUnary(const std::vector<const PlanInput*>& inputs) {
  const PlanInput& x = RequiredFloatInput(inputs, 0);
  auto state = std::make_unique<UnaryState>();
  state->layout = x.layout;
  if (IsBlocked(state->layout)) state->shape = ops::SplitChannelShape(x.shape);
  state->count = BufferElementCount(x.shape, state->layout);
  const ops::Layout layout = state->layout;
  return OneOutputPlan({DataType::kFloat32, x.shape, layout}, std::move(state),
                       FirstInputIn(layout, inputs));
}

// After y = f(x) over a whole blocked buffer: padding back to zero.
void RezeroPadding(const UnaryState& state, float f_of_zero, float* y) {
  if (IsBlocked(state.layout) && f_of_zero != 0.0f) {
    ops::ZeroChannelPadding(y, state.shape, state.layout);
  }
}

// A unary op with a vectorized kernel for whole chunks (Span); operator()
// is its scalar definition, for single values.
struct SpanOp {};

// y[0, n) = f(x[0, n)): the op's span kernel, or an element loop.
template <typename F>
void ApplyUnary(const F& f, const float* x, float* y, int64_t n) {
  if constexpr (std::is_base_of_v<SpanOp, F>) {
    f.Span(x, y, static_cast<size_t>(n));
  } else {
    for (int64_t i = 0; i < n; ++i) y[i] = f(x[i]);
  }
}

struct SigmoidOp : SpanOp {
  float operator()(float v) const {
    return ops::ApplyActivation(ops::Activation::Sigmoid(), v);
  }
  void Span(const float* x, float* y, size_t n) const {
    ops::SigmoidF32(x, y, n);
  }
};

// x * sigmoid(x): a Sigmoid whose Mul by its input was fused into it.
struct SwishOp : SpanOp {
  float operator()(float v) const {
    return ops::ApplyActivation(ops::Activation::Swish(), v);
  }
  void Span(const float* x, float* y, size_t n) const {
    ops::SwishF32(x, y, n);
  }
};

// y = f(x) on float32; f: float -> float (or a SpanOp), must not throw.
template <typename F>
class UnaryFloatKernel : public Kernel {
 public:
  explicit UnaryFloatKernel(F f) : f_(std::move(f)) {}

  KernelPlan Plan(const std::vector<const PlanInput*>& inputs) const override {
    return PlanUnary(inputs);
  }

  void Run(const KernelArgs& args) const override {
    const auto& state = static_cast<const UnaryState&>(*args.state);
    const float* x = args.inputs[0]->data<float>();
    float* y = args.outputs[0]->mutable_data<float>();
    ParallelFor(state.count, args.threads, kElementwiseGrain,
                [&](int64_t begin, int64_t end) {
                  ApplyUnary(f_, x + begin, y + begin, end - begin);
                });
    RezeroPadding(state, f_(0.0f), y);
  }

 private:
  F f_;
};

template <typename F>
std::unique_ptr<Kernel> MakeUnary(F f) {
  return std::make_unique<UnaryFloatKernel<F>>(std::move(f));
}

std::unique_ptr<Kernel> CreateRelu(const KernelBuildContext&) {
  return MakeUnary(
      [](float v) { return ops::ApplyActivation(ops::Activation::Relu(), v); });
}

std::unique_ptr<Kernel> CreateSigmoid(const KernelBuildContext& ctx) {
  switch (ctx.fused_activation().kind) {
    case ops::Activation::Kind::kNone:
      return MakeUnary(SigmoidOp());
    case ops::Activation::Kind::kSwish:
      // The session fused Mul(x, Sigmoid(x)) into this node.
      return MakeUnary(SwishOp());
    default:
      ctx.Invalid("a Sigmoid cannot apply a fused " +
                  ctx.fused_activation().ToString());
  }
}

std::unique_ptr<Kernel> CreateHardSigmoid(const KernelBuildContext& ctx) {
  const double alpha = ctx.node().GetFloat("alpha", 0.2f);
  const double beta = ctx.node().GetFloat("beta", 0.5f);
  return MakeUnary([alpha, beta](float v) {
    return static_cast<float>(HardSigmoidOf(v, alpha, beta));
  });
}

std::unique_ptr<Kernel> CreateHardSwish(const KernelBuildContext&) {
  return MakeUnary([](float v) {
    return static_cast<float>(v * HardSigmoidOf(v, 1.0 / 6.0, 0.5));
  });
}

// Clip: bounds from attributes before opset 11, from optional scalar inputs
// (read at every run, they may be computed) from 11 on. NaN stays NaN.
class ClipKernel : public Kernel {
 public:
  explicit ClipKernel(const KernelBuildContext& ctx)
      : bounds_are_inputs_(ctx.opset() >= 11) {
    if (!bounds_are_inputs_) {
      min_ = ctx.node().GetFloat("min", min_);
      max_ = ctx.node().GetFloat("max", max_);
      if (!(min_ <= max_)) {
        ctx.Invalid("min " + std::to_string(min_) + " exceeds max " +
                    std::to_string(max_));
      }
    }
  }

  KernelPlan Plan(const std::vector<const PlanInput*>& inputs) const override {
    if (bounds_are_inputs_) {
      for (size_t i = 1; i <= 2 && i < inputs.size(); ++i) {
        if (inputs[i] == nullptr) continue;
        const PlanInput& bound = RequiredFloatInput(inputs, i);
        if (ShapeNumElements(bound.shape) != 1) {
          throw InvalidArgumentError(std::string(i == 1 ? "min" : "max") +
                                     " must hold one value, " + "it is " +
                                     Describe(bound));
        }
      }
    }
    return PlanUnary(inputs);
  }

  void Run(const KernelArgs& args) const override {
    const auto& state = static_cast<const UnaryState&>(*args.state);
    float lo = min_;
    float hi = max_;
    if (bounds_are_inputs_) {
      if (args.inputs.size() > 1 && args.inputs[1] != nullptr) {
        lo = args.inputs[1]->data<float>()[0];
      }
      if (args.inputs.size() > 2 && args.inputs[2] != nullptr) {
        hi = args.inputs[2]->data<float>()[0];
      }
    }
    const float* x = args.inputs[0]->data<float>();
    float* y = args.outputs[0]->mutable_data<float>();
    ParallelFor(state.count, args.threads, kElementwiseGrain,
                [&](int64_t begin, int64_t end) {
                  for (int64_t i = begin; i < end; ++i) {
                    const float v = x[i];
                    y[i] = v < lo ? lo : (v > hi ? hi : v);
                  }
                });
    RezeroPadding(state, 0.0f < lo ? lo : (0.0f > hi ? hi : 0.0f), y);
  }

 private:
  bool bounds_are_inputs_;
  float min_ = std::numeric_limits<float>::lowest();
  float max_ = std::numeric_limits<float>::max();
};

}  // namespace

void RegisterActivationKernels(OpRegistry* registry) {
  registry->AddKernel("Relu", "default", CreateRelu);
  registry->AddKernel("Sigmoid", "default", CreateSigmoid);
  registry->AddKernel("HardSigmoid", "default", CreateHardSigmoid);
  registry->AddKernel("HardSwish", "default", CreateHardSwish);
  registry->AddKernel("Clip", "default", NewKernel<ClipKernel>);
}

}  // namespace foldrt::runtime
