// Shape kernels: the views Flatten, Reshape, Squeeze, Unsqueeze, Identity
// and Dropout (their output is their input with another shape; the session
// shares the buffer), and Shape and Constant, whose values planning and
// loading know. Float32 and int64 alike.
#include <algorithm>
#include <cstring>
#include <limits>
#include <memory>
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

void RegisterShapeKernels(OpRegistry* registry) {
  registry->AddKernel("Constant", "default", CreateConstant);
  registry->AddKernel("Dropout", "default", CreateDropout);
  registry->AddKernel("Flatten", "default", NewKernel<FlattenKernel>);
  registry->AddKernel("Identity", "default", CreateIdentity);
  registry->AddKernel("Reshape", "default", NewKernel<ReshapeKernel>);
  registry->AddKernel("Shape", "default", NewKernel<ShapeKernel>);
  registry->AddKernel("Squeeze", "default", CreateSqueeze);
  registry->AddKernel("Unsqueeze", "default", CreateUnsqueeze);
}

}  // namespace foldrt::runtime
