// Cast to float32 or int64, the two element types the runtime computes in.
#include <cstdint>
#include <memory>
#include <vector>

#include "runtime/kernels/kernel.h"
#include "runtime/kernels/kernel_util.h"
#include "runtime/kernels/tensor_kernels.h"
#include "runtime/op_attributes.h"
#include "runtime/op_registry.h"

namespace foldrt::runtime {
namespace {

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
      ReadCastTarget(ctx.node()) == graph::DataType::kFloat ? DataType::kFloat32
                                                            : DataType::kInt64);
}

}  // namespace

void RegisterCastKernels(OpRegistry* registry) {
  registry->AddKernel("Cast", "default", CreateCast);
}

}  // namespace foldrt::runtime
