// The individual BatchNormalization folding passes that
// FoldBatchNormalization (batch_norm_fold.h) runs. Each checks its own
// preconditions before it changes anything: a refusal leaves the graph
// untouched. On success the BN node is gone and `*target` is the node that
// absorbed it.
#ifndef FOLDRT_GRAPH_PASSES_FOLD_PASSES_H_
#define FOLDRT_GRAPH_PASSES_FOLD_PASSES_H_

#include <cstddef>
#include <string>
#include <unordered_set>

#include "graph/graph.h"
#include "graph/passes/fold_report.h"
#include "graph/passes/fold_util.h"

namespace foldrt::graph {

// Backward: `producer` writes the BN's input and nobody else reads it.
FoldDecision FoldBatchNormIntoConv(Graph& graph, const FoldableBatchNorm& bn,
                                   Node* conv, FoldEditCounts* counts,
                                   Node** target);
FoldDecision FoldBatchNormIntoConvTranspose(Graph& graph,
                                            const FoldableBatchNorm& bn,
                                            Node* conv_transpose,
                                            FoldEditCounts* counts,
                                            Node** target);
FoldDecision FoldBatchNormIntoGemm(Graph& graph, const FoldableBatchNorm& bn,
                                   Node* gemm, FoldEditCounts* counts,
                                   Node** target);
// `producer` is the MatMul itself or an Add of the MatMul's output and a
// constant bias.
FoldDecision FoldBatchNormIntoMatMul(Graph& graph, const FoldableBatchNorm& bn,
                                     Node* producer, FoldEditCounts* counts,
                                     Node** target);

// Forward: `consumer` is the only reader of the BN's output.
FoldDecision FoldBatchNormIntoFollowingConv(Graph& graph,
                                            const FoldableBatchNorm& bn,
                                            Node* conv, FoldEditCounts* counts,
                                            Node** target);
FoldDecision FoldBatchNormIntoFollowingGemm(Graph& graph,
                                            const FoldableBatchNorm& bn,
                                            Node* gemm, FoldEditCounts* counts,
                                            Node** target);
FoldDecision FoldBatchNormIntoFollowingMatMul(Graph& graph,
                                              const FoldableBatchNorm& bn,
                                              Node* matmul,
                                              FoldEditCounts* counts,
                                              Node** target);

// Turns each Transpose of a constant whose output only weights of MatMuls
// next to a BN read into an initializer of that output's name. Returns how
// many.
size_t FoldConstantTransposesIntoMatMulWeights(Graph& graph);

// What was alive before folding, so that cleanup removes only what the
// folds orphaned and leaves the rest of the model as it came.
struct LiveValues {
  // Values some node reads or that are graph outputs.
  std::unordered_set<std::string> read_values;
  // Values a node, an initializer or a graph input defines.
  std::unordered_set<std::string> defined_values;
};
LiveValues SnapshotLiveValues(const Graph& graph);

// Removes Identity/Constant/Transpose nodes and initializers that were
// read before folding and are not now (chains included), and value_info
// entries of values that no longer exist.
void RemoveOrphanedConstants(Graph& graph, const LiveValues& before,
                             FoldCleanupCounts* counts);

}  // namespace foldrt::graph

#endif  // FOLDRT_GRAPH_PASSES_FOLD_PASSES_H_
