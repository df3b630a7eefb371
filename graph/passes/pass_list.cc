// The one place the graph passes and the BN folds are listed, in the order
// they run, and the entry point that runs them: FoldBatchNormalization
// (batch_norm_fold.h), which `foldrt fold` (tools/foldrt/fold_command.cc)
// and session load (runtime/session.cc) both call, so the two run the same
// list.
//
// Adding a BN fold: write fold_batch_norm_into_<op>.cc (the pattern and its
// preconditions in a comment on top; a class implementing BatchNormFold,
// fold_passes.h; a Make... function returning it with its name, op, direction
// and constant inputs; the weight math in fold_weights.h), list it in
// graph/CMakeLists.txt, and add one line to MakeBatchNormFolds below (with its
// declaration next to the others). Refusals it shares with other folds come
// from fold_refusals.h; a new reason code goes into FoldReason (fold_report.h).
//
// Adding another graph pass: the same, with a class implementing GraphPass
// (graph_pass.h) and one line in MakeGraphPasses.
#include <memory>
#include <utility>
#include <vector>

#include "graph/passes/batch_norm_fold.h"
#include "graph/passes/fold_passes.h"
#include "graph/passes/graph_pass.h"

namespace foldrt::graph {

// Each is defined in the file of the same name (in snake_case).
std::unique_ptr<GraphPass> MakeFoldConstantTransposesPass();
std::unique_ptr<GraphPass> MakeBatchNormFoldPass(
    std::vector<std::unique_ptr<BatchNormFold>> folds);
std::unique_ptr<GraphPass> MakeRemoveOrphanedConstantsPass();
std::unique_ptr<BatchNormFold> MakeFoldBatchNormIntoConv();
std::unique_ptr<BatchNormFold> MakeFoldBatchNormIntoConvTranspose();
std::unique_ptr<BatchNormFold> MakeFoldBatchNormIntoGemm();
std::unique_ptr<BatchNormFold> MakeFoldBatchNormIntoMatMul();
std::unique_ptr<BatchNormFold> MakeFoldBatchNormIntoFollowingConv();
std::unique_ptr<BatchNormFold> MakeFoldBatchNormIntoFollowingGemm();
std::unique_ptr<BatchNormFold> MakeFoldBatchNormIntoFollowingMatMul();

std::vector<std::unique_ptr<BatchNormFold>> MakeBatchNormFolds() {
  std::vector<std::unique_ptr<BatchNormFold>> folds;
  // Backward (into the op before the BN), tried first. Refusals list the
  // ops in this order: "only Conv, ConvTranspose, Gemm and MatMul can".
  folds.push_back(MakeFoldBatchNormIntoConv());
  folds.push_back(MakeFoldBatchNormIntoConvTranspose());
  folds.push_back(MakeFoldBatchNormIntoGemm());
  folds.push_back(MakeFoldBatchNormIntoMatMul());  // also MatMul + bias Add
  // Forward (into the op after the BN), where backward refused and
  // FoldOptions::forward allows: "only Conv, Gemm and MatMul can".
  folds.push_back(MakeFoldBatchNormIntoFollowingConv());
  folds.push_back(MakeFoldBatchNormIntoFollowingGemm());
  folds.push_back(MakeFoldBatchNormIntoFollowingMatMul());
  return folds;
}

std::vector<std::unique_ptr<GraphPass>> MakeGraphPasses() {
  std::vector<std::unique_ptr<GraphPass>> passes;
  // Constant Transposes feeding MatMul weights become initializers, so
  // that the MatMul folds see constant weights.
  passes.push_back(MakeFoldConstantTransposesPass());
  passes.push_back(MakeBatchNormFoldPass(MakeBatchNormFolds()));
  // Last: removes what the passes above orphaned, and only that.
  passes.push_back(MakeRemoveOrphanedConstantsPass());
  return passes;
}

FoldReport FoldBatchNormalization(Model& model, const FoldOptions& options) {
  Graph& graph = model.graph;
  graph.Verify(model.source);

  FoldReport report;
  report.model = model.source;
  report.forward_enabled = options.forward;
  PassContext context;
  context.source = model.source;
  context.opset = OpsetVersion(model, "");
  context.options = options;
  context.report = &report;

  std::vector<std::unique_ptr<GraphPass>> passes = MakeGraphPasses();
  for (const auto& pass : passes) pass->Prepare(graph, context);
  for (const auto& pass : passes) pass->Run(graph, context);
  if (context.nodes_appended) graph.SortTopologically();
  graph.Verify(model.source);
  return report;
}

}  // namespace foldrt::graph
