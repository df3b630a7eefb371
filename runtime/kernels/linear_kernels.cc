// Gemm and MatMul. With a constant right-hand side (and constant C) they
// run oneDNN's matmul through ops::Gemm / ops::MatMul, a fused ReLU/Clip as
// its post-op; with two computed operands, or a configuration the oneDNN op
// refuses, or reference kernels requested, the scalar references of ops/ref.
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/error.h"
#include "ops/matmul.h"
#include "ops/ref/gemm_ref.h"
#include "ops/ref/matmul_ref.h"
#include "runtime/kernels/kernel.h"
#include "runtime/kernels/kernel_util.h"
#include "runtime/op_attributes.h"
#include "runtime/op_registry.h"

namespace foldrt::runtime {
namespace {

// B for a oneDNN op, shared with it rather than copied: the op holds a copy
// of the tensor (which shares its storage) for as long as it reads it.
// Null for a view (storage someone else keeps): the op copies it then.
std::optional<ops::SharedFloats> ShareFloats(const Tensor& tensor) {
  if (!tensor.owns_data()) return std::nullopt;
  auto holder = std::make_shared<const Tensor>(tensor);
  return ops::SharedFloats{
      std::shared_ptr<const float>(holder, holder->data<float>())};
}

const Tensor* FloatConstantOrNull(const KernelBuildContext& ctx, size_t index) {
  const Tensor* value = ctx.constant(index);
  return value != nullptr && value->dtype() == DataType::kFloat32 ? value
                                                                  : nullptr;
}

// A's planned shape, for Prepare.
struct ShapeState : KernelState {
  std::vector<int64_t> a_shape;
};

// What Gemm and MatMul share: the oneDNN op built at load when B (and C)
// are constants (`Op`: ops::Gemm, ops::MatMul), else the reference path,
// which applies the fused activation after the ops/ref product.
template <typename Op>
class LinearKernel : public Kernel {
 public:
  void Prepare(const KernelState* state, int threads) const override {
    if (op_)
      op_->Prepare(static_cast<const ShapeState&>(*state).a_shape, threads);
  }

  void Run(const KernelArgs& args) const override {
    const Tensor& a = *args.inputs[0];
    Tensor& y = *args.outputs[0];
    if (op_) {
      op_->Run(a.data<float>(), a.shape(), y.mutable_data<float>(),
               args.threads);
      return;
    }
    RunReference(args);
    ApplyActivationInPlace(act_, y.mutable_data<float>(), y.NumElements(),
                           args.threads);
  }

 protected:
  LinearKernel(const KernelBuildContext& ctx, const char* op_name)
      : act_(ctx.fused_activation()), op_name_(op_name) {}

  // The plan of a float y of `y_shape` (the reference shape rule's, which
  // the oneDNN op must agree with) from A.
  KernelPlan PlanOutput(const PlanInput& a,
                        const std::vector<int64_t>& y_shape) const {
    if (op_) {
      CheckOutputDims(std::string("oneDNN ") + op_name_,
                      op_->OutputDims(a.shape), y_shape);
    }
    KernelPlan plan;
    plan.outputs = {{DataType::kFloat32, y_shape}};
    auto state = std::make_unique<ShapeState>();
    state->a_shape = a.shape;
    plan.state = std::move(state);
    return plan;
  }

  // The oneDNN op from build(), or null where it refuses the node.
  template <typename Build>
  void TryBuild(const KernelBuildContext& ctx, Build&& build) {
    op_ = BuildOrNull(ctx.node().Label(), ctx.node().op_type(), build);
  }

  // y = the ops/ref product, on the reference path.
  virtual void RunReference(const KernelArgs& args) const = 0;

  ops::Activation act_;
  std::unique_ptr<const Op> op_;  // null: reference path

 private:
  const char* op_name_;
};

class GemmKernel : public LinearKernel<ops::Gemm> {
 public:
  explicit GemmKernel(const KernelBuildContext& ctx)
      : LinearKernel(ctx, "Gemm"), params_(ReadGemmParams(ctx.node())) {
    const Tensor* b = FloatConstantOrNull(ctx, 1);
    const Tensor* c = ctx.has_input(2) ? FloatConstantOrNull(ctx, 2) : nullptr;
    const bool c_ready = !ctx.has_input(2) || c != nullptr;
    if (ctx.options().reference_kernels || b == nullptr || !c_ready) return;
    if (b->rank() != 2) {
      ctx.Invalid("B is " + ShapeToString(b->shape()) + "; Gemm needs 2-D B");
    }
    ops::GemmAttributes attrs;
    attrs.trans_a = params_.trans_a;
    attrs.trans_b = params_.trans_b;
    attrs.alpha = params_.alpha;
    attrs.beta = params_.beta;
    TryBuild(ctx, [&] {
      const float* c_data = c != nullptr ? c->data<float>() : nullptr;
      std::vector<int64_t> c_dims =
          c != nullptr ? c->shape() : std::vector<int64_t>{};
      if (std::optional<ops::SharedFloats> shared = ShareFloats(*b)) {
        return std::make_unique<const ops::Gemm>(std::move(*shared), b->shape(),
                                                 c_data, std::move(c_dims),
                                                 attrs, act_);
      }
      return std::make_unique<const ops::Gemm>(
          b->data<float>(), b->shape(), c_data, std::move(c_dims), attrs, act_);
    });
    if (op_) {
      b_shape_ = b->shape();
      if (c != nullptr) c_shape_ = c->shape();
    }
  }

