#include "runtime/kernels/kernel.h"

#include <limits>
#include <map>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/logging.h"
#include "runtime/kernels/kernel_util.h"
#include "runtime/op_registry.h"

namespace foldrt::runtime {

DataType Kernel::OutputDataType(
    const std::vector<DataType>& input_dtypes) const {
  return input_dtypes.empty() ? DataType::kFloat32 : input_dtypes[0];
}

// ------------------------------------------------------ build context

void KernelBuildContext::Unsupported(const std::string& message) const {
  throw UnsupportedError(message, graph::NodeErrorContext(node_));
}

void KernelBuildContext::Invalid(const std::string& message) const {
  throw InvalidArgumentError(message, graph::NodeErrorContext(node_));
}

const Tensor& KernelBuildContext::RequireFloatConstant(
    size_t index, const std::string& what) const {
  if (!has_input(index)) {
    Invalid(what + " (input " + std::to_string(index) + ") is missing");
  }
  const Tensor* value = constant(index);
  if (value == nullptr) {
    Unsupported(what + " ('" + node_.input(index) +
                "') is computed at run time; foldrt needs it constant");
  }
  if (value->dtype() != DataType::kFloat32) {
    Invalid(what + " ('" + node_.input(index) + "') is " +
            DataTypeName(value->dtype()) + ", expected float32");
  }
  return *value;
}

void KernelBuildContext::RequireUnusedOutput(size_t index,
                                             const std::string& what) const {
  if (output_used(index)) {
    Unsupported("output " + std::to_string(index) + " ('" +
                node_.output(index) + "', " + what +
                ") is used; foldrt does not compute it");
  }
}

// ------------------------------------------------------ plan helpers

Tensor ToRuntimeTensor(const graph::Tensor& tensor, const std::string& what) {
  switch (tensor.dtype()) {
    case graph::DataType::kFloat:
      return Tensor::FromFloats(tensor.dims(), tensor.ToFloats());
    case graph::DataType::kInt64:
    case graph::DataType::kInt32:
    case graph::DataType::kInt16:
    case graph::DataType::kInt8:
    case graph::DataType::kUint32:
    case graph::DataType::kUint16:
    case graph::DataType::kUint8:
    case graph::DataType::kBool:
      return Tensor::FromInt64s(tensor.dims(), tensor.ToInt64s());
    default:
      throw UnsupportedError(what + " has element type " +
                             graph::DataTypeName(tensor.dtype()) +
                             "; foldrt computes in float32 and int64");
  }
}

std::string Describe(const PlanInput& input) {
  return std::string(DataTypeName(input.dtype)) + " " +
         ShapeToString(input.shape);
}

const PlanInput& RequiredInput(const std::vector<const PlanInput*>& inputs,
                               size_t index) {
  if (index >= inputs.size() || inputs[index] == nullptr) {
    throw InvalidArgumentError("required input " + std::to_string(index) +
                               " is missing");
  }
  return *inputs[index];
}

const PlanInput& RequiredFloatInput(const std::vector<const PlanInput*>& inputs,
                                    size_t index) {
  const PlanInput& input = RequiredInput(inputs, index);
  if (input.dtype != DataType::kFloat32) {
    throw InvalidArgumentError("input " + std::to_string(index) + " is " +
                               Describe(input) + "; expected float32");
  }
  return input;
}

std::vector<int64_t> KnownInt64Input(
    const std::vector<const PlanInput*>& inputs, size_t index,
    const std::string& what) {
  const PlanInput& input = RequiredInput(inputs, index);
  if (input.dtype != DataType::kInt64) {
    throw InvalidArgumentError(what + " (input " + std::to_string(index) +
                               ") is " + Describe(input) + "; expected int64");
  }
  if (input.value == nullptr) {
    throw UnsupportedError(what + " (input " + std::to_string(index) +
                           ") is computed from data at run time; foldrt "
                           "needs it constant or computed from shapes");
  }
  return input.value->ToVector<int64_t>();
}

double KnownScalarInput(const std::vector<const PlanInput*>& inputs,
                        size_t index, const std::string& what) {
  const PlanInput& input = RequiredInput(inputs, index);
  if (input.value == nullptr) {
    throw UnsupportedError(what + " (input " + std::to_string(index) +
                           ") is computed at run time; foldrt needs it "
                           "constant");
  }
  if (input.value->NumElements() != 1) {
    throw InvalidArgumentError(what + " (input " + std::to_string(index) +
                               ") must hold one value, it is " +
                               Describe(input));
  }
  return input.dtype == DataType::kFloat32
             ? input.value->data<float>()[0]
             : static_cast<double>(input.value->data<int64_t>()[0]);
}

void CheckOutputDims(const std::string& op, const std::vector<int64_t>& dims,
                     const std::vector<int64_t>& reference_dims) {
  if (dims != reference_dims) {
    throw InvalidArgumentError(op + " computes " + ShapeToString(dims) +
                               ", the reference " +
                               ShapeToString(reference_dims));
  }
}

void LogReferenceFallback(const std::string& label, const std::string& op,
                          const UnsupportedError& refusal) {
  Logger().debug("node '{}' ({}) runs the reference kernel: {}", label, op,
                 refusal.message());
}

void ApplyActivationInPlace(const ops::Activation& act, float* y, int64_t n,
                            int threads) {
  if (act.kind == ops::Activation::Kind::kNone) return;
  ParallelFor(n, threads, 1 << 14, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i)
      y[i] = ops::ApplyActivation(act, y[i]);
  });
}

