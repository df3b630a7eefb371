// The driver of the BN folding passes: decides, for each BN, which
// neighbour is a candidate (the checks that do not depend on the
// neighbour's kind: single reader, not a graph output, not an activation)
// and hands it to the pass for that op (fold_passes.h).
#include "graph/passes/batch_norm_fold.h"

#include <string>
#include <vector>

#include "graph/passes/fold_passes.h"
#include "graph/passes/fold_util.h"
#include "core/error.h"

namespace foldrt::graph {
namespace {

bool IsBatchNorm(const Node& node) {
  return IsDefaultDomain(node.domain()) &&
         node.op_type() == "BatchNormalization";
}

FoldDecision TryBackward(Graph& graph, const FoldableBatchNorm& bn,
                         FoldEditCounts* counts, Node** target) {
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
  const bool default_domain = IsDefaultDomain(producer->domain());
  const std::string& op = producer->op_type();
  if (default_domain && producer->output(0) == x) {
    if (op == "Conv") {
      return FoldBatchNormIntoConv(graph, bn, producer, counts, target);
    }
    if (op == "ConvTranspose") {
      return FoldBatchNormIntoConvTranspose(graph, bn, producer, counts,
                                            target);
    }
    if (op == "Gemm") {
      return FoldBatchNormIntoGemm(graph, bn, producer, counts, target);
    }
    if (op == "MatMul" || op == "Add") {
      return FoldBatchNormIntoMatMul(graph, bn, producer, counts, target);
    }
  }
  return FoldDecision::Refused(
      FoldReason::kUnsupportedProducer,
      Describe(*producer) +
          " cannot absorb a per-channel affine (only Conv, ConvTranspose, "
          "Gemm and MatMul can)");
}

FoldDecision TryForward(Graph& graph, const FoldableBatchNorm& bn,
                        FoldEditCounts* counts, Node** target) {
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
  const bool default_domain = IsDefaultDomain(consumer->domain());
  const std::string& op = consumer->op_type();
  const bool linear =
      default_domain && (op == "Conv" || op == "Gemm" || op == "MatMul");
  if (!linear) {
    return FoldDecision::Refused(
        FoldReason::kUnsupportedConsumer,
        Describe(*consumer) +
            " cannot absorb a per-channel affine on its input (only Conv, "
            "Gemm and MatMul can)");
  }
  if (uses[0].input_index != 0) {
    return FoldDecision::Refused(
        FoldReason::kUnsupportedConsumer,
        "the BN's output is input " + std::to_string(uses[0].input_index) +
            " of " + Describe(*consumer) + ", not its data input");
  }
  if (op == "Conv") {
    return FoldBatchNormIntoFollowingConv(graph, bn, consumer, counts, target);
  }
  if (op == "Gemm") {
    return FoldBatchNormIntoFollowingGemm(graph, bn, consumer, counts, target);
  }
  return FoldBatchNormIntoFollowingMatMul(graph, bn, consumer, counts, target);
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

}  // namespace

FoldReport FoldBatchNormalization(Model& model, const FoldOptions& options) {
  Graph& graph = model.graph;
  graph.Verify(model.source);
  const int64_t opset = OpsetVersion(model, "");

  FoldReport report;
  report.model = model.source;
  report.forward_enabled = options.forward;
  const LiveValues before = SnapshotLiveValues(graph);
  std::vector<Node*> batch_norms;
  for (Node* node : graph.TopologicalOrder()) {
    if (IsBatchNorm(*node)) batch_norms.push_back(node);
  }

  report.cleanup.transposes_folded =
      FoldConstantTransposesIntoMatMulWeights(graph);
  FoldEditCounts counts;
  for (Node* bn_node : batch_norms) {
    BatchNormFoldRecord record;
    record.node = bn_node->Label();
    record.output = bn_node->num_outputs() > 0 ? bn_node->output(0) : "";
    // Passes refuse before they edit, so an exception here is a tensor
    // that contradicts its own checks; name the BN it happened on.
    const ErrorContext where = NodeErrorContext(*bn_node, model.source);
    FoldableBatchNorm bn;
    Node* target = nullptr;
    try {
      const FoldDecision usable = AnalyzeBatchNorm(graph, bn_node, opset, &bn);
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
      } else if (!options.forward) {
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

  report.cleanup.weights_copied = counts.weights_copied;
  report.cleanup.nodes_inserted = counts.nodes_inserted;
  RemoveOrphanedConstants(graph, before, &report.cleanup);
  if (counts.nodes_inserted != 0) graph.SortTopologically();
  graph.Verify(model.source);
  return report;
}

}  // namespace foldrt::graph
