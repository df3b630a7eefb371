#include "tools/foldrt/model_summary.h"

#include <string>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "core/error.h"
#include "graph/onnx_io.h"
#include "graph/passes/batch_norm_fold.h"

namespace foldrt {

namespace {

using graph::BatchNormFoldRecord;
using graph::DataType;
using graph::Dim;
using graph::Graph;
using graph::Node;
using graph::Tensor;
using graph::ValueInfo;

// Symbols ONNX shape inference makes up for dimensions it cannot name.
constexpr char kGeneratedSymbolPrefix[] = "unk__";

using ValueInfoMap = std::unordered_map<std::string, ValueInfo>;

// What the file itself declares, for when shape inference cannot run.
ValueInfoMap DeclaredValueInfo(const Graph& graph) {
  ValueInfoMap infos;
  for (const auto* list :
       {&graph.inputs(), &graph.outputs(), &graph.value_info()}) {
    for (const ValueInfo& info : *list) infos.insert_or_assign(info.name, info);
  }
  return infos;
}

ValueSummary SummarizeValue(const std::string& name,
                            const ValueInfoMap& infos) {
  ValueSummary value;
  value.name = name;
  const auto found = infos.find(name);
  if (found != infos.end() && found->second.has_tensor_type) {
    value.dtype = found->second.dtype;
    value.shape = found->second.shape;
  }
  return value;
}

// ----------------------------------------------------------- parameters

bool IsFloatingPoint(DataType dtype) {
  return dtype == DataType::kFloat || dtype == DataType::kFloat16 ||
         dtype == DataType::kBfloat16 || dtype == DataType::kDouble;
}

bool IsDefaultDomainOp(const Node& node, const char* op) {
  return graph::IsDefaultDomain(node.domain()) && node.op_type() == op;
}

// Float inputs that ONNX defines as the operator's settings, not weights
// (resize factors and regions of interest).
bool IsSettingInput(const Node& node, size_t index) {
  if (IsDefaultDomainOp(node, "Resize")) return index == 1 || index == 2;
  if (IsDefaultDomainOp(node, "Upsample")) return index == 1;
  return false;
}

// BatchNormalization's running mean and variance: statistics gathered
// during training, not trained by the optimizer.
bool IsNonTrainableInput(const Node& node, size_t index) {
  return IsDefaultDomainOp(node, "BatchNormalization") &&
         (index == 3 || index == 4);
}

// An Identity or Constant whose output is a constant: its readers see
// through it (Graph::GetConstant), so the tensor is counted there.
bool IsConstantView(const Graph& graph, const Node& node) {
  return (IsDefaultDomainOp(node, "Identity") ||
          IsDefaultDomainOp(node, "Constant")) &&
         node.num_outputs() == 1 &&
         graph.GetConstant(node.output(0)) != nullptr;
}

// Counts each parameter tensor once, at the first node (in the order Count
// is called) that reads it.
class ParameterCounter {
 public:
  // Adds the parameters `node` of `graph` reads, its subgraphs' included,
  // that no earlier node read.
  void Count(const Graph& graph, const Node& node, LayerSummary* layer) {
    if (IsConstantView(graph, node)) return;
    for (size_t i = 0; i < node.num_inputs(); ++i) {
      if (node.has_input(i) && !IsSettingInput(node, i)) {
        CountTensor(graph.GetConstant(node.input(i)),
                    IsNonTrainableInput(node, i), layer);
      }
    }
    // Constants of this graph read inside an If/Loop/Scan body.
    for (const std::string& value : node.implicit_inputs()) {
      CountTensor(graph.GetConstant(value), false, layer);
    }
    for (const graph::Attribute& attribute : node.attributes()) {
      if (attribute.type() == graph::AttributeType::kGraph) {
        CountSubgraph(attribute.g(), layer);
      } else if (attribute.type() == graph::AttributeType::kGraphs) {
        for (const Graph& subgraph : attribute.graphs()) {
          CountSubgraph(subgraph, layer);
        }
      }
    }
  }

 private:
  void CountSubgraph(const Graph& subgraph, LayerSummary* layer) {
    for (const Node* node : subgraph.TopologicalOrder()) {
      Count(subgraph, *node, layer);
    }
  }

  void CountTensor(const Tensor* tensor, bool non_trainable,
                   LayerSummary* layer) {
    // A rank-0 float is a literal of the exported code (x + 3, Clip's
    // bounds, a Pad value), not a weight.
    if (tensor == nullptr || !IsFloatingPoint(tensor->dtype()) ||
        tensor->dims().empty() || !counted_.insert(tensor).second) {
      return;
    }
    (non_trainable ? layer->non_trainable_params : layer->trainable_params) +=
        tensor->NumElements();
  }