  // The op holds B (until it packed it) and beta * C as its bias.
  bool ReleasesConstantInput(size_t index) const override {
    return op_ != nullptr && (index == 1 || index == 2);
  }

  KernelPlan Plan(const std::vector<const PlanInput*>& inputs) const override {
    const PlanInput& a = RequiredFloatInput(inputs, 0);
    if (op_) {
      // B and C were constants; the step no longer passes them.
      return PlanOutput(
          a, ops::ref::GemmOutputShape(
                 a.shape, b_shape_, c_shape_ ? &*c_shape_ : nullptr, params_));
    }
    const PlanInput& b = RequiredFloatInput(inputs, 1);
    const PlanInput* c = inputs.size() > 2 ? inputs[2] : nullptr;
    if (c != nullptr) RequiredFloatInput(inputs, 2);
    return PlanOutput(
        a, ops::ref::GemmOutputShape(
               a.shape, b.shape, c != nullptr ? &c->shape : nullptr, params_));
  }

 private:
  void RunReference(const KernelArgs& args) const override {
    const Tensor& a = *args.inputs[0];
    const Tensor& b = *args.inputs[1];
    const Tensor* c = args.inputs.size() > 2 ? args.inputs[2] : nullptr;
    ops::ref::GemmRef(a.data<float>(), a.shape(), b.data<float>(), b.shape(),
                      c != nullptr ? c->data<float>() : nullptr,
                      c != nullptr ? c->shape() : std::vector<int64_t>{},
                      params_, args.outputs[0]->mutable_data<float>());
  }

  ops::ref::GemmParams params_;
  // With op_: the shapes of the constant B and C (none: no C).
  std::vector<int64_t> b_shape_;
  std::optional<std::vector<int64_t>> c_shape_;
};

class MatMulKernel : public LinearKernel<ops::MatMul> {
 public:
  explicit MatMulKernel(const KernelBuildContext& ctx)
      : LinearKernel(ctx, "MatMul") {
    const Tensor* b = FloatConstantOrNull(ctx, 1);
    if (ctx.options().reference_kernels || b == nullptr || b->rank() > 2) {
      return;
    }
    TryBuild(ctx, [&] {
      if (std::optional<ops::SharedFloats> shared = ShareFloats(*b)) {
        return std::make_unique<const ops::MatMul>(std::move(*shared),
                                                   b->shape(), /*bias=*/nullptr,
                                                   /*alpha=*/1.0f, act_);
      }
      return std::make_unique<const ops::MatMul>(
          b->data<float>(), b->shape(), /*bias=*/nullptr, /*alpha=*/1.0f, act_);
    });
    if (op_) b_shape_ = b->shape();
  }

  // The op holds B until it packed it.
  bool ReleasesConstantInput(size_t index) const override {
    return op_ != nullptr && index == 1;
  }

  KernelPlan Plan(const std::vector<const PlanInput*>& inputs) const override {
    const PlanInput& a = RequiredFloatInput(inputs, 0);
    // With op_, B was a constant the step no longer passes.
    return PlanOutput(
        a, ops::ref::MatMulOutputShape(
               a.shape, op_ ? b_shape_ : RequiredFloatInput(inputs, 1).shape));
  }

 private:
  void RunReference(const KernelArgs& args) const override {
    const Tensor& a = *args.inputs[0];
    const Tensor& b = *args.inputs[1];
    ops::ref::MatMulRef(a.data<float>(), a.shape(), b.data<float>(), b.shape(),
                        args.outputs[0]->mutable_data<float>());
  }

  std::vector<int64_t> b_shape_;  // with op_
};

}  // namespace

void RegisterLinearKernels(OpRegistry* registry) {
  // Every activation: a oneDNN post-op, or ApplyActivation on the
  // reference path.
  const auto any_activation = [](ops::Activation::Kind) { return true; };
  registry->AddKernel("Gemm", "default", NewKernel<GemmKernel>)
      .fuses_activation = any_activation;
  registry->AddKernel("MatMul", "default", NewKernel<MatMulKernel>)
      .fuses_activation = any_activation;
}

}  // namespace foldrt::runtime
