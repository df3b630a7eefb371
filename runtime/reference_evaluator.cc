// The reference evaluator's driver: checks the fed inputs against the
// graph's declarations, runs each node's reference (registered per op family
// in runtime/reference/) in topological order and collects the outputs.
#include "runtime/reference_evaluator.h"

#include <cstddef>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "core/error.h"
#include "core/tensor.h"
#include "runtime/op_registry.h"
#include "runtime/reference/reference_ops.h"

namespace foldrt::runtime {

using graph::Node;

namespace {

using reference::Describe;
using reference::FromGraphConstant;
using reference::NodeContext;

void EvaluateNode(const NodeContext& ctx) {
  const Node& node = ctx.node();
  if (!graph::IsDefaultDomain(node.domain())) {
    ctx.Unsupported("domain '" + node.domain() +
                    "' is not supported by the reference evaluator");
  }
  const OpRegistration* op = OpRegistry::Get().Find(node.op_type());
  if (op == nullptr || op->reference == nullptr) {
    std::string supported;
    for (const std::string& name : ReferenceEvaluatorOps()) {
      supported += (supported.empty() ? "" : ", ") + name;
    }
    ctx.Unsupported("op " + node.op_type() +
                    " is not implemented by the reference evaluator "
                    "(it implements " +
                    supported + ")");
  }
  try {
    op->reference(ctx);
  } catch (const Error& e) {
    // Raised below the node (ops/ref, the BN math, an attribute getter):
    // the same error type, naming the node, unless it names one already.
    if (!e.context().node.empty()) throw;
    RethrowWithContext(e, ctx.error_context());
  }
}

// Checks a fed input against the graph's declaration of it; `symbols`
// collects the values symbolic dims take.
void CheckInput(const graph::ValueInfo& info, const Tensor& tensor,
                const std::string& file,
                std::map<std::string, int64_t>* symbols) {
  const std::string what = "input '" + info.name + "'";
  const ErrorContext context{file, "", ""};
  // foldrt::Tensor holds its shape's elements by construction: only the
  // declaration is left to check.
  if (!info.has_tensor_type) return;
  const graph::DataType fed = tensor.dtype() == DataType::kFloat32
                                  ? graph::DataType::kFloat
                                  : graph::DataType::kInt64;
  if (info.dtype != fed) {
    throw InvalidArgumentError(what + " is " + Describe(tensor) +
                                   ", the graph declares element type " +
                                   graph::DataTypeName(info.dtype),
                               context);
  }
  if (!info.shape) return;
  const std::vector<graph::Dim>& dims = *info.shape;
  bool fits = dims.size() == tensor.rank();
  for (size_t i = 0; fits && i < dims.size(); ++i) {
    const int64_t actual = tensor.shape()[i];
    if (dims[i].kind == graph::Dim::Kind::kKnown) {
      fits = dims[i].value == actual;
    } else if (dims[i].kind == graph::Dim::Kind::kSymbolic) {
      const auto [it, inserted] = symbols->emplace(dims[i].symbol, actual);
      fits = inserted || it->second == actual;
    }
  }
  if (!fits) {
    std::string declared = "(";
    for (size_t i = 0; i < dims.size(); ++i) {
      if (i) declared += ", ";
      switch (dims[i].kind) {
        case graph::Dim::Kind::kKnown:
          declared += std::to_string(dims[i].value);
          break;
        case graph::Dim::Kind::kSymbolic:
          declared += dims[i].symbol;
          break;
        case graph::Dim::Kind::kUnknown:
          declared += "?";
          break;
      }
    }
    throw InvalidArgumentError(
        what + " has shape " + ShapeToString(tensor.shape()) +
            ", the graph declares " + declared +
            ") (a symbolic dim takes one value across all inputs)",
        context);
  }
}

std::map<std::string, Tensor> Evaluate(
    const graph::Graph& graph, int64_t opset,
    const std::map<std::string, Tensor>& inputs, const std::string& file) {
  const ErrorContext context{file, "", ""};
  std::map<std::string, Tensor> values;
  std::map<std::string, int64_t> symbols;
  for (const graph::ValueInfo& info : graph.inputs()) {
    const auto it = inputs.find(info.name);
    if (it == inputs.end()) {
      throw InvalidArgumentError("graph input '" + info.name + "' is not fed",
                                 context);
    }
    CheckInput(info, it->second, file, &symbols);
    values.emplace(info.name, it->second);
  }
  for (const auto& [name, tensor] : inputs) {
    if (values.count(name) == 0) {
      std::string names;
      for (const graph::ValueInfo& info : graph.inputs()) {
        names += (names.empty() ? "'" : ", '") + info.name + "'";
      }
      throw InvalidArgumentError("'" + name +
                                     "' is not an input of the graph (its "
                                     "inputs: " +
                                     names + ")",
                                 context);
    }
  }
  for (const Node* node : graph.TopologicalOrder()) {
    EvaluateNode(NodeContext(graph, *node, opset, file, &values));
  }
  std::map<std::string, Tensor> outputs;
  for (const graph::ValueInfo& info : graph.outputs()) {
    auto it = values.find(info.name);
    if (it != values.end()) {
      // A fed input passed through (Identity) may be the caller's view:
      // the outputs own their elements.
      outputs[info.name] =
          it->second.owns_data() ? it->second : it->second.Clone();
      continue;
    }
    const graph::Tensor* initializer = graph.FindInitializer(info.name);
    if (initializer == nullptr) {
      throw InvalidArgumentError(
          "graph output '" + info.name + "' was not computed", context);
    }
    outputs[info.name] = FromGraphConstant(*initializer, info.name);
  }
  return outputs;
}

}  // namespace

const std::vector<std::string>& ReferenceEvaluatorOps() {
  static const auto* const ops = [] {
    auto* names = new std::vector<std::string>;
    const OpRegistry& registry = OpRegistry::Get();
    for (const std::string& type : registry.OpTypes()) {
      if (registry.Find(type)->reference != nullptr) names->push_back(type);
    }
    return names;
  }();
  return *ops;
}

std::map<std::string, Tensor> EvaluateReference(
    const graph::Graph& graph, int64_t opset,
    const std::map<std::string, Tensor>& inputs) {
  return Evaluate(graph, opset, inputs, /*file=*/"");
}

std::map<std::string, Tensor> EvaluateReference(
    const graph::Model& model, const std::map<std::string, Tensor>& inputs) {
  const int64_t opset = graph::OpsetVersion(model, "");
  if (opset == 0) {
    throw UnsupportedError("the model imports no default-domain opset",
                           ErrorContext{model.source, "", ""});
  }
  return Evaluate(model.graph, opset, inputs, model.source);
}

}  // namespace foldrt::runtime
