// The interface every graph pass implements, and what one run of the pass
// list shares. A graph pass rewrites the ONNX graph into another ONNX graph
// (folds, cleanups); it runs before the runtime compiles anything, from the
// one ordered list in pass_list.cc, for `foldrt fold` and at session load
// alike (both call FoldBatchNormalization, batch_norm_fold.h).
#ifndef FOLDRT_GRAPH_PASSES_GRAPH_PASS_H_
#define FOLDRT_GRAPH_PASSES_GRAPH_PASS_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "graph/graph.h"
#include "graph/passes/batch_norm_fold.h"  // FoldOptions
#include "graph/passes/fold_report.h"

namespace foldrt::graph {

// What the passes of one run share.
struct PassContext {
  std::string source;  // the model's file, for error messages
  int64_t opset = 0;   // the model's ai.onnx opset (BN semantics)
  FoldOptions options;
  // Where each pass records what it did (its report entries).
  FoldReport* report = nullptr;
  // Set by a pass that appended nodes the list must sort into topological
  // order once every pass has run.
  bool nodes_appended = false;
};

class GraphPass {
 public:
  virtual ~GraphPass() = default;

  // A stable snake_case id, e.g. "remove_orphaned_constants".
  virtual const char* name() const = 0;

  // Called on every pass of the list, in list order, before the first one
  // runs, so that a pass can remember the graph as it came (what was alive,
  // the order of its nodes). Must not change the graph.
  virtual void Prepare(Graph& graph, PassContext& context) {}

  // Rewrites `graph` and records what it did in context.report. Checks its
  // own preconditions before it changes anything.
  virtual void Run(Graph& graph, PassContext& context) = 0;
};

// The graph passes in the order they run (pass_list.cc).
std::vector<std::unique_ptr<GraphPass>> MakeGraphPasses();

}  // namespace foldrt::graph

#endif  // FOLDRT_GRAPH_PASSES_GRAPH_PASS_H_
