#include "graph/passes/fold_report.h"

#include <algorithm>

#include "graph/json_writer.h"

namespace foldrt::graph {

const char* FoldReasonId(FoldReason reason) {
  switch (reason) {
    case FoldReason::kNone:
      return "none";
    case FoldReason::kParamsNotConstant:
      return "params_not_constant";
    case FoldReason::kWeightsNotConstant:
      return "weights_not_constant";
    case FoldReason::kMultipleConsumers:
      return "multiple_consumers";
    case FoldReason::kGraphOutput:
      return "graph_output";
    case FoldReason::kActivationBetween:
      return "activation_between";
    case FoldReason::kGraphInput:
      return "graph_input";
    case FoldReason::kUnsupportedProducer:
      return "unsupported_producer";
    case FoldReason::kUnsupportedConsumer:
      return "unsupported_consumer";
    case FoldReason::kForwardInexact:
      return "forward_inexact";
    case FoldReason::kForwardDisabled:
      return "forward_disabled";
    case FoldReason::kTrainingOutputsUsed:
      return "training_outputs_used";
    case FoldReason::kSpatialZero:
      return "spatial_zero";
    case FoldReason::kUnsupportedType:
      return "unsupported_type";
    case FoldReason::kShapeMismatch:
      return "shape_mismatch";
    case FoldReason::kUnknownRank:
      return "unknown_rank";
    case FoldReason::kUnsupportedAttribute:
      return "unsupported_attribute";
    case FoldReason::kInvalidStatistics:
      return "invalid_statistics";
    case FoldReason::kInSubgraph:
      return "in_subgraph";
  }
  return "unknown";
}

size_t FoldReport::CountFate(BatchNormFate fate) const {
  return static_cast<size_t>(std::count_if(
      batch_norms.begin(), batch_norms.end(),
      [&](const BatchNormFoldRecord& r) { return r.fate == fate; }));
}

std::string FoldCategory(const BatchNormFoldRecord& record) {
  switch (record.fate) {
    case BatchNormFate::kFoldedBackward:
      return "backward:" + record.target_op;
    case BatchNormFate::kFoldedForward:
      return "forward:" + record.target_op;
    case BatchNormFate::kNotFolded:
      break;
  }
  return "none";
}

namespace {

// Where the BN went, or why it stayed, in one line.
std::string Disposition(const BatchNormFoldRecord& record) {
  std::string text;
  if (record.fate != BatchNormFate::kNotFolded) {
    text = record.target_op + " '" + record.target_node + "'";
    if (record.fate == BatchNormFate::kFoldedForward) {
      text +=
          " (backward: " + std::string(FoldReasonId(record.backward.reason)) +
          ")";
    }
  } else {
    text = std::string(FoldReasonId(record.backward.reason)) + ": " +
           record.backward.detail;
    if (record.forward.reason != record.backward.reason ||
        record.forward.detail != record.backward.detail) {
      text += "; forward: " + std::string(FoldReasonId(record.forward.reason)) +
              ": " + record.forward.detail;
    }
  }
  if (!record.note.empty()) text += " [" + record.note + "]";
  return text;
}

const char* FateWord(BatchNormFate fate) {
  switch (fate) {
    case BatchNormFate::kFoldedBackward:
      return "backward";
    case BatchNormFate::kFoldedForward:
      return "forward";
    case BatchNormFate::kNotFolded:
      break;
  }
  return "stays";
}

}  // namespace

std::string FormatFoldReportTable(const FoldReport& report) {
  const size_t total = report.batch_norms.size();
  const size_t backward = report.CountFate(BatchNormFate::kFoldedBackward);
  const size_t forward = report.CountFate(BatchNormFate::kFoldedForward);
  std::string out = report.model + ": " + std::to_string(total) +
                    " BatchNormalization, " + std::to_string(backward) +
                    " folded backward, " + std::to_string(forward) +
                    " folded forward" +
                    (report.forward_enabled ? "" : " (disabled)") + ", " +
                    std::to_string(total - backward - forward) + " stay\n";
  if (total == 0) return out;

  size_t name_width = std::string("BatchNormalization").size();
  for (const BatchNormFoldRecord& record : report.batch_norms) {
    name_width = std::max(name_width, record.node.size());
  }
  auto row = [&](const std::string& name, const std::string& fate,
                 const std::string& where) {
    std::string line = "  " + name;
    line.append(name_width - name.size() + 2, ' ');
    line += fate;
    line.append(fate.size() < 10 ? 10 - fate.size() : 1, ' ');
    return line + where + "\n";
  };
  out += row("BatchNormalization", "fate", "into / why it stays");
  for (const BatchNormFoldRecord& record : report.batch_norms) {
    out += row(record.node, FateWord(record.fate), Disposition(record));
  }
  const FoldCleanupCounts& c = report.cleanup;
  out += "cleanup: " + std::to_string(c.transposes_folded) +
         " constant Transpose folded, " + std::to_string(c.weights_copied) +
         " shared constants copied, " + std::to_string(c.nodes_inserted) +
         " bias Add inserted, " + std::to_string(c.nodes_removed) +
         " dead nodes and " + std::to_string(c.initializers_removed) +
         " dead initializers removed\n";
  return out;
}

namespace {

std::string DecisionJson(const FoldDecision& decision) {
  if (decision.folded()) return "null";
  return "{\"reason\": " + JsonQuote(FoldReasonId(decision.reason)) +
         ", \"detail\": " + JsonQuote(decision.detail) + "}";
}

}  // namespace

std::string FoldReportToJson(const FoldReport& report) {
  const size_t backward = report.CountFate(BatchNormFate::kFoldedBackward);
  const size_t forward = report.CountFate(BatchNormFate::kFoldedForward);
  std::string out = "{\n";
  out += "  \"model\": " + JsonQuote(report.model) + ",\n";
  out += "  \"forward_folding\": " +
         std::string(report.forward_enabled ? "true" : "false") + ",\n";
  out += "  \"summary\": {\"batch_norms\": " +
         std::to_string(report.batch_norms.size()) +
         ", \"folded_backward\": " + std::to_string(backward) +
         ", \"folded_forward\": " + std::to_string(forward) +
         ", \"not_folded\": " +
         std::to_string(report.batch_norms.size() - backward - forward) +
         "},\n";
  out += "  \"batch_norms\": [";
  for (size_t i = 0; i < report.batch_norms.size(); ++i) {
    const BatchNormFoldRecord& r = report.batch_norms[i];
    out += i == 0 ? "\n" : ",\n";
    out += "    {\"node\": " + JsonQuote(r.node) +
           ", \"output\": " + JsonQuote(r.output) +
           ", \"channels\": " + std::to_string(r.channels) +
           ", \"fold\": " + JsonQuote(FoldCategory(r));
    if (r.fate != BatchNormFate::kNotFolded) {
      out += ", \"target\": {\"node\": " + JsonQuote(r.target_node) +
             ", \"op\": " + JsonQuote(r.target_op) + "}";
    } else {
      out += ", \"target\": null";
    }
    // A direction that was not tried (forward after a backward fold) or
    // that succeeded has no refusal to show.
    out += ", \"backward\": " + DecisionJson(r.backward);
    out += ", \"forward\": " + (r.fate == BatchNormFate::kNotFolded
                                    ? DecisionJson(r.forward)
                                    : std::string("null"));
    out += ", \"note\": " + (r.note.empty() ? "null" : JsonQuote(r.note));
    out += "}";
  }
  out += report.batch_norms.empty() ? "],\n" : "\n  ],\n";
  const FoldCleanupCounts& c = report.cleanup;
  out +=
      "  \"cleanup\": {\"transposes_folded\": " +
      std::to_string(c.transposes_folded) +
      ", \"weights_copied\": " + std::to_string(c.weights_copied) +
      ", \"nodes_inserted\": " + std::to_string(c.nodes_inserted) +
      ", \"nodes_removed\": " + std::to_string(c.nodes_removed) +
      ", \"initializers_removed\": " + std::to_string(c.initializers_removed) +
      "}\n";
  out += "}\n";
  return out;
}

}  // namespace foldrt::graph
