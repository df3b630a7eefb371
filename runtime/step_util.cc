#include "runtime/step_util.h"

namespace foldrt::runtime {

std::vector<Tensor> RunNow(const Kernel& kernel, const KernelPlan& plan,
                           const std::vector<const Tensor*>& inputs,
                           const std::vector<bool>& output_present,
                           int threads) {
  std::vector<Tensor> outputs(plan.outputs.size());
  KernelArgs args;
  args.inputs = inputs;
  args.state = plan.state.get();
  args.threads = threads;
  for (size_t k = 0; k < plan.outputs.size(); ++k) {
    if (k < output_present.size() && output_present[k]) {
      outputs[k] = Tensor::Zeros(plan.outputs[k].dtype, plan.outputs[k].shape);
      args.outputs.push_back(&outputs[k]);
    } else {
      args.outputs.push_back(nullptr);
    }
  }
  kernel.Run(args);
  return outputs;
}

}  // namespace foldrt::runtime
