#include "runtime/step_util.h"

namespace foldrt::runtime {

void RethrowWithContext(const Error& error, const std::string& file,
                        const std::string& node, const std::string& op) {
  ErrorContext context = error.context();
  if (context.file.empty()) context.file = file;
  if (context.node.empty()) {
    context.node = node;
    context.op = op;
  }
  if (dynamic_cast<const UnsupportedError*>(&error)) {
    throw UnsupportedError(error.message(), context);
  }
  if (dynamic_cast<const FormatError*>(&error)) {
    throw FormatError(error.message(), context);
  }
  if (dynamic_cast<const IoError*>(&error)) {
    throw IoError(error.message(), context);
  }
  throw InvalidArgumentError(error.message(), context);
}

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
