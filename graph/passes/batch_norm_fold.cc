// The BN fold pass: for each BN of the main graph, in the order the graph
// came in, the checks every fold of a direction needs (single reader, not a
// graph output, not an activation), then the first fold of the list
// (pass_list.cc) that claims the neighbour; its Match decides, its Apply
// edits. BNs inside subgraphs are reported, not visited.
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/error.h"
#include "graph/passes/fold_passes.h"
#include "graph/passes/fold_util.h"
#include "graph/passes/graph_pass.h"

namespace foldrt::graph {
namespace {

bool IsBatchNorm(const Node& node) {
  return IsDefaultDomain(node.domain()) &&
         node.op_type() == "BatchNormalization";
}

void AddSubgraphRecords(const Graph& graph, FoldReport* report) {
  for (const Node* node : graph.nodes()) {
    for (const Attribute& attribute : node->attributes()) {
      if (attribute.type() != AttributeType::kGraph &&
          attribute.type() != AttributeType::kGraphs) {
        continue;
      }
      std::vector<const Graph*> subgraphs;
      if (attribute.type() == AttributeType::kGraph) {
        subgraphs.push_back(&attribute.g());
      } else {
        for (const Graph& subgraph : attribute.graphs()) {
          subgraphs.push_back(&subgraph);
        }
      }
      for (const Graph* subgraph : subgraphs) {
        for (const Node* inner : subgraph->TopologicalOrder()) {
          if (!IsBatchNorm(*inner)) continue;
          BatchNormFoldRecord record;
          record.node = inner->Label();
          record.output = inner->num_outputs() > 0 ? inner->output(0) : "";
          record.backward = FoldDecision::Refused(
              FoldReason::kInSubgraph, "inside attribute '" + attribute.name() +
                                           "' of " + Describe(*node) +
                                           "; foldrt folds the main graph");
          record.forward = record.backward;
          report->batch_norms.push_back(std::move(record));
        }
        AddSubgraphRecords(*subgraph, report);
      }
    }
  }
}

class BatchNormFoldPass final : public GraphPass {
 public:
  explicit BatchNormFoldPass(std::vector<std::unique_ptr<BatchNormFold>> folds)
      : folds_(std::move(folds)) {}

  const char* name() const override { return "fold_batch_normalization"; }

  // The BNs in the order the graph came in: the passes before this one
  // (constant Transposes) may change how the topological order breaks
  // ties, and the report lists the BNs as they came. They remove no BN.
  void Prepare(Graph& graph, PassContext& context) override {
    for (Node* node : graph.TopologicalOrder()) {
      if (IsBatchNorm(*node)) batch_norms_.push_back(node);
    }
  }

  void Run(Graph& graph, PassContext& context) override;

 private:
  // The first fold of `direction` that claims `neighbour`, or null.
  const BatchNormFold* FoldFor(FoldDirection direction,
                               const Node& neighbour) const;
  // "Conv, ConvTranspose, Gemm and MatMul": what can absorb a BN.
  std::string OpsOf(FoldDirection direction) const;
  FoldDecision TryBackward(Graph& graph, const FoldableBatchNorm& bn,
                           FoldEditCounts* counts, Node** target) const;
  FoldDecision TryForward(Graph& graph, const FoldableBatchNorm& bn,
                          FoldEditCounts* counts, Node** target) const;

