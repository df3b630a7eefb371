// The order and well-formedness of a Graph (graph.h): the topological order
// (stable: ties keep the order nodes were added in) with the cycle it
// reports when there is none, and Verify, which checks that every value is
// defined once, in scope, and that the graph has no cycle, subgraphs
// included.
#include <functional>
#include <memory>
#include <queue>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "graph/graph.h"

namespace foldrt::graph {

std::vector<size_t> Graph::TopologicalIndices(const std::string& file) const {
  const size_t count = nodes_.size();
  std::unordered_map<const Node*, size_t> index_of;
  index_of.reserve(count);
  for (size_t i = 0; i < count; ++i) index_of.emplace(nodes_[i].get(), i);

  // Each (reader input, producer) pair is one edge; Uses() lists exactly the
  // inputs counted here, so every edge is released exactly once.
  auto for_each_read = [](const Node& node, const auto& visit) {
    for (const std::string& value : node.inputs()) {
      if (!value.empty()) visit(value);
    }
    for (const std::string& value : node.implicit_inputs()) visit(value);
  };
  std::vector<size_t> pending(count, 0);
  for (size_t i = 0; i < count; ++i) {
    for_each_read(*nodes_[i], [&](const std::string& value) {
      auto it = producers_.find(value);
      if (it != producers_.end()) pending[i] += it->second.size();
    });
  }

  std::priority_queue<size_t, std::vector<size_t>, std::greater<size_t>> ready;
  for (size_t i = 0; i < count; ++i) {
    if (pending[i] == 0) ready.push(i);
  }
  std::vector<size_t> order;
  order.reserve(count);
  std::vector<bool> done(count, false);
  while (!ready.empty()) {
    const size_t current = ready.top();
    ready.pop();
    order.push_back(current);
    done[current] = true;
    for (const std::string& value : nodes_[current]->outputs()) {
      if (value.empty()) continue;
      for (const Use& use : Uses(value)) {
        const size_t reader = index_of.at(use.node);
        if (--pending[reader] == 0) ready.push(reader);
      }
    }
  }
  if (order.size() == count) return order;

  // Every node left waits on a node left, so walking from one of them to a
  // waiting producer must revisit a node, and that node lies on a cycle.
  size_t current = 0;
  while (done[current]) ++current;
  std::vector<bool> visited(count, false);
  std::string via;
  while (!visited[current]) {
    visited[current] = true;
    bool moved = false;
    for_each_read(*nodes_[current], [&](const std::string& value) {
      if (moved) return;
      auto it = producers_.find(value);
      if (it == producers_.end()) return;
      for (const Node* producer : it->second) {
        const size_t index = index_of.at(producer);
        if (!done[index]) {
          current = index;
          via = value;
          moved = true;
          return;
        }
      }
    });
  }
  throw FormatError("the graph has a cycle (through value '" + via + "')",
                    NodeErrorContext(*nodes_[current], file));
}

std::vector<const Node*> Graph::TopologicalOrder() const {
  std::vector<const Node*> order;
  for (size_t index : TopologicalIndices("")) {
    order.push_back(nodes_[index].get());
  }
  return order;
}

std::vector<Node*> Graph::TopologicalOrder() {
  std::vector<Node*> order;
  for (size_t index : TopologicalIndices("")) {
    order.push_back(nodes_[index].get());
  }
  return order;
}

void Graph::SortTopologically() {
  const std::vector<size_t> order = TopologicalIndices("");
  std::vector<std::unique_ptr<Node>> sorted;
  sorted.reserve(nodes_.size());
  for (size_t index : order) sorted.push_back(std::move(nodes_[index]));
  nodes_ = std::move(sorted);
}

void Graph::Verify(const std::string& file) const { VerifyInScope({}, file); }

void Graph::VerifyInScope(const std::unordered_set<std::string>& outer,
                          const std::string& file) const {
  const ErrorContext graph_context{file, "", ""};
  // Every name this graph defines, with what defines it, for messages.
  std::unordered_map<std::string, std::string> definer;
  auto define = [&](const std::string& name, const std::string& what,
                    const ErrorContext& context) {
    if (outer.count(name) != 0) {
      throw FormatError("value '" + name + "' (" + what +
                            ") is already defined in an enclosing graph",
                        context);
    }
    auto [it, inserted] = definer.emplace(name, what);
    if (!inserted) {
      throw FormatError("value '" + name + "' is defined twice: by " +
                            it->second + " and by " + what,
                        context);
    }
  };

  for (const ValueInfo& input : inputs_) {
    if (input.name.empty()) {
      throw FormatError("a graph input has no name", graph_context);
    }
    define(input.name, "graph input", graph_context);
  }
  for (const auto& tensor : initializers_) {
    if (tensor->name().empty()) {
      throw FormatError("an initializer has no name", graph_context);
    }
    define(tensor->name(), "an initializer", graph_context);
  }
  for (const SparseInitializer& sparse : sparse_initializers_) {
    define(sparse.name, "a sparse initializer", graph_context);
  }
  for (const ValueInfo& listed : initializer_inputs_) {
    if (FindInitializer(listed.name) == nullptr) {
      throw FormatError("graph input '" + listed.name +
                            "' is recorded as an initializer, but there is no "
                            "initializer of that name",
                        graph_context);
    }
  }
  for (const auto& node : nodes_) {
    const ErrorContext context = NodeErrorContext(*node, file);
    if (node->op_type().empty()) {
      throw FormatError("node has no op type", context);
    }
    for (const std::string& output : node->outputs()) {
      if (!output.empty()) {
        define(output, "node '" + node->Label() + "'", context);
      }
    }
  }

  auto defined = [&](const std::string& name) {
    return definer.count(name) != 0 || outer.count(name) != 0;
  };
  for (const auto& node : nodes_) {
    for (const std::string& input : node->inputs()) {
      if (!input.empty() && !defined(input)) {
        throw FormatError("input '" + input +
                              "' is not produced by any node, initializer or "
                              "graph input",
                          NodeErrorContext(*node, file));
      }
    }
  }
  for (const ValueInfo& output : outputs_) {
    if (output.name.empty()) {
      throw FormatError("a graph output has no name", graph_context);
    }
    if (!defined(output.name)) {
      throw FormatError("graph output '" + output.name +
                            "' is not produced by any node, initializer or "
                            "graph input",
                        graph_context);
    }
  }

  TopologicalIndices(file);

  std::unordered_set<std::string> inner_scope = outer;
  for (const auto& entry : definer) inner_scope.insert(entry.first);
  for (const auto& node : nodes_) {
    for (const Attribute& attribute : node->attributes()) {
      if (attribute.type() == AttributeType::kGraph) {
        attribute.g().VerifyInScope(inner_scope, file);
      } else if (attribute.type() == AttributeType::kGraphs) {
        for (const Graph& subgraph : attribute.graphs()) {
          subgraph.VerifyInScope(inner_scope, file);
        }
      }
    }
  }
}

}  // namespace foldrt::graph