// ------------------------------------------------------ registry

std::unique_ptr<Kernel> CreateKernel(const KernelBuildContext& ctx) {
  const graph::Node& node = ctx.node();
  if (!graph::IsDefaultDomain(node.domain())) {
    ctx.Unsupported("domain '" + node.domain() +
                    "' is not supported by the foldrt runtime");
  }
  const OpRegistration* op = OpRegistry::Get().Find(node.op_type());
  if (op == nullptr || op->kernels.empty()) {
    std::string supported;
    for (const std::string& type : SupportedOps()) {
      supported += (supported.empty() ? "" : ", ") + type;
    }
    ctx.Unsupported("op " + node.op_type() +
                    " is not supported by the foldrt runtime (it runs " +
                    supported + ")");
  }
  if (ctx.opset() < op->min_opset || ctx.opset() > op->max_opset) {
    ctx.Unsupported("opset " + std::to_string(ctx.opset()) + " " +
                    node.op_type() + " is not supported (foldrt runs opsets " +
                    std::to_string(op->min_opset) + " to " +
                    std::to_string(op->max_opset) + ")");
  }
  try {
    for (const KernelImplementation& implementation : op->kernels) {
      std::unique_ptr<Kernel> kernel = implementation.factory(ctx);
      if (kernel != nullptr) return kernel;
    }
  } catch (const Error& e) {
    // Errors from shared helpers (attribute readers, ops constructors) carry
    // no node; give them this one, keeping the error's type.
    if (!e.context().node.empty()) throw;
    RethrowWithContext(e, graph::NodeErrorContext(node));
  }
  ctx.Unsupported("no implementation of " + node.op_type() +
                  " accepts this node");
}

std::vector<std::string> SupportedOps() {
  std::vector<std::string> ops;
  const OpRegistry& registry = OpRegistry::Get();
  for (const std::string& type : registry.OpTypes()) {
    if (!registry.Find(type)->kernels.empty()) ops.push_back(type);
  }
  return ops;
}

bool KernelFusesActivation(const std::string& op_type,
                           ops::Activation::Kind kind) {
  const OpRegistration* op = OpRegistry::Get().Find(op_type);
  return op != nullptr && op->fuses_activation != nullptr &&
         op->fuses_activation(kind);
}

bool FusibleActivation(const graph::Node& node, int64_t opset,
                       const std::vector<const Tensor*>& constants,
                       ops::Activation* activation) {
  if (!graph::IsDefaultDomain(node.domain())) return false;
  if (node.op_type() == "Relu") {
    *activation = ops::Activation::Relu();
    return true;
  }
  if (node.op_type() == "Sigmoid") {
    *activation = ops::Activation::Sigmoid();
    return true;
  }
  if (node.op_type() != "Clip") return false;
  float min = -std::numeric_limits<float>::infinity();
  float max = std::numeric_limits<float>::infinity();
  if (opset < 11) {
    min = node.GetFloat("min", std::numeric_limits<float>::lowest());
    max = node.GetFloat("max", std::numeric_limits<float>::max());
  } else {
    for (size_t i = 1; i <= 2; ++i) {
      if (!node.has_input(i)) continue;
      const Tensor* bound = i < constants.size() ? constants[i] : nullptr;
      if (bound == nullptr || bound->dtype() != DataType::kFloat32 ||
          bound->NumElements() != 1) {
        return false;
      }
      (i == 1 ? min : max) = bound->data<float>()[0];
    }
  }
  if (!(min <= max)) return false;  // the Clip kernel reports it
  *activation = ops::Activation::Clip(min, max);
  return true;
}

}  // namespace foldrt::runtime