  std::vector<std::unique_ptr<BatchNormFold>> folds_;
  std::vector<Node*> batch_norms_;
};

const BatchNormFold* BatchNormFoldPass::FoldFor(FoldDirection direction,
                                                const Node& neighbour) const {
  for (const auto& fold : folds_) {
    if (fold->direction() == direction && fold->Claims(neighbour)) {
      return fold.get();
    }
  }
  return nullptr;
}

std::string BatchNormFoldPass::OpsOf(FoldDirection direction) const {
  std::vector<std::string> ops;
  for (const auto& fold : folds_) {
    if (fold->direction() == direction) ops.push_back(fold->op_type());
  }
  std::string text;
  for (size_t i = 0; i < ops.size(); ++i) {
    if (i != 0) text += i + 1 == ops.size() ? " and " : ", ";
    text += ops[i];
  }
  return text;
}

// Match, then Apply: a refusal leaves the graph untouched.
FoldDecision TryFold(const BatchNormFold& fold, Graph& graph,
                     const FoldableBatchNorm& bn, Node* neighbour,
                     FoldEditCounts* counts, Node** target) {
  FoldDecision decision = fold.Match(graph, bn, *neighbour);
  if (!decision.folded()) return decision;
  *target = fold.Apply(graph, bn, neighbour, counts);
  return FoldDecision::Folded();
}

FoldDecision BatchNormFoldPass::TryBackward(Graph& graph,
                                            const FoldableBatchNorm& bn,
                                            FoldEditCounts* counts,
                                            Node** target) const {
  const std::string& x = bn.input;
  Node* producer = graph.Producer(x);
  if (producer == nullptr) {
    if (graph.IsGraphInput(x)) {
      return FoldDecision::Refused(
          FoldReason::kGraphInput,
          "the BN reads graph input '" + x + "': no op precedes it");
    }
    return FoldDecision::Refused(
        FoldReason::kUnsupportedProducer,
        "the BN's input '" + x + "' is a constant, not an op's output");
  }
  if (graph.IsGraphOutput(x)) {
    return FoldDecision::Refused(
        FoldReason::kGraphOutput,
        "'" + x + "' (output of " + Describe(*producer) +
            ") is a graph output and must keep its unnormalized value");
  }
  if (!OnlyReadBy(graph, x, bn.node, 0)) {
    std::string readers;
    for (const Node* reader : graph.Consumers(x)) {
      if (reader == bn.node) continue;
      readers += (readers.empty() ? "" : ", ") + Describe(*reader);
    }
    return FoldDecision::Refused(
        FoldReason::kMultipleConsumers,
        "'" + x + "' (output of " + Describe(*producer) + ") is also read by " +
            (readers.empty() ? std::string("the BN again") : readers));
  }
  if (IsActivationOp(*producer)) {
    std::string before;
    if (producer->has_input(0)) {
      if (const Node* earlier = graph.Producer(producer->input(0))) {
        before = " after " + Describe(*earlier);
      }
    }
    return FoldDecision::Refused(
        FoldReason::kActivationBetween,
        Describe(*producer) + before +
            " sits before the BN; a nonlinearity cannot absorb it");
  }
  if (IsDefaultDomain(producer->domain()) && producer->output(0) == x) {
    if (const BatchNormFold* fold =
            FoldFor(FoldDirection::kBackward, *producer)) {
      return TryFold(*fold, graph, bn, producer, counts, target);
    }
  }
  return FoldDecision::Refused(
      FoldReason::kUnsupportedProducer,
      Describe(*producer) + " cannot absorb a per-channel affine (only " +
          OpsOf(FoldDirection::kBackward) + " can)");
}

FoldDecision BatchNormFoldPass::TryForward(Graph& graph,
                                           const FoldableBatchNorm& bn,
                                           FoldEditCounts* counts,
                                           Node** target) const {
  const std::string& y = bn.output;
  if (graph.IsGraphOutput(y)) {
    return FoldDecision::Refused(
        FoldReason::kGraphOutput,
        "the BN's output '" + y + "' is a graph output");
  }
  const std::vector<Use>& uses = graph.Uses(y);
  if (uses.empty()) {
    return FoldDecision::Refused(FoldReason::kUnsupportedConsumer,
                                 "nothing reads the BN's output '" + y + "'");
  }
  if (uses.size() > 1) {
    std::string readers;
    for (const Node* reader : graph.Consumers(y)) {
      readers += (readers.empty() ? "" : ", ") + Describe(*reader);
    }
    return FoldDecision::Refused(
        FoldReason::kMultipleConsumers,
        "the BN's output '" + y + "' has several readers: " + readers);
  }
  Node* consumer = uses[0].node;
  if (IsActivationOp(*consumer)) {
    return FoldDecision::Refused(
        FoldReason::kActivationBetween,
        "the BN's output feeds " + Describe(*consumer) +
            "; a nonlinearity cannot pass the affine on");
  }
  const BatchNormFold* fold = IsDefaultDomain(consumer->domain())
                                  ? FoldFor(FoldDirection::kForward, *consumer)
                                  : nullptr;
  if (fold == nullptr) {
    return FoldDecision::Refused(
        FoldReason::kUnsupportedConsumer,
        Describe(*consumer) +
            " cannot absorb a per-channel affine on its input (only " +
            OpsOf(FoldDirection::kForward) + " can)");
  }
  if (uses[0].input_index != 0) {
    return FoldDecision::Refused(
        FoldReason::kUnsupportedConsumer,
        "the BN's output is input " + std::to_string(uses[0].input_index) +
            " of " + Describe(*consumer) + ", not its data input");
  }
  return TryFold(*fold, graph, bn, consumer, counts, target);
}

void BatchNormFoldPass::Run(Graph& graph, PassContext& context) {
  FoldReport& report = *context.report;
  FoldEditCounts counts;
  for (Node* bn_node : batch_norms_) {
    BatchNormFoldRecord record;
    record.node = bn_node->Label();
    record.output = bn_node->num_outputs() > 0 ? bn_node->output(0) : "";
    // Folds refuse (Match) before they edit (Apply), so an exception here
    // is a tensor that contradicts its own checks; name the BN it happened
    // on.
    const ErrorContext where = NodeErrorContext(*bn_node, context.source);
    FoldableBatchNorm bn;
    Node* target = nullptr;
    try {
      const FoldDecision usable =
          AnalyzeBatchNorm(graph, bn_node, context.opset, &bn);
      record.channels = bn.channels;
      if (!usable.folded()) {
        record.backward = usable;
        record.forward = usable;
        report.batch_norms.push_back(std::move(record));
        continue;
      }
      record.backward = TryBackward(graph, bn, &counts, &target);
      if (record.backward.folded()) {
        record.fate = BatchNormFate::kFoldedBackward;
      } else if (!context.options.forward) {
        record.forward = FoldDecision::Refused(FoldReason::kForwardDisabled,
                                               "forward folding is disabled");
      } else {
        record.forward = TryForward(graph, bn, &counts, &target);
        if (record.forward.folded()) {
          record.fate = BatchNormFate::kFoldedForward;
        }
      }
    } catch (const Error& error) {
      if (!error.context().node.empty()) throw;
      throw Error("folding failed: " + error.message(), where);
    }
    if (target != nullptr) {
      record.target_node = target->Label();
      record.target_op = target->op_type();
      record.note = bn.note;
    }
    report.batch_norms.push_back(std::move(record));
  }
  AddSubgraphRecords(graph, &report);

  report.cleanup.weights_copied += counts.weights_copied;
  report.cleanup.nodes_inserted += counts.nodes_inserted;
  if (counts.nodes_inserted != 0) context.nodes_appended = true;
}

}  // namespace

std::unique_ptr<GraphPass> MakeBatchNormFoldPass(
    std::vector<std::unique_ptr<BatchNormFold>> folds) {
  return std::make_unique<BatchNormFoldPass>(std::move(folds));
}

}  // namespace foldrt::graph
