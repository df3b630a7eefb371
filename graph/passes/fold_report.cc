#include "graph/passes/fold_report.h"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <utility>

#include "graph/passes/fold_report_json.h"

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

nlohmann::ordered_json FoldDecisionJson(const FoldDecision& decision) {
  if (decision.folded()) return nullptr;
  return {{"reason", FoldReasonId(decision.reason)},
          {"detail", decision.detail}};
}

void AddFoldOutcomeJson(const BatchNormFoldRecord& record,
                        nlohmann::ordered_json* json) {
  const bool folded = record.fate != BatchNormFate::kNotFolded;
  (*json)["fold"] = FoldCategory(record);
  (*json)["target"] = folded
                          ? nlohmann::ordered_json{{"node", record.target_node},
                                                   {"op", record.target_op}}
                          : nullptr;
  // A direction that was not tried (forward after a backward fold) or
  // that succeeded has no refusal to show.
  (*json)["backward"] = FoldDecisionJson(record.backward);
  (*json)["forward"] = folded ? nullptr : FoldDecisionJson(record.forward);
  (*json)["note"] =
      record.note.empty() ? nullptr : nlohmann::ordered_json(record.note);
}

std::string DumpJson(const nlohmann::ordered_json& json) {
  // Invalid UTF-8 in a model's names becomes U+FFFD, so the document always
  // parses.
  return json.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) +
         "\n";
}

std::string FoldReportToJson(const FoldReport& report) {
  const size_t backward = report.CountFate(BatchNormFate::kFoldedBackward);
  const size_t forward = report.CountFate(BatchNormFate::kFoldedForward);
  nlohmann::ordered_json records = nlohmann::ordered_json::array();
  for (const BatchNormFoldRecord& r : report.batch_norms) {
    nlohmann::ordered_json record = {
        {"node", r.node}, {"output", r.output}, {"channels", r.channels}};
    AddFoldOutcomeJson(r, &record);
    records.push_back(std::move(record));
  }
  const FoldCleanupCounts& c = report.cleanup;
  const nlohmann::ordered_json json = {
      {"model", report.model},
      {"forward_folding", report.forward_enabled},
      {"summary",
       {{"batch_norms", report.batch_norms.size()},
        {"folded_backward", backward},
        {"folded_forward", forward},
        {"not_folded", report.batch_norms.size() - backward - forward}}},
      {"batch_norms", std::move(records)},
      {"cleanup",
       {{"transposes_folded", c.transposes_folded},
        {"weights_copied", c.weights_copied},
        {"nodes_inserted", c.nodes_inserted},
        {"nodes_removed", c.nodes_removed},
        {"initializers_removed", c.initializers_removed}}}};
  return DumpJson(json);
}

std::string JsonQuote(const std::string& text) {
  std::string out = "\"";
  const auto* bytes = reinterpret_cast<const unsigned char*>(text.data());
  const size_t size = text.size();
  for (size_t i = 0; i < size;) {
    const unsigned char c = bytes[i];
    if (c < 0x80) {
      switch (c) {
        case '"':
          out += "\\\"";
          break;
        case '\\':
          out += "\\\\";
          break;
        case '\b':
          out += "\\b";
          break;
        case '\f':
          out += "\\f";
          break;
        case '\n':
          out += "\\n";
          break;
        case '\r':
          out += "\\r";
          break;
        case '\t':
          out += "\\t";
          break;
        default:
          if (c < 0x20 || c == 0x7f) {
            char escaped[8];
            std::snprintf(escaped, sizeof(escaped), "\\u%04x", c);
            out += escaped;
          } else {
            out += static_cast<char>(c);
          }
      }
      ++i;
      continue;
    }
    // A well-formed multi-byte sequence (no overlongs, no surrogates, at
    // most U+10FFFF) is copied; anything else becomes U+FFFD.
    size_t length = 0;
    uint32_t min_code = 0;
    uint32_t code = 0;
    if ((c & 0xe0) == 0xc0) {
      length = 2, min_code = 0x80, code = c & 0x1f;
    } else if ((c & 0xf0) == 0xe0) {
      length = 3, min_code = 0x800, code = c & 0x0f;
    } else if ((c & 0xf8) == 0xf0) {
      length = 4, min_code = 0x10000, code = c & 0x07;
    }
    bool valid = length != 0 && i + length <= size;
    for (size_t k = 1; valid && k < length; ++k) {
      if ((bytes[i + k] & 0xc0) != 0x80) valid = false;
      code = (code << 6) | (bytes[i + k] & 0x3f);
    }
    valid = valid && code >= min_code && code <= 0x10ffff &&
            !(code >= 0xd800 && code <= 0xdfff);
    if (valid) {
      out.append(text, i, length);
      i += length;
    } else {
      out += "\\ufffd";
      ++i;
    }
  }
  return out + "\"";
}

}  // namespace foldrt::graph
