#include "graph/passes/fold_util.h"

#include <algorithm>
#include <cmath>
#include <unordered_set>
#include <utility>

#include "core/error.h"
#include "graph/passes/fold_refusals.h"

namespace foldrt::graph {
namespace {

constexpr const char* kParamNames[] = {"", "scale", "B", "input_mean",
                                       "input_var"};

// Where a non-constant value comes from, for messages.
std::string SourceOf(const Graph& graph, const std::string& value) {
  if (const Node* producer = graph.Producer(value)) {
    return "computed by " + Describe(*producer);
  }
  if (graph.IsGraphInput(value)) return "a graph input";
  return "not defined in this graph";
}

bool ValueIsRead(const Graph& graph, const std::string& value) {
  return !value.empty() &&
         (!graph.Uses(value).empty() || graph.IsGraphOutput(value));
}

std::optional<size_t> KnownRankAtDepth(const Graph& graph,
                                       const std::string& value, int depth) {
  if (depth > 64) return std::nullopt;
  if (const Tensor* constant = graph.GetConstant(value)) {
    return constant->dims().size();
  }
  if (const ValueInfo* info = graph.FindValueInfo(value)) {
    if (info->has_tensor_type && info->shape) return info->shape->size();
  }
  const Node* producer = graph.Producer(value);
  // The rules below describe an op's first output only.
  if (producer == nullptr || !IsDefaultDomain(producer->domain()) ||
      producer->output(0) != value || !producer->has_input(0)) {
    return std::nullopt;
  }
  const std::string& op = producer->op_type();
  auto rank_of_input = [&](size_t index) -> std::optional<size_t> {
    if (!producer->has_input(index)) return std::nullopt;
    return KnownRankAtDepth(graph, producer->input(index), depth + 1);
  };
  if (op == "Gemm" || op == "Flatten") return 2;
  if (op == "MatMul") {
    const auto a = rank_of_input(0);
    const auto b = rank_of_input(1);
    if (!a || !b || *a == 0 || *b == 0) return std::nullopt;
    if (*a == 1 && *b == 1) return 0;
    if (*a == 1) return *b - 1;
    if (*b == 1) return *a - 1;
    return std::max(*a, *b);
  }
  if (op == "Add" || op == "Sub" || op == "Mul" || op == "Div") {
    const auto a = rank_of_input(0);
    const auto b = rank_of_input(1);
    if (!a || !b) return std::nullopt;
    return std::max(*a, *b);
  }
  // Ops whose first output has the rank of their first input.
  // clang-format off
  static const std::unordered_set<std::string> kSameRank = {
      "Identity", "BatchNormalization", "Conv", "ConvTranspose", "Dropout",
      "Transpose", "Relu", "LeakyRelu", "PRelu", "Clip", "Sigmoid",
      "HardSigmoid", "HardSwish", "Tanh", "Elu", "Selu", "Celu", "Softplus",
      "Softsign", "Gelu", "Mish", "ThresholdedRelu", "Neg", "Abs", "Exp",
      "Log", "Sqrt", "Erf", "Cast"};
  // clang-format on
  if (kSameRank.count(op) != 0) return rank_of_input(0);
  return std::nullopt;
}

// Keeps declared shapes of an initializer whose dims a fold changed (a
// Gemm C broadcast to (N)) in step with it.
void SetDeclaredShape(Graph& graph, const std::string& name,
                      const std::vector<int64_t>& dims) {
  for (auto* list :
       {graph.mutable_initializer_inputs(), graph.mutable_value_info()}) {
    for (ValueInfo& info : *list) {
      if (info.name != name || !info.has_tensor_type) continue;
      std::vector<Dim> shape;
      for (int64_t dim : dims) shape.push_back(Dim::Known(dim));
      info.shape = std::move(shape);
    }
  }
}

// Old exporters (and IR version 3) list every initializer as a graph input;
// new initializers of such a graph follow suit.
bool ListsEveryInitializer(const Graph& graph) {
  return !graph.initializer_inputs().empty() &&
         graph.initializer_inputs().size() == graph.num_initializers();
}

std::string AddListedFloatInitializer(Graph& graph, const std::string& base,
                                      std::vector<int64_t> dims,
                                      const std::vector<float>& values,
                                      bool listed) {
  const std::string name = graph.UniqueValueName(base);
  if (listed) {
    std::vector<Dim> shape;
    for (int64_t dim : dims) shape.push_back(Dim::Known(dim));
    graph.mutable_initializer_inputs()->push_back(
        ValueInfo::ForTensor(name, DataType::kFloat, std::move(shape)));
  }
  graph.AddInitializer(Tensor::FromFloats(name, std::move(dims), values));
  return name;
}

bool IsListedInitializer(const Graph& graph, const std::string& name) {
  const auto& listed = graph.initializer_inputs();
  return std::any_of(listed.begin(), listed.end(),
                     [&](const ValueInfo& info) { return info.name == name; });
}

}  // namespace

std::string Describe(const Node& node) {
  return node.op_type() + " '" + node.Label() + "'";
}

bool IsActivationOp(const Node& node) {
  static const std::unordered_set<std::string> kActivations = {
      "Relu",     "LeakyRelu",   "PRelu",     "Clip",
      "Sigmoid",  "HardSigmoid", "HardSwish", "Tanh",
      "Elu",      "Selu",        "Celu",      "Softplus",
      "Softsign", "Gelu",        "Mish",      "ThresholdedRelu"};
  return IsDefaultDomain(node.domain()) &&
         kActivations.count(node.op_type()) != 0;
}

bool OnlyReadBy(const Graph& graph, const std::string& value,
                const Node* reader, size_t index) {
  const std::vector<Use>& uses = graph.Uses(value);
  return uses.size() == 1 && uses[0].node == reader &&
         uses[0].input_index == static_cast<int>(index) &&
         !graph.IsGraphOutput(value);
}

FoldDecision AnalyzeBatchNorm(const Graph& graph, Node* bn, int64_t opset,
                              FoldableBatchNorm* out) {
  out->node = bn;
  out->input = bn->num_inputs() > 0 ? bn->input(0) : std::string();
  out->output = bn->num_outputs() > 0 ? bn->output(0) : std::string();
  if (bn->num_inputs() != 5 || out->output.empty()) {
    return FoldDecision::Refused(
        FoldReason::kShapeMismatch,
        "BatchNormalization needs X, scale, B, mean, var and an output Y");
  }
  for (size_t i = 0; i < 5; ++i) {
    if (!bn->has_input(i)) {
      return FoldDecision::Refused(
          FoldReason::kShapeMismatch,
          "BatchNormalization input " + std::to_string(i) + " is missing");
    }
  }

  // Opset 7 (and older) normalized per activation when spatial=0; later
  // opsets dropped the attribute, so it only ever matters when it is 0.
  if (const Attribute* spatial = bn->FindAttribute("spatial")) {
    if (spatial->type() == AttributeType::kInt && spatial->i() == 0) {
      return FoldDecision::Refused(
          FoldReason::kSpatialZero,
          "spatial=0 (opset " + std::to_string(opset) +
              "): statistics are per activation, not per channel, so no "
              "weight can absorb them");
    }
  }

  // Y is the only output an inference fold can provide. Opset 14+ writes
  // running mean/var as outputs 1-2 when training_mode=1; opsets 7-9 have
  // four optional statistic outputs. Unread ones do not matter; like ONNX
  // Runtime's inference build, the BN then normalizes with the running
  // statistics.
  for (size_t i = 1; i < bn->num_outputs(); ++i) {
    if (ValueIsRead(graph, bn->output(i))) {
      return FoldDecision::Refused(FoldReason::kTrainingOutputsUsed,
                                   "training-mode output " + std::to_string(i) +
                                       " '" + bn->output(i) +
                                       "' is read; folding would drop it");
    }
  }
  const bool training_mode = opset >= 14 && bn->GetInt("training_mode", 0) != 0;
  if (training_mode) {
    out->note =
        "training_mode=1 with unread statistic outputs: folded with the "
        "running statistics (inference semantics)";
  } else if (bn->num_outputs() > 1) {
    out->note = "unread statistic outputs dropped";
  }

  const Tensor* params[5] = {};
  for (size_t i = 1; i < 5; ++i) {
    params[i] = graph.GetConstant(bn->input(i));
    if (params[i] == nullptr) {
      return FoldDecision::Refused(FoldReason::kParamsNotConstant,
                                   std::string(kParamNames[i]) + " '" +
                                       bn->input(i) + "' is " +
                                       SourceOf(graph, bn->input(i)));
    }
  }
  for (size_t i = 1; i < 5; ++i) {
    if (params[i]->dtype() != DataType::kFloat) {
      return FoldDecision::Refused(FoldReason::kUnsupportedType,
                                   std::string(kParamNames[i]) + " '" +
                                       bn->input(i) + "' is " +
                                       DataTypeName(params[i]->dtype()) +
                                       "; foldrt folds FLOAT parameters only");
    }
  }
  const int64_t channels =
      params[1]->dims().size() == 1 ? params[1]->dims()[0] : -1;
  for (size_t i = 1; i < 5; ++i) {
    if (params[i]->dims().size() != 1 || params[i]->dims()[0] != channels ||
        channels <= 0) {
      return FoldDecision::Refused(
          FoldReason::kShapeMismatch,
          "BN parameters must be 1-D of one non-zero length; " +
              std::string(kParamNames[i]) + " '" + bn->input(i) + "' has " +
              std::to_string(params[i]->dims().size()) + " dimension(s)" +
              (params[i]->dims().size() == 1
                   ? " of length " + std::to_string(params[i]->dims()[0])
                   : std::string()));
    }
  }
  out->channels = channels;

  const float epsilon = bn->GetFloat("epsilon", kDefaultBatchNormEpsilon);
  const std::vector<float> gamma = params[1]->ToFloats();
  const std::vector<float> beta = params[2]->ToFloats();
  const std::vector<float> mean = params[3]->ToFloats();
  const std::vector<float> var = params[4]->ToFloats();
  try {
    out->affine = ComputeBatchNormAffineF64(
        gamma.data(), beta.data(), mean.data(), var.data(),
        static_cast<size_t>(channels), epsilon);
  } catch (const InvalidArgumentError& e) {
    return FoldDecision::Refused(FoldReason::kInvalidStatistics, e.message());
  }
  return FoldDecision::Folded();
}

FoldDecision CheckFloatConstantInput(const Graph& graph, const Node& node,
                                     size_t index, const std::string& what) {
  if (!node.has_input(index)) {
    return FoldDecision::Refused(FoldReason::kWeightsNotConstant,
                                 Describe(node) + " has no " + what);
  }
  const std::string& value = node.input(index);
  const Tensor* tensor = graph.GetConstant(value);
  if (tensor == nullptr) {
    return FoldDecision::Refused(
        FoldReason::kWeightsNotConstant,
        DescribeInput(node, index, what) + " is " + SourceOf(graph, value));
  }
  if (tensor->dtype() != DataType::kFloat) {
    return FoldDecision::Refused(FoldReason::kUnsupportedType,
                                 DescribeInput(node, index, what) + " is " +
                                     DataTypeName(tensor->dtype()) +
                                     "; foldrt folds FLOAT only");
  }
  return FoldDecision::Folded();
}

FoldDecision CheckConstantWeightAndBias(const Graph& graph, const Node& node,
                                        const std::string& weight,
                                        const std::string& bias) {
  FoldDecision check = CheckFloatConstantInput(graph, node, 1, weight);
  if (check.folded() && node.has_input(2)) {
    check = CheckFloatConstantInput(graph, node, 2, bias);
  }
  return check;
}

std::string AddFloatInitializer(Graph& graph, const std::string& base,
                                std::vector<int64_t> dims,
                                const std::vector<float>& values) {
  return AddListedFloatInitializer(graph, base, std::move(dims), values,
                                   ListsEveryInitializer(graph));
}

void ReplaceConstantInput(Graph& graph, Node* node, size_t index,
                          std::vector<int64_t> dims,
                          const std::vector<float>& values,
                          FoldEditCounts* counts) {
  const std::string value = node->input(index);
  Tensor* initializer = graph.MutableInitializer(value);
  if (initializer != nullptr && OnlyReadBy(graph, value, node, index)) {
    SetDeclaredShape(graph, value, dims);
    initializer->SetFloats(std::move(dims), values);
    return;
  }
  // Someone else reads the old constant (or it sits behind Identity /
  // Constant nodes): it must keep its value, so this node gets a copy.
  const Tensor* source = graph.GetConstant(value);
  const bool listed =
      ListsEveryInitializer(graph) || IsListedInitializer(graph, value) ||
      (source != nullptr && IsListedInitializer(graph, source->name()));
  const std::string name = AddListedFloatInitializer(
      graph, value + "_folded", std::move(dims), values, listed);
  node->SetInput(index, name);
  ++counts->weights_copied;
}

std::vector<float> RoundToFloat(const std::vector<double>& values) {
  std::vector<float> rounded(values.size());
  for (size_t i = 0; i < values.size(); ++i) {
    rounded[i] = static_cast<float>(values[i]);
  }
  return rounded;
}

std::optional<size_t> KnownRank(const Graph& graph, const std::string& value) {
  return KnownRankAtDepth(graph, value, 0);
}

void RemoveBatchNormAfter(Graph& graph, const FoldableBatchNorm& bn,
                          Node* producer, size_t producer_output) {
  graph.RemoveNode(bn.node);
  producer->SetOutput(producer_output, bn.output);
}

void RemoveBatchNormBefore(Graph& graph, const FoldableBatchNorm& bn,
                           Node* consumer) {
  const std::string input = bn.input;
  graph.RemoveNode(bn.node);
  consumer->SetInput(0, input);
}

void SetBiasInput(Graph& graph, Node* node, std::vector<int64_t> dims,
                  const std::vector<float>& values, FoldEditCounts* counts) {
  if (node->has_input(2)) {
    ReplaceConstantInput(graph, node, 2, std::move(dims), values, counts);
    return;
  }
  const std::string name = AddFloatInitializer(graph, node->input(1) + "_bias",
                                               std::move(dims), values);
  std::vector<std::string> inputs = node->inputs();
  inputs.resize(3);
  inputs[2] = name;
  node->SetInputs(std::move(inputs));
}

std::string BiasAddName(const Graph& graph, const Node& matmul,
                        const std::string& output) {
  return graph.UniqueNodeName((matmul.name().empty() ? output : matmul.name()) +
                              "/bn_bias_add");
}

}  // namespace foldrt::graph
