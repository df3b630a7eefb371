#include "tools/foldrt/inspect_command.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "graph/graph.h"
#include "graph/json_writer.h"
#include "graph/onnx_io.h"
#include "graph/passes/batch_norm_fold.h"
#include "graph/passes/fold_report.h"
#include "graph/tensor.h"
#include "core/batch_norm_affine.h"
#include "core/error.h"
#include "tools/foldrt/fold_command.h"

namespace foldrt {

const char kInspectUsage[] =
    "foldrt inspect MODEL.onnx [--json]\n"
    "  prints every node with its output shapes (ONNX shape inference) and\n"
    "  parameter count, the total / trainable / non-trainable parameters,\n"
    "  and for every BatchNormalization its epsilon, channel axis and what\n"
    "  `foldrt fold` would do with it. Parameters are the constant float\n"
    "  inputs of a node (a shared one counted once, at its first reader);\n"
    "  scalars (Clip bounds, x + 3) are literals, not parameters; BN running\n"
    "  mean and variance are the non-trainable ones\n"
    "  --json               print the summary as JSON\n";

namespace {

using graph::BatchNormFate;
using graph::BatchNormFoldRecord;
using graph::DataType;
using graph::Dim;
using graph::FoldDecision;
using graph::Graph;
using graph::JsonQuote;
using graph::Node;
using graph::Tensor;
using graph::ValueInfo;

// Symbols ONNX shape inference makes up for dimensions it cannot name; they
// say no more than an unknown dimension, so they are shown as one.
constexpr char kGeneratedSymbolPrefix[] = "unk__";

// The channel axis BatchNormalization normalizes over, in every opset.
constexpr int kBatchNormChannelAxis = 1;

using Shape = std::optional<std::vector<Dim>>;

struct InspectArgs {
  std::string model;
  bool json = false;
};

struct ValueSummary {
  std::string name;
  DataType dtype = DataType::kUndefined;
  Shape shape;  // nullopt: not even the rank is known
};

struct LayerSummary {
  std::string name;
  std::string op;
  std::string domain;  // "ai.onnx" for the default domain
  std::vector<ValueSummary> outputs;
  int64_t trainable_params = 0;
  int64_t non_trainable_params = 0;
};

struct BatchNormSummary {
  BatchNormFoldRecord fold;
  bool in_subgraph = false;
  float epsilon = kDefaultBatchNormEpsilon;
  int64_t channels = 0;  // 0 when unknown
  Shape input_shape;
};

struct ModelSummary {
  std::string file;
  int64_t ir_version = 0;
  std::vector<graph::OpsetImport> opsets;
  std::string producer_name;
  std::string producer_version;
  std::vector<ValueSummary> inputs;
  std::vector<ValueSummary> outputs;
  // Why the shapes are only the declared ones; empty when inference ran.
  std::string shape_inference_error;
  std::vector<LayerSummary> layers;
  std::vector<BatchNormSummary> batch_norms;
  int64_t trainable_params = 0;
  int64_t non_trainable_params = 0;
};

InspectArgs ParseInspectArgs(const std::vector<std::string>& args) {
  InspectArgs parsed;
  for (const std::string& arg : args) {
    if (arg == "--json") {
      parsed.json = true;
    } else if (!arg.empty() && arg[0] == '-') {
      throw UsageError("unknown option '" + arg + "' for inspect");
    } else if (parsed.model.empty()) {
      parsed.model = arg;
    } else {
      throw UsageError("inspect takes one model, got '" + parsed.model +
                       "' and '" + arg + "'");
    }
  }
  if (parsed.model.empty()) throw UsageError("inspect needs a model");
  return parsed;
}

// --------------------------------------------------------------- shapes

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

bool IsUnknownDim(const Dim& dim) {
  return dim.kind == Dim::Kind::kUnknown ||
         (dim.kind == Dim::Kind::kSymbolic &&
          dim.symbol.rfind(kGeneratedSymbolPrefix, 0) == 0);
}

std::string DimText(const Dim& dim) {
  if (IsUnknownDim(dim)) return "?";
  if (dim.kind == Dim::Kind::kKnown) return std::to_string(dim.value);
  return dim.symbol;
}

// "(N, 64, 56, 56)", "()" for a scalar, "?" when the rank is unknown.
std::string ShapeText(const Shape& shape) {
  if (!shape) return "?";
  std::string text = "(";
  for (size_t i = 0; i < shape->size(); ++i) {
    if (i != 0) text += ", ";
    text += DimText((*shape)[i]);
  }
  return text + ")";
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

// ------------------------------------------------------------ summary

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

// ------------------------------------------------------------- output

// The shortest decimal that reads back as the same float (1e-05, not
// 9.99999975e-06), or "nan" / "inf".
std::string FloatText(float value) {
  if (!std::isfinite(value)) return std::isnan(value) ? "nan" : "inf";
  char text[32];
  for (int precision = 1; precision <= 9; ++precision) {
    std::snprintf(text, sizeof(text), "%.*g", precision, value);
    if (std::strtof(text, nullptr) == value) break;
  }
  return text;
}

// 1234567 -> "1,234,567" (counts are never negative).
std::string GroupedCount(int64_t count) {
  const std::string digits = std::to_string(count);
  std::string text;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i != 0 && (digits.size() - i) % 3 == 0) text += ',';
    text += digits[i];
  }
  return text;
}

std::string OpText(const LayerSummary& layer) {
  return layer.domain == "ai.onnx" ? layer.op : layer.domain + ":" + layer.op;
}

std::string ValueText(const ValueSummary& value) {
  std::string text = value.name + " " + ShapeText(value.shape);
  if (value.dtype != DataType::kUndefined) {
    text += " " + graph::DataTypeName(value.dtype);
  }
  return text;
}

std::string ReasonText(const FoldDecision& decision) {
  return std::string(graph::FoldReasonId(decision.reason)) + ": " +
         decision.detail;
}

// Where the BN goes, or why it stays, in one line.
std::string FateText(const BatchNormFoldRecord& record) {
  std::string text;
  switch (record.fate) {
    case BatchNormFate::kFoldedBackward:
      text =
          "backward into " + record.target_op + " '" + record.target_node + "'";
      break;
    case BatchNormFate::kFoldedForward:
      text = "forward into " + record.target_op + " '" + record.target_node +
             "' (backward: " + graph::FoldReasonId(record.backward.reason) +
             ")";
      break;
    case BatchNormFate::kNotFolded:
      text = "stays: " + ReasonText(record.backward);
      if (record.forward.reason != record.backward.reason ||
          record.forward.detail != record.backward.detail) {
        text += "; forward: " + ReasonText(record.forward);
      }
      break;
  }
  if (!record.note.empty()) text += " [" + record.note + "]";
  return text;
}

// Rows of cells, each column as wide as its widest cell (columns listed in
// `right_aligned` are padded on the left), two spaces between columns and
// one before the first; the last column is not padded.
std::string FormatColumns(const std::vector<std::vector<std::string>>& rows,
                          const std::vector<bool>& right_aligned,
                          std::vector<size_t>* widths) {
  for (const auto& row : rows) {
    for (size_t column = 0; column < row.size(); ++column) {
      (*widths)[column] = std::max((*widths)[column], row[column].size());
    }
  }
  std::string text;
  for (const auto& row : rows) {
    std::string line;
    for (size_t column = 0; column < row.size(); ++column) {
      const std::string& cell = row[column];
      const size_t padding = (*widths)[column] - cell.size();
      line += column == 0 ? " " : "  ";
      if (right_aligned[column]) line.append(padding, ' ');
      line += cell;
      if (!right_aligned[column] && column + 1 < row.size()) {
        line.append(padding, ' ');
      }
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    text += line + "\n";
  }
  return text;
}

std::string FormatSummaryTable(const ModelSummary& summary) {
  std::string out = "Model: " + summary.file + "\n";
  out += "  IR version " + std::to_string(summary.ir_version);
  for (const graph::OpsetImport& opset : summary.opsets) {
    out += ", " +
           (graph::IsDefaultDomain(opset.domain) ? std::string("ai.onnx")
                                                 : opset.domain) +
           " opset " + std::to_string(opset.version);
  }
  if (!summary.producer_name.empty()) {
    out += ", producer " + summary.producer_name;
    if (!summary.producer_version.empty()) {
      out += " " + summary.producer_version;
    }
  }
  out += "\n";
  for (const ValueSummary& input : summary.inputs) {
    out += "  input   " + ValueText(input) + "\n";
  }
  for (const ValueSummary& output : summary.outputs) {
    out += "  output  " + ValueText(output) + "\n";
  }
  if (!summary.shape_inference_error.empty()) {
    out += "  shapes as declared in the file only: " +
           summary.shape_inference_error + "\n";
  }

  // A node with several outputs gets one line per output, its name and
  // parameters on the first.
  std::vector<std::vector<std::string>> rows = {
      {"Layer (op)", "Output shape", "Param #"}};
  for (const LayerSummary& layer : summary.layers) {
    const std::string params =
        GroupedCount(layer.trainable_params + layer.non_trainable_params);
    const std::string name = layer.name + " (" + OpText(layer) + ")";
    if (layer.outputs.empty()) rows.push_back({name, "", params});
    for (size_t i = 0; i < layer.outputs.size(); ++i) {
      rows.push_back({i == 0 ? name : "", ShapeText(layer.outputs[i].shape),
                      i == 0 ? params : ""});
    }
  }
  std::vector<size_t> widths(3, 0);
  const std::string table = FormatColumns(rows, {false, false, true}, &widths);
  const size_t width = 1 + widths[0] + 2 + widths[1] + 2 + widths[2];
  const size_t header_end = table.find('\n') + 1;
  out += std::string(width, '_') + "\n";
  out += table.substr(0, header_end);
  out += std::string(width, '=') + "\n";
  out += table.substr(header_end);
  out += std::string(width, '=') + "\n";
  out += "Total params: " +
         GroupedCount(summary.trainable_params + summary.non_trainable_params) +
         "\n";
  out += "Trainable params: " + GroupedCount(summary.trainable_params) + "\n";
  out += "Non-trainable params: " + GroupedCount(summary.non_trainable_params) +
         "\n";
  out += std::string(width, '_') + "\n";

  size_t backward = 0;
  size_t forward = 0;
  for (const BatchNormSummary& bn : summary.batch_norms) {
    backward += bn.fold.fate == BatchNormFate::kFoldedBackward;
    forward += bn.fold.fate == BatchNormFate::kFoldedForward;
  }
  out += "BatchNormalization: " + std::to_string(summary.batch_norms.size()) +
         " (" + std::to_string(backward) + " fold backward, " +
         std::to_string(forward) + " fold forward, " +
         std::to_string(summary.batch_norms.size() - backward - forward) +
         " stay)\n";
  if (summary.batch_norms.empty()) return out;
  std::vector<std::vector<std::string>> bn_rows = {
      {"Layer", "eps", "Channel axis", "Input shape", "Fold (foldrt fold)"}};
  for (const BatchNormSummary& bn : summary.batch_norms) {
    const std::string channels =
        std::to_string(kBatchNormChannelAxis) + " (C=" +
        (bn.channels > 0 ? std::to_string(bn.channels) : std::string("?")) +
        ")";
    bn_rows.push_back(
        {bn.fold.node + (bn.in_subgraph ? " (in a subgraph)" : ""),
         FloatText(bn.epsilon), channels,
         bn.in_subgraph ? std::string("?") : ShapeText(bn.input_shape),
         FateText(bn.fold)});
  }
  std::vector<size_t> bn_widths(5, 0);
  out +=
      FormatColumns(bn_rows, {false, false, false, false, false}, &bn_widths);
  return out;
}

std::string ShapeJson(const Shape& shape) {
  if (!shape) return "null";
  std::string json = "[";
  for (size_t i = 0; i < shape->size(); ++i) {
    const Dim& dim = (*shape)[i];
    if (i != 0) json += ", ";
    if (IsUnknownDim(dim)) {
      json += "null";
    } else if (dim.kind == Dim::Kind::kKnown) {
      json += std::to_string(dim.value);
    } else {
      json += JsonQuote(dim.symbol);
    }
  }
  return json + "]";
}

std::string ValueJson(const ValueSummary& value) {
  return "{\"name\": " + JsonQuote(value.name) + ", \"dtype\": " +
         (value.dtype == DataType::kUndefined
              ? std::string("null")
              : JsonQuote(graph::DataTypeName(value.dtype))) +
         ", \"shape\": " + ShapeJson(value.shape) + "}";
}

std::string ValueListJson(const std::vector<ValueSummary>& values) {
  std::string json = "[";
  for (size_t i = 0; i < values.size(); ++i) {
    json += (i == 0 ? "" : ", ") + ValueJson(values[i]);
  }
  return json + "]";
}

std::string DecisionJson(const FoldDecision& decision) {
  if (decision.folded()) return "null";
  return "{\"reason\": " + JsonQuote(graph::FoldReasonId(decision.reason)) +
         ", \"detail\": " + JsonQuote(decision.detail) + "}";
}

std::string FloatJson(float value) {
  return std::isfinite(value) ? FloatText(value) : "null";
}

std::string SummaryToJson(const ModelSummary& summary) {
  std::string out = "{\n";
  out += "  \"model\": " + JsonQuote(summary.file) + ",\n";
  out += "  \"ir_version\": " + std::to_string(summary.ir_version) + ",\n";
  out += "  \"opsets\": [";
  for (size_t i = 0; i < summary.opsets.size(); ++i) {
    const graph::OpsetImport& opset = summary.opsets[i];
    out += std::string(i == 0 ? "" : ", ") + "{\"domain\": " +
           JsonQuote(graph::IsDefaultDomain(opset.domain) ? "ai.onnx"
                                                          : opset.domain) +
           ", \"version\": " + std::to_string(opset.version) + "}";
  }
  out += "],\n";
  out += "  \"producer\": {\"name\": " + JsonQuote(summary.producer_name) +
         ", \"version\": " + JsonQuote(summary.producer_version) + "},\n";
  out += "  \"inputs\": " + ValueListJson(summary.inputs) + ",\n";
  out += "  \"outputs\": " + ValueListJson(summary.outputs) + ",\n";
  out += "  \"shape_inference_error\": " +
         (summary.shape_inference_error.empty()
              ? std::string("null")
              : JsonQuote(summary.shape_inference_error)) +
         ",\n";
  out += "  \"layers\": [";
  for (size_t i = 0; i < summary.layers.size(); ++i) {
    const LayerSummary& layer = summary.layers[i];
    out += i == 0 ? "\n" : ",\n";
    out += "    {\"name\": " + JsonQuote(layer.name) +
           ", \"op\": " + JsonQuote(layer.op) +
           ", \"domain\": " + JsonQuote(layer.domain) +
           ", \"outputs\": " + ValueListJson(layer.outputs) + ", \"params\": " +
           std::to_string(layer.trainable_params + layer.non_trainable_params) +
           ", \"trainable_params\": " + std::to_string(layer.trainable_params) +
           ", \"non_trainable_params\": " +
           std::to_string(layer.non_trainable_params) + "}";
  }
  out += summary.layers.empty() ? "],\n" : "\n  ],\n";
  out +=
      "  \"params\": {\"total\": " +
      std::to_string(summary.trainable_params + summary.non_trainable_params) +
      ", \"trainable\": " + std::to_string(summary.trainable_params) +
      ", \"non_trainable\": " + std::to_string(summary.non_trainable_params) +
      "},\n";
  out += "  \"batch_norms\": [";
  for (size_t i = 0; i < summary.batch_norms.size(); ++i) {
    const BatchNormSummary& bn = summary.batch_norms[i];
    const BatchNormFoldRecord& fold = bn.fold;
    const bool folded = fold.fate != BatchNormFate::kNotFolded;
    out += i == 0 ? "\n" : ",\n";
    out += "    {\"node\": " + JsonQuote(fold.node) +
           ", \"output\": " + JsonQuote(fold.output) +
           ", \"in_subgraph\": " + (bn.in_subgraph ? "true" : "false") +
           ", \"epsilon\": " + FloatJson(bn.epsilon) +
           ", \"channel_axis\": " + std::to_string(kBatchNormChannelAxis) +
           ", \"channels\": " +
           (bn.channels > 0 ? std::to_string(bn.channels) : "null") +
           ", \"input_shape\": " + ShapeJson(bn.input_shape) +
           ", \"fold\": " + JsonQuote(graph::FoldCategory(fold)) +
           ", \"target\": " +
           (folded ? "{\"node\": " + JsonQuote(fold.target_node) +
                         ", \"op\": " + JsonQuote(fold.target_op) + "}"
                   : std::string("null")) +
           ", \"backward\": " + DecisionJson(fold.backward) +
           // Forward is only tried when backward was refused.
           ", \"forward\": " +
           (fold.fate == BatchNormFate::kFoldedBackward
                ? std::string("null")
                : DecisionJson(fold.forward)) +
           ", \"note\": " +
           (fold.note.empty() ? std::string("null") : JsonQuote(fold.note)) +
           "}";
  }
  out += summary.batch_norms.empty() ? "]\n" : "\n  ]\n";
  out += "}\n";
  return out;
}

}  // namespace

int RunInspect(const std::vector<std::string>& args) {
  const InspectArgs parsed = ParseInspectArgs(args);
  const graph::Model model = graph::LoadOnnxModel(parsed.model);
  const ModelSummary summary = SummarizeModel(model);
  const std::string text =
      parsed.json ? SummaryToJson(summary) : FormatSummaryTable(summary);
  std::fputs(text.c_str(), stdout);
  return 0;
}

}  // namespace foldrt
