// The fold report: for every BatchNormalization of a model, where it went
// (the node that absorbed it, backward or forward) or why it stayed. The
// CLI prints it as a table and writes it as JSON; tests compare it with the
// expected fates in tests/data/MANIFEST.json.
#ifndef FOLDRT_GRAPH_PASSES_FOLD_REPORT_H_
#define FOLDRT_GRAPH_PASSES_FOLD_REPORT_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace foldrt::graph {

// Why a BN did not fold in one direction. Each has a stable snake_case id
// (FoldReasonId) used in the JSON report.
enum class FoldReason {
  kNone,                 // it folded
  kParamsNotConstant,    // gamma/beta/mean/var are computed by a node
  kWeightsNotConstant,   // the neighbour's weight or bias is not constant
  kMultipleConsumers,    // the value between BN and neighbour has other readers
  kGraphOutput,          // that value is a graph output and must stay
  kActivationBetween,    // e.g. Conv -> Relu -> BN or BN -> Relu -> Conv
  kGraphInput,           // BN reads a graph input: nothing precedes it
  kUnsupportedProducer,  // the preceding op cannot absorb a BN (e.g. Concat)
  kUnsupportedConsumer,  // the following op cannot absorb a BN
  kForwardInexact,       // forward fold would change outputs (padding)
  kForwardDisabled,      // --no-forward
  kTrainingOutputsUsed,  // training-mode statistic outputs are read
  kSpatialZero,          // opset-7 spatial=0: per-activation statistics
  kUnsupportedType,      // not float32
  kShapeMismatch,        // parameter / weight shapes do not line up
  kUnknownRank,          // the channel axis cannot be proven to match
  kUnsupportedAttribute,  // e.g. forward fold into Gemm with transA=1
  kInvalidStatistics,     // NaN/Inf parameters or negative variance
  kInSubgraph,            // inside an If/Loop/Scan body: not visited
};

const char* FoldReasonId(FoldReason reason);

// The outcome of one fold attempt.
struct FoldDecision {
  static FoldDecision Folded() { return FoldDecision{}; }
  static FoldDecision Refused(FoldReason reason, std::string detail) {
    return FoldDecision{reason, std::move(detail)};
  }
  bool folded() const { return reason == FoldReason::kNone; }

  FoldReason reason = FoldReason::kNone;
  std::string detail;  // one human sentence; empty when folded
};

enum class BatchNormFate { kFoldedBackward, kFoldedForward, kNotFolded };

struct BatchNormFoldRecord {
  std::string node;      // the BN's name (or a label for an unnamed node)
  std::string output;    // the BN's output value, kept in the folded model
  int64_t channels = 0;  // 0 when unknown (parameters not constant)
  BatchNormFate fate = BatchNormFate::kNotFolded;
  // The node that absorbed the BN (backward or forward fold).
  std::string target_node;
  std::string target_op;
  // Why the backward fold was refused (when it did not happen) and why the
  // forward fold was refused (when neither happened).
  FoldDecision backward;
  FoldDecision forward;
  // Something worth knowing about a fold that did happen, e.g. that
  // training_mode=1 was folded with the running statistics.
  std::string note;
};

// What the cleanup steps did besides removing BNs.
struct FoldCleanupCounts {
  size_t transposes_folded = 0;     // constant Transpose -> initializer
  size_t weights_copied = 0;        // shared constants copied before scaling
  size_t nodes_removed = 0;         // dead Identity/Constant/Transpose nodes
  size_t initializers_removed = 0;  // initializers nobody reads any more
  size_t nodes_inserted = 0;        // bias Adds after MatMul
};

struct FoldReport {
  std::string model;  // file the model came from
  bool forward_enabled = true;
  std::vector<BatchNormFoldRecord> batch_norms;  // topological order
  FoldCleanupCounts cleanup;

  size_t CountFate(BatchNormFate fate) const;
};

// The MANIFEST.json vocabulary: "backward:<Op>", "forward:<Op>" or "none".
std::string FoldCategory(const BatchNormFoldRecord& record);

// A human table: one summary line, then one row per BN.
std::string FormatFoldReportTable(const FoldReport& report);

// The report as a JSON document (UTF-8, invalid bytes in names replaced by
// U+FFFD, newline-terminated), written with nlohmann/json.
std::string FoldReportToJson(const FoldReport& report);

// `text` as a JSON string literal with quotes; invalid UTF-8 bytes become
// U+FFFD (each as \ufffd) so the literal always parses. Part of the
// installed API since graph/json_writer.h (now gone) was: foldrt's own
// documents are built with nlohmann/json instead.
std::string JsonQuote(const std::string& text);

}  // namespace foldrt::graph

#endif  // FOLDRT_GRAPH_PASSES_FOLD_REPORT_H_
