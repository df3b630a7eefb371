// `foldrt inspect`: its options, and the model summary (model_summary.h)
// rendered as a table or as JSON.
#include "tools/foldrt/inspect_command.h"

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "graph/graph.h"
#include "graph/onnx_io.h"
#include "graph/passes/fold_report.h"
#include "graph/passes/fold_report_json.h"
#include "tools/foldrt/cli.h"
#include "tools/foldrt/model_summary.h"

namespace foldrt {

namespace {

using graph::BatchNormFate;
using graph::BatchNormFoldRecord;
using graph::DataType;
using graph::Dim;
using graph::FoldDecision;

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

using Json = nlohmann::ordered_json;

Json ShapeJson(const Shape& shape) {
  if (!shape) return nullptr;
  Json json = Json::array();
  for (const Dim& dim : *shape) {
    if (IsUnknownDim(dim)) {
      json.push_back(nullptr);
    } else if (dim.kind == Dim::Kind::kKnown) {
      json.push_back(dim.value);
    } else {
      json.push_back(dim.symbol);
    }
  }
  return json;
}

Json ValueListJson(const std::vector<ValueSummary>& values) {
  Json json = Json::array();
  for (const ValueSummary& value : values) {
    json.push_back({{"name", value.name},
                    {"dtype", value.dtype == DataType::kUndefined
                                  ? Json(nullptr)
                                  : Json(graph::DataTypeName(value.dtype))},
                    {"shape", ShapeJson(value.shape)}});
  }
  return json;
}

// The shortest decimal that reads back as the float (1e-05 rather than
// the double nearest 1e-5f, 9.99999974737875e-06); null when not finite.
Json FloatJson(float value) {
  if (!std::isfinite(value)) return nullptr;
  return std::strtod(FloatText(value).c_str(), nullptr);
}

Json OptionalString(const std::string& text) {
  return text.empty() ? Json(nullptr) : Json(text);
}

std::string SummaryToJson(const ModelSummary& summary) {
  Json opsets = Json::array();
  for (const graph::OpsetImport& opset : summary.opsets) {
    opsets.push_back(
        {{"domain",
          graph::IsDefaultDomain(opset.domain) ? "ai.onnx" : opset.domain},
         {"version", opset.version}});
  }
  Json layers = Json::array();
  for (const LayerSummary& layer : summary.layers) {
    layers.push_back(
        {{"name", layer.name},
         {"op", layer.op},
         {"domain", layer.domain},
         {"outputs", ValueListJson(layer.outputs)},
         {"params", layer.trainable_params + layer.non_trainable_params},
         {"trainable_params", layer.trainable_params},
         {"non_trainable_params", layer.non_trainable_params}});
  }
  Json batch_norms = Json::array();
  for (const BatchNormSummary& bn : summary.batch_norms) {
    Json record = {
        {"node", bn.fold.node},
        {"output", bn.fold.output},
        {"in_subgraph", bn.in_subgraph},
        {"epsilon", FloatJson(bn.epsilon)},
        {"channel_axis", kBatchNormChannelAxis},
        {"channels", bn.channels > 0 ? Json(bn.channels) : Json(nullptr)},
        {"input_shape", ShapeJson(bn.input_shape)}};
    graph::AddFoldOutcomeJson(bn.fold, &record);
    batch_norms.push_back(std::move(record));
  }
  const Json json = {
      {"model", summary.file},
      {"ir_version", summary.ir_version},
      {"opsets", std::move(opsets)},
      {"producer",
       {{"name", summary.producer_name},
        {"version", summary.producer_version}}},
      {"inputs", ValueListJson(summary.inputs)},
      {"outputs", ValueListJson(summary.outputs)},
      {"shape_inference_error", OptionalString(summary.shape_inference_error)},
      {"layers", std::move(layers)},
      {"params",
       {{"total", summary.trainable_params + summary.non_trainable_params},
        {"trainable", summary.trainable_params},
        {"non_trainable", summary.non_trainable_params}}},
      {"batch_norms", std::move(batch_norms)}};
  return graph::DumpJson(json);
}

struct InspectArgs {
  std::string model;
  bool json = false;
};

int RunInspect(const InspectArgs& args) {
  const graph::Model model = graph::LoadOnnxModel(args.model);
  const ModelSummary summary = SummarizeModel(model);
  const std::string text =
      args.json ? SummaryToJson(summary) : FormatSummaryTable(summary);
  std::fputs(text.c_str(), stdout);
  return 0;
}

constexpr CommandInfo kInspectCommand = {
    "inspect", "summarize a model: layers, shapes, parameters, BN folds",
    "foldrt inspect MODEL.onnx [--json]",
    "  prints every node with its output shapes (ONNX shape inference) and\n"
    "  parameter count, the total / trainable / non-trainable parameters,\n"
    "  and for every BatchNormalization its epsilon, channel axis and what\n"
    "  `foldrt fold` would do with it. Parameters are the constant float\n"
    "  inputs of a node (a shared one counted once, at its first reader);\n"
    "  scalars (Clip bounds, x + 3) are literals, not parameters; BN\n"
    "  running mean and variance are the non-trainable ones\n"};

void AddInspectOptions(CLI::App* command, InspectArgs* args) {
  AddModelArgument(command, "MODEL.onnx", "the model", &args->model);
  command->add_flag("--json", args->json, "print the summary as JSON");
}

}  // namespace

CommandRun AddInspectCommand(CLI::App* app) {
  return AddCommand(app, kInspectCommand, AddInspectOptions, RunInspect);
}

}  // namespace foldrt
