// The fold report's JSON pieces that `foldrt inspect --json` shares with
// FoldReportToJson (fold_report.h), as nlohmann/json values. Not installed:
// nlohmann/json stays out of the public headers, so consumers of the
// package need not have it.
#ifndef FOLDRT_GRAPH_PASSES_FOLD_REPORT_JSON_H_
#define FOLDRT_GRAPH_PASSES_FOLD_REPORT_JSON_H_

#include <nlohmann/json.hpp>
#include <string>

#include "graph/passes/fold_report.h"

namespace foldrt::graph {

// null when the fold happened, else {"reason": id, "detail": sentence}.
nlohmann::ordered_json FoldDecisionJson(const FoldDecision& decision);

// Adds "fold", "target", "backward", "forward" and "note" (in that order)
// for `record` to the object `json`.
void AddFoldOutcomeJson(const BatchNormFoldRecord& record,
                        nlohmann::ordered_json* json);

// `json` indented by two, newline-terminated; invalid UTF-8 in strings
// becomes U+FFFD.
std::string DumpJson(const nlohmann::ordered_json& json);

}  // namespace foldrt::graph

#endif  // FOLDRT_GRAPH_PASSES_FOLD_REPORT_JSON_H_
