// Cleanup after the BN folds. A fold leaves behind the BN's parameter
// initializers, the original of a weight it replaced by a scaled copy, and
// the Identity / Constant / Transpose chains that fed them. This pass
// removes exactly those: nodes of those three kinds and initializers that
// were read before folding (SnapshotLiveValues) and are read by nobody now,
// repeating until whole chains are gone; then value_info entries of values
// that no longer exist. Whatever was already unused in the input model
// stays: foldrt does not edit what it did not change.
//
// Preconditions: the snapshot of what was alive is taken in Prepare, before
// any pass of the list has changed the graph.
#include <algorithm>
#include <memory>
#include <string>
#include <unordered_set>
#include <vector>

#include "graph/passes/graph_pass.h"

namespace foldrt::graph {
namespace {

// What was alive before folding, so that cleanup removes only what the
// folds orphaned and leaves the rest of the model as it came.
struct LiveValues {
  // Values some node reads or that are graph outputs.
  std::unordered_set<std::string> read_values;
  // Values a node, an initializer or a graph input defines.
  std::unordered_set<std::string> defined_values;
};

bool IsRead(const Graph& graph, const std::string& value) {
  return !graph.Uses(value).empty() || graph.IsGraphOutput(value);
}

bool IsConstantPlumbing(const Node& node) {
  return IsDefaultDomain(node.domain()) &&
         (node.op_type() == "Identity" || node.op_type() == "Constant" ||
          node.op_type() == "Transpose");
}

bool IsDefined(const Graph& graph, const std::string& value) {
  return graph.Producer(value) != nullptr ||
         graph.FindInitializer(value) != nullptr || graph.IsGraphInput(value);
}

LiveValues SnapshotLiveValues(const Graph& graph) {
  LiveValues live;
  for (const Node* node : graph.nodes()) {
    for (const std::string& value : node->inputs()) {
      if (!value.empty()) live.read_values.insert(value);
    }
    for (const std::string& value : node->implicit_inputs()) {
      live.read_values.insert(value);
    }
    for (const std::string& value : node->outputs()) {
      if (!value.empty()) live.defined_values.insert(value);
    }
  }
  for (const ValueInfo& output : graph.outputs()) {
    live.read_values.insert(output.name);
  }
  for (size_t i = 0; i < graph.num_initializers(); ++i) {
    live.defined_values.insert(graph.initializer(i).name());
  }
  for (const ValueInfo& input : graph.inputs()) {
    live.defined_values.insert(input.name);
  }
  return live;
}

// Removes Identity/Constant/Transpose nodes and initializers that were
// read before folding and are not now (chains included), and value_info
// entries of values that no longer exist.
void RemoveOrphanedConstants(Graph& graph, const LiveValues& before,
                             FoldCleanupCounts* counts) {
  for (bool changed = true; changed;) {
    changed = false;
    for (Node* node : graph.mutable_nodes()) {
      if (!IsConstantPlumbing(*node)) continue;
      const std::vector<std::string>& outputs = node->outputs();
      const bool was_read = std::any_of(
          outputs.begin(), outputs.end(), [&](const std::string& value) {
            return !value.empty() && before.read_values.count(value) != 0;
          });
      const bool is_read = std::any_of(
          outputs.begin(), outputs.end(), [&](const std::string& value) {
            return !value.empty() && IsRead(graph, value);
          });
      if (was_read && !is_read) {
        graph.RemoveNode(node);
        ++counts->nodes_removed;
        changed = true;
      }
    }
  }

  std::vector<std::string> orphaned;
  for (size_t i = 0; i < graph.num_initializers(); ++i) {
    const std::string& name = graph.initializer(i).name();
    if (before.read_values.count(name) != 0 && !IsRead(graph, name)) {
      orphaned.push_back(name);
    }
  }
  for (const std::string& name : orphaned) {
    graph.RemoveInitializer(name);
    ++counts->initializers_removed;
  }

  std::vector<ValueInfo>* value_info = graph.mutable_value_info();
  value_info->erase(
      std::remove_if(value_info->begin(), value_info->end(),
                     [&](const ValueInfo& info) {
                       return before.defined_values.count(info.name) != 0 &&
                              !IsDefined(graph, info.name);
                     }),
      value_info->end());
}

class RemoveOrphanedConstantsPass final : public GraphPass {
 public:
  const char* name() const override { return "remove_orphaned_constants"; }
  // Before any pass of the list has run.
  void Prepare(Graph& graph, PassContext& context) override {
    before_ = SnapshotLiveValues(graph);
  }
  void Run(Graph& graph, PassContext& context) override {
    RemoveOrphanedConstants(graph, before_, &context.report->cleanup);
  }

 private:
  LiveValues before_;
};

}  // namespace

std::unique_ptr<GraphPass> MakeRemoveOrphanedConstantsPass() {
  return std::make_unique<RemoveOrphanedConstantsPass>();
}

}  // namespace foldrt::graph
