// Graph (graph.h): the container of nodes, initializers and declared values,
// the index of who produces and who reads each value, the lookups passes use
// (producers, uses, constants through Identity/Constant chains), fresh
// names, and renaming reads. Topological order and Verify are in
// graph_order.cc; Node in node.cc; Dim, ValueInfo and Attribute in
// attribute.cc.
#include "graph/graph.h"

#include <algorithm>
#include <memory>
#include <string>
#include <unordered_set>
#include <utility>
#include <vector>

namespace foldrt::graph {

bool IsDefaultDomain(const std::string& domain) {
  return domain.empty() || domain == "ai.onnx";
}

// ---------------------------------------------------------------- Graph

Graph::Graph() = default;

Graph::Graph(const Graph& other)
    : name_(other.name_),
      doc_string_(other.doc_string_),
      unknown_fields_(other.unknown_fields_),
      sparse_initializers_(other.sparse_initializers_),
      inputs_(other.inputs_),
      initializer_inputs_(other.initializer_inputs_),
      outputs_(other.outputs_),
      value_info_(other.value_info_),
      quantization_annotations_(other.quantization_annotations_) {
  initializers_.reserve(other.initializers_.size());
  for (const auto& tensor : other.initializers_) {
    initializers_.push_back(std::make_unique<Tensor>(*tensor));
  }
  RebuildInitializerIndex();
  nodes_.reserve(other.nodes_.size());
  for (const auto& node : other.nodes_) AddNode(*node);
}

Graph::Graph(Graph&& other) noexcept
    : name_(std::move(other.name_)),
      doc_string_(std::move(other.doc_string_)),
      unknown_fields_(std::move(other.unknown_fields_)),
      nodes_(std::move(other.nodes_)),
      initializers_(std::move(other.initializers_)),
      initializer_by_name_(std::move(other.initializer_by_name_)),
      sparse_initializers_(std::move(other.sparse_initializers_)),
      inputs_(std::move(other.inputs_)),
      initializer_inputs_(std::move(other.initializer_inputs_)),
      outputs_(std::move(other.outputs_)),
      value_info_(std::move(other.value_info_)),
      quantization_annotations_(std::move(other.quantization_annotations_)),
      producers_(std::move(other.producers_)),
      uses_(std::move(other.uses_)) {
  for (auto& node : nodes_) node->owner_ = this;
}

Graph& Graph::operator=(const Graph& other) {
  if (this != &other) *this = Graph(other);
  return *this;
}

Graph& Graph::operator=(Graph&& other) noexcept {
  if (this == &other) return *this;
  name_ = std::move(other.name_);
  doc_string_ = std::move(other.doc_string_);
  unknown_fields_ = std::move(other.unknown_fields_);
  nodes_ = std::move(other.nodes_);
  initializers_ = std::move(other.initializers_);
  initializer_by_name_ = std::move(other.initializer_by_name_);
  sparse_initializers_ = std::move(other.sparse_initializers_);
  inputs_ = std::move(other.inputs_);
  initializer_inputs_ = std::move(other.initializer_inputs_);
  outputs_ = std::move(other.outputs_);
  value_info_ = std::move(other.value_info_);
  quantization_annotations_ = std::move(other.quantization_annotations_);
  producers_ = std::move(other.producers_);
  uses_ = std::move(other.uses_);
  for (auto& node : nodes_) node->owner_ = this;
  return *this;
}

Graph::~Graph() = default;

std::vector<const Node*> Graph::nodes() const {
  std::vector<const Node*> out;
  out.reserve(nodes_.size());
  for (const auto& node : nodes_) out.push_back(node.get());
  return out;
}

std::vector<Node*> Graph::mutable_nodes() {
  std::vector<Node*> out;
  out.reserve(nodes_.size());
  for (const auto& node : nodes_) out.push_back(node.get());
  return out;
}

Node* Graph::AddNode(Node node) {
  auto owned = std::make_unique<Node>(std::move(node));
  Node* added = owned.get();
  nodes_.push_back(std::move(owned));
  added->owner_ = this;
  Register(added);
  return added;
}

std::unique_ptr<Node> Graph::RemoveNode(const Node* node) {
  auto it = std::find_if(nodes_.begin(), nodes_.end(), [&](const auto& owned) {
    return owned.get() == node;
  });
  if (it == nodes_.end()) {
    throw InvalidArgumentError("node is not in this graph",
                               node ? NodeErrorContext(*node) : ErrorContext{});
  }
  std::unique_ptr<Node> removed = std::move(*it);
  nodes_.erase(it);
  Unregister(removed.get());
  removed->owner_ = nullptr;
  return removed;
}

void Graph::Register(Node* node) {
  for (size_t i = 0; i < node->inputs_.size(); ++i) {
    if (node->inputs_[i].empty()) continue;
    uses_[node->inputs_[i]].push_back(Use{node, static_cast<int>(i)});
  }
  for (const std::string& value : node->implicit_inputs_) {
    uses_[value].push_back(Use{node, Use::kImplicit});
  }
  for (const std::string& value : node->outputs_) {
    if (!value.empty()) producers_[value].push_back(node);
  }
}

void Graph::Unregister(Node* node) {
  auto drop_uses = [&](const std::string& value) {
    auto it = uses_.find(value);
    if (it == uses_.end()) return;
    std::vector<Use>& uses = it->second;
    uses.erase(std::remove_if(uses.begin(), uses.end(),
                              [&](const Use& use) { return use.node == node; }),
               uses.end());
    if (uses.empty()) uses_.erase(it);
  };
  for (const std::string& value : node->inputs_) {
    if (!value.empty()) drop_uses(value);
  }
  for (const std::string& value : node->implicit_inputs_) drop_uses(value);
  for (const std::string& value : node->outputs_) {
    auto it = producers_.find(value);
    if (it == producers_.end()) continue;
    std::vector<Node*>& producers = it->second;
    producers.erase(std::remove(producers.begin(), producers.end(), node),
                    producers.end());
    if (producers.empty()) producers_.erase(it);
  }
}

void Graph::RebuildInitializerIndex() {
  initializer_by_name_.clear();
  for (const auto& tensor : initializers_) {
    // emplace keeps the first of duplicated names; Verify reports them.
    initializer_by_name_.emplace(tensor->name(), tensor.get());
  }
}

const Tensor* Graph::FindInitializer(const std::string& name) const {
  auto it = initializer_by_name_.find(name);
  return it == initializer_by_name_.end() ? nullptr : it->second;
}

Tensor* Graph::MutableInitializer(const std::string& name) {
  auto it = initializer_by_name_.find(name);
  return it == initializer_by_name_.end() ? nullptr : it->second;
}

Tensor* Graph::AddInitializer(Tensor tensor) {
  if (tensor.name().empty()) {
    throw InvalidArgumentError("an initializer needs a name");
  }
  if (initializer_by_name_.count(tensor.name()) != 0) {
    throw InvalidArgumentError("initializer '" + tensor.name() +
                               "' already exists");
  }
  initializers_.push_back(std::make_unique<Tensor>(std::move(tensor)));
  Tensor* added = initializers_.back().get();
  initializer_by_name_.emplace(added->name(), added);
  return added;
}

bool Graph::RemoveInitializer(const std::string& name) {
  auto it =
      std::find_if(initializers_.begin(), initializers_.end(),
                   [&](const auto& tensor) { return tensor->name() == name; });
  if (it == initializers_.end()) return false;
  initializers_.erase(it);
  RebuildInitializerIndex();
  initializer_inputs_.erase(
      std::remove_if(initializer_inputs_.begin(), initializer_inputs_.end(),
                     [&](const ValueInfo& info) { return info.name == name; }),
      initializer_inputs_.end());
  return true;
}

const Node* Graph::Producer(const std::string& value) const {
  auto it = producers_.find(value);
  return it == producers_.end() ? nullptr : it->second.front();
}

Node* Graph::Producer(const std::string& value) {
  auto it = producers_.find(value);
  return it == producers_.end() ? nullptr : it->second.front();
}

const std::vector<Use>& Graph::Uses(const std::string& value) const {
  static const std::vector<Use> kNoUses;
  auto it = uses_.find(value);
  return it == uses_.end() ? kNoUses : it->second;
}

std::vector<const Node*> Graph::Consumers(const std::string& value) const {
  std::vector<const Node*> consumers;
  for (const Use& use : Uses(value)) {
    if (std::find(consumers.begin(), consumers.end(), use.node) ==
        consumers.end()) {
      consumers.push_back(use.node);
    }
  }
  return consumers;
}

bool Graph::IsGraphOutput(const std::string& value) const {
  return std::any_of(outputs_.begin(), outputs_.end(),
                     [&](const ValueInfo& info) { return info.name == value; });
}

bool Graph::IsGraphInput(const std::string& value) const {
  return std::any_of(inputs_.begin(), inputs_.end(),
                     [&](const ValueInfo& info) { return info.name == value; });
}

const Tensor* Graph::GetConstant(const std::string& value) const {
  std::string current = value;
  // Each hop passes one Identity node, so more hops than nodes means the
  // Identity chain loops (a malformed graph).
  for (size_t hops = 0; hops <= nodes_.size(); ++hops) {
    if (const Tensor* tensor = FindInitializer(current)) return tensor;
    const Node* producer = Producer(current);
    if (producer == nullptr || !IsDefaultDomain(producer->domain())) {
      return nullptr;
    }
    if (producer->op_type() == "Constant") return producer->ConstantValue();
    if (producer->op_type() != "Identity" || !producer->has_input(0)) {
      return nullptr;
    }
    current = producer->input(0);
  }
  return nullptr;
}

const ValueInfo* Graph::FindValueInfo(const std::string& value) const {
  for (const auto* list :
       {&inputs_, &outputs_, &value_info_, &initializer_inputs_}) {
    for (const ValueInfo& info : *list) {
      if (info.name == value) return &info;
    }
  }
  return nullptr;
}

std::vector<std::string> Graph::OuterScopeReferences() const {
  auto defined_here = [&](const std::string& name) {
    if (producers_.count(name) != 0 || FindInitializer(name) != nullptr) {
      return true;
    }
    for (const auto* list : {&inputs_, &initializer_inputs_}) {
      for (const ValueInfo& info : *list) {
        if (info.name == name) return true;
      }
    }
    return std::any_of(
        sparse_initializers_.begin(), sparse_initializers_.end(),
        [&](const SparseInitializer& sparse) { return sparse.name == name; });
  };
  std::vector<std::string> references;
  std::unordered_set<std::string> seen;
  auto consider = [&](const std::string& name) {
    if (name.empty() || defined_here(name)) return;
    if (seen.insert(name).second) references.push_back(name);
  };
  for (const auto& node : nodes_) {
    for (const std::string& input : node->inputs()) consider(input);
    for (const std::string& input : node->implicit_inputs()) consider(input);
  }
  for (const ValueInfo& output : outputs_) consider(output.name);
  return references;
}

std::string Graph::UniqueValueName(const std::string& base) const {
  auto taken = [&](const std::string& name) {
    if (producers_.count(name) != 0 || uses_.count(name) != 0 ||
        initializer_by_name_.count(name) != 0) {
      return true;
    }
    for (const auto* list :
         {&inputs_, &initializer_inputs_, &outputs_, &value_info_}) {
      for (const ValueInfo& info : *list) {
        if (info.name == name) return true;
      }
    }
    return std::any_of(
        sparse_initializers_.begin(), sparse_initializers_.end(),
        [&](const SparseInitializer& sparse) { return sparse.name == name; });
  };
  if (!taken(base)) return base;
  for (size_t suffix = 1;; ++suffix) {
    std::string candidate = base + "_" + std::to_string(suffix);
    if (!taken(candidate)) return candidate;
  }
}

std::string Graph::UniqueNodeName(const std::string& base) const {
  std::unordered_set<std::string> names;
  for (const auto& node : nodes_) names.insert(node->name());
  if (names.count(base) == 0) return base;
  for (size_t suffix = 1;; ++suffix) {
    std::string candidate = base + "_" + std::to_string(suffix);
    if (names.count(candidate) == 0) return candidate;
  }
}

void Graph::ReplaceAllUses(const std::string& old_value,
                           const std::string& new_value) {
  if (old_value == new_value) return;
  RenameReads(old_value, new_value, /*rename_graph_outputs=*/false);
}

void Graph::RenameReads(const std::string& old_value,
                        const std::string& new_value,
                        bool rename_graph_outputs) {
  // Copy: renaming a node's input edits the use list being walked.
  const std::vector<Use> uses = Uses(old_value);
  std::vector<Node*> readers;
  for (const Use& use : uses) {
    if (std::find(readers.begin(), readers.end(), use.node) == readers.end()) {
      readers.push_back(use.node);
    }
  }
  for (Node* node : readers) {
    std::vector<std::string> inputs = node->inputs();
    std::replace(inputs.begin(), inputs.end(), old_value, new_value);
    if (inputs != node->inputs()) node->SetInputs(std::move(inputs));

    const std::vector<std::string>& implicit = node->implicit_inputs();
    if (std::find(implicit.begin(), implicit.end(), old_value) ==
        implicit.end()) {
      continue;
    }
    // SetAttribute replaces in place, so indices stay valid while looping.
    for (size_t i = 0; i < node->attributes().size(); ++i) {
      const Attribute& attribute = node->attributes()[i];
      if (attribute.type() != AttributeType::kGraph &&
          attribute.type() != AttributeType::kGraphs) {
        continue;
      }
      Attribute renamed = attribute;
      for (Graph& subgraph : renamed.graphs_) {
        const std::vector<std::string> references =
            subgraph.OuterScopeReferences();
        if (std::find(references.begin(), references.end(), old_value) !=
            references.end()) {
          subgraph.RenameReads(old_value, new_value,
                               /*rename_graph_outputs=*/true);
        }
      }
      node->SetAttribute(std::move(renamed));
    }
  }
  if (rename_graph_outputs) {
    for (ValueInfo& output : outputs_) {
      if (output.name == old_value) output.name = new_value;
    }
  }
}

// ---------------------------------------------------------------- Model

int64_t OpsetVersion(const Model& model, const std::string& domain) {
  const bool want_default = IsDefaultDomain(domain);
  for (const OpsetImport& opset : model.opset_imports) {
    if (want_default ? IsDefaultDomain(opset.domain) : opset.domain == domain) {
      return opset.version;
    }
  }
  return 0;
}

void VerifyModel(const Model& model) { model.graph.Verify(model.source); }

}  // namespace foldrt::graph