  std::unordered_set<const Tensor*> counted_;
};

// -------------------------------------------------------- batch norms

struct BatchNormNode {
  const Node* node = nullptr;
  const Graph* owner = nullptr;
  bool in_subgraph = false;
};

// Every BatchNormalization of `graph` and its subgraphs, by output value
// (which is how the fold report names a BN that has no name).
void CollectBatchNorms(const Graph& graph, bool in_subgraph,
                       std::unordered_map<std::string, BatchNormNode>* found) {
  for (const Node* node : graph.nodes()) {
    if (IsDefaultDomainOp(*node, "BatchNormalization") &&
        node->num_outputs() >= 1) {
      found->emplace(node->output(0), BatchNormNode{node, &graph, in_subgraph});
    }
    for (const graph::Attribute& attribute : node->attributes()) {
      if (attribute.type() == graph::AttributeType::kGraph) {
        CollectBatchNorms(attribute.g(), true, found);
      } else if (attribute.type() == graph::AttributeType::kGraphs) {
        for (const Graph& subgraph : attribute.graphs()) {
          CollectBatchNorms(subgraph, true, found);
        }
      }
    }
  }
}

BatchNormSummary SummarizeBatchNorm(
    const BatchNormFoldRecord& record,
    const std::unordered_map<std::string, BatchNormNode>& nodes,
    const ValueInfoMap& infos) {
  BatchNormSummary summary;
  summary.fold = record;
  summary.channels = record.channels;
  const auto found = nodes.find(record.output);
  if (found == nodes.end()) return summary;
  const Node& node = *found->second.node;
  summary.in_subgraph = found->second.in_subgraph;
  summary.epsilon = node.GetFloat("epsilon", summary.epsilon);
  if (!summary.in_subgraph && node.has_input(0)) {
    summary.input_shape = SummarizeValue(node.input(0), infos).shape;
  }
  // The fold report leaves channels at 0 when it could not prove them;
  // the scale's length or the input's axis 1 may still tell.
  if (summary.channels == 0 && node.has_input(1)) {
    const Tensor* scale = found->second.owner->GetConstant(node.input(1));
    if (scale != nullptr && scale->dims().size() == 1) {
      summary.channels = scale->dims()[0];
    }
  }
  if (summary.channels == 0 && summary.input_shape &&
      summary.input_shape->size() > kBatchNormChannelAxis) {
    const Dim& axis = (*summary.input_shape)[kBatchNormChannelAxis];
    if (axis.kind == Dim::Kind::kKnown) summary.channels = axis.value;
  }
  return summary;
}

}  // namespace

bool IsUnknownDim(const Dim& dim) {
  return dim.kind == Dim::Kind::kUnknown ||
         (dim.kind == Dim::Kind::kSymbolic &&
          dim.symbol.rfind(kGeneratedSymbolPrefix, 0) == 0);
}

ModelSummary SummarizeModel(const graph::Model& model) {
  ModelSummary summary;
  summary.file = model.source;
  summary.ir_version = model.ir_version;
  summary.opsets = model.opset_imports;
  summary.producer_name = model.producer_name;
  summary.producer_version = model.producer_version;
  const Graph& graph = model.graph;

  ValueInfoMap infos;
  try {
    infos = graph::InferShapes(model);
  } catch (const Error& error) {
    // The summary is still worth having with the shapes the file declares.
    summary.shape_inference_error = error.message();
    infos = DeclaredValueInfo(graph);
  }
  for (const ValueInfo& input : graph.inputs()) {
    summary.inputs.push_back(SummarizeValue(input.name, infos));
  }
  for (const ValueInfo& output : graph.outputs()) {
    summary.outputs.push_back(SummarizeValue(output.name, infos));
  }

  ParameterCounter counter;
  for (const Node* node : graph.TopologicalOrder()) {
    LayerSummary layer;
    layer.name = node->Label();
    layer.op = node->op_type();
    layer.domain =
        graph::IsDefaultDomain(node->domain()) ? "ai.onnx" : node->domain();
    for (const std::string& output : node->outputs()) {
      if (!output.empty())
        layer.outputs.push_back(SummarizeValue(output, infos));
    }
    counter.Count(graph, *node, &layer);
    summary.trainable_params += layer.trainable_params;
    summary.non_trainable_params += layer.non_trainable_params;
    summary.layers.push_back(std::move(layer));
  }

  // What `foldrt fold` (default options) would do, on a copy: the passes
  // edit the model they are given.
  graph::Model scratch = model;
  const graph::FoldReport report = graph::FoldBatchNormalization(scratch);
  std::unordered_map<std::string, BatchNormNode> nodes;
  CollectBatchNorms(graph, false, &nodes);
  for (const BatchNormFoldRecord& record : report.batch_norms) {
    summary.batch_norms.push_back(SummarizeBatchNorm(record, nodes, infos));
  }
  return summary;
}

}  // namespace foldrt
