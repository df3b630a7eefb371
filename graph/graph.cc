#include "graph/graph.h"

#include <algorithm>
#include <functional>
#include <queue>

namespace foldrt::graph {

bool IsDefaultDomain(const std::string& domain) {
  return domain.empty() || domain == "ai.onnx";
}

// ---------------------------------------------------------------- Dim

Dim Dim::Known(int64_t value) {
  Dim dim;
  dim.kind = Kind::kKnown;
  dim.value = value;
  return dim;
}

Dim Dim::Symbolic(std::string symbol) {
  Dim dim;
  dim.kind = Kind::kSymbolic;
  dim.symbol = std::move(symbol);
  return dim;
}

Dim Dim::Unknown() { return Dim(); }

ValueInfo ValueInfo::ForTensor(std::string name, DataType dtype,
                               std::optional<std::vector<Dim>> shape) {
  ValueInfo info;
  info.name = std::move(name);
  info.has_tensor_type = true;
  info.dtype = dtype;
  info.shape = std::move(shape);
  return info;
}

// ---------------------------------------------------------------- Attribute

std::string AttributeTypeName(AttributeType type) {
  switch (type) {
    case AttributeType::kUndefined:
      return "UNDEFINED";
    case AttributeType::kFloat:
      return "FLOAT";
    case AttributeType::kInt:
      return "INT";
    case AttributeType::kString:
      return "STRING";
    case AttributeType::kTensor:
      return "TENSOR";
    case AttributeType::kGraph:
      return "GRAPH";
    case AttributeType::kFloats:
      return "FLOATS";
    case AttributeType::kInts:
      return "INTS";
    case AttributeType::kStrings:
      return "STRINGS";
    case AttributeType::kTensors:
      return "TENSORS";
    case AttributeType::kGraphs:
      return "GRAPHS";
    case AttributeType::kSparseTensor:
      return "SPARSE_TENSOR";
    case AttributeType::kSparseTensors:
      return "SPARSE_TENSORS";
    case AttributeType::kTypeProto:
      return "TYPE_PROTO";
    case AttributeType::kTypeProtos:
      return "TYPE_PROTOS";
  }
  return "AttributeType(" + std::to_string(static_cast<int32_t>(type)) + ")";
}

Attribute::Attribute(std::string name, AttributeType type)
    : name_(std::move(name)), type_(type) {}

Attribute::Attribute(const Attribute& other) = default;
Attribute::Attribute(Attribute&& other) noexcept = default;
Attribute& Attribute::operator=(const Attribute& other) = default;
Attribute& Attribute::operator=(Attribute&& other) noexcept = default;
Attribute::~Attribute() = default;

Attribute Attribute::Float(std::string name, float value) {
  Attribute attribute(std::move(name), AttributeType::kFloat);
  attribute.value_ = value;
  return attribute;
}

Attribute Attribute::Int(std::string name, int64_t value) {
  Attribute attribute(std::move(name), AttributeType::kInt);
  attribute.value_ = value;
  return attribute;
}

Attribute Attribute::String(std::string name, std::string value) {
  Attribute attribute(std::move(name), AttributeType::kString);
  attribute.value_ = std::move(value);
  return attribute;
}

Attribute Attribute::FromTensor(std::string name, Tensor value) {
  Attribute attribute(std::move(name), AttributeType::kTensor);
  attribute.value_ = std::move(value);
  return attribute;
}

Attribute Attribute::FromGraph(std::string name, Graph value) {
  Attribute attribute(std::move(name), AttributeType::kGraph);
  attribute.graphs_.push_back(std::move(value));
  return attribute;
}

Attribute Attribute::Floats(std::string name, std::vector<float> values) {
  Attribute attribute(std::move(name), AttributeType::kFloats);
  attribute.value_ = std::move(values);
  return attribute;
}

Attribute Attribute::Ints(std::string name, std::vector<int64_t> values) {
  Attribute attribute(std::move(name), AttributeType::kInts);
  attribute.value_ = std::move(values);
  return attribute;
}

Attribute Attribute::Strings(std::string name,
                             std::vector<std::string> values) {
  Attribute attribute(std::move(name), AttributeType::kStrings);
  attribute.value_ = std::move(values);
  return attribute;
}

Attribute Attribute::Tensors(std::string name, std::vector<Tensor> values) {
  Attribute attribute(std::move(name), AttributeType::kTensors);
  attribute.value_ = std::move(values);
  return attribute;
}

Attribute Attribute::Graphs(std::string name, std::vector<Graph> values) {
  Attribute attribute(std::move(name), AttributeType::kGraphs);
  attribute.graphs_ = std::move(values);
  return attribute;
}

Attribute Attribute::SerializedProto(std::string name, AttributeType type,
                                     std::string bytes) {
  if (type != AttributeType::kSparseTensor &&
      type != AttributeType::kTypeProto) {
    throw InvalidArgumentError("attribute '" + name +
                               "': " + AttributeTypeName(type) +
                               " is not a single serialized-proto type");
  }
  Attribute attribute(std::move(name), type);
  attribute.value_ = std::move(bytes);
  return attribute;
}

Attribute Attribute::SerializedProtos(std::string name, AttributeType type,
                                      std::vector<std::string> bytes) {
  if (type != AttributeType::kSparseTensors &&
      type != AttributeType::kTypeProtos) {
    throw InvalidArgumentError("attribute '" + name +
                               "': " + AttributeTypeName(type) +
                               " is not a serialized-proto list type");
  }
  Attribute attribute(std::move(name), type);
  attribute.value_ = std::move(bytes);
  return attribute;
}

void Attribute::CheckType(AttributeType expected) const {
  if (type_ != expected) {
    throw InvalidArgumentError("attribute '" + name_ + "' is " +
                               AttributeTypeName(type_) + ", not " +
                               AttributeTypeName(expected));
  }
}

void Attribute::CheckType(AttributeType expected_one,
                          AttributeType expected_two) const {
  if (type_ != expected_one && type_ != expected_two) {
    throw InvalidArgumentError("attribute '" + name_ + "' is " +
                               AttributeTypeName(type_) + ", not " +
                               AttributeTypeName(expected_one) + " or " +
                               AttributeTypeName(expected_two));
  }
}

float Attribute::f() const {
  CheckType(AttributeType::kFloat);
  return std::get<float>(value_);
}

int64_t Attribute::i() const {
  CheckType(AttributeType::kInt);
  return std::get<int64_t>(value_);
}

const std::string& Attribute::s() const {
  CheckType(AttributeType::kString);
  return std::get<std::string>(value_);
}

const Tensor& Attribute::t() const {
  CheckType(AttributeType::kTensor);
  return std::get<Tensor>(value_);
}

const Graph& Attribute::g() const {
  CheckType(AttributeType::kGraph);
  return graphs_.front();
}

const std::vector<float>& Attribute::floats() const {
  CheckType(AttributeType::kFloats);
  return std::get<std::vector<float>>(value_);
}

const std::vector<int64_t>& Attribute::ints() const {
  CheckType(AttributeType::kInts);
  return std::get<std::vector<int64_t>>(value_);
}

const std::vector<std::string>& Attribute::strings() const {
  CheckType(AttributeType::kStrings);
  return std::get<std::vector<std::string>>(value_);
}

const std::vector<Tensor>& Attribute::tensors() const {
  CheckType(AttributeType::kTensors);
  return std::get<std::vector<Tensor>>(value_);
}

const std::vector<Graph>& Attribute::graphs() const {
  CheckType(AttributeType::kGraphs);
  return graphs_;
}

const std::string& Attribute::serialized_proto() const {
  CheckType(AttributeType::kSparseTensor, AttributeType::kTypeProto);
  return std::get<std::string>(value_);
}

const std::vector<std::string>& Attribute::serialized_protos() const {
  CheckType(AttributeType::kSparseTensors, AttributeType::kTypeProtos);
  return std::get<std::vector<std::string>>(value_);
}

// ---------------------------------------------------------------- Node

Node::Node(std::string op_type, std::vector<std::string> inputs,
           std::vector<std::string> outputs, std::string name,
           std::string domain)
    : name_(std::move(name)),
      op_type_(std::move(op_type)),
      domain_(std::move(domain)),
      inputs_(std::move(inputs)),
      outputs_(std::move(outputs)) {
  UpdateDerived();
}

Node::Node(const Node& other)
    : name_(other.name_),
      op_type_(other.op_type_),
      domain_(other.domain_),
      inputs_(other.inputs_),
      outputs_(other.outputs_),
      attributes_(other.attributes_),
      doc_string_(other.doc_string_),
      unknown_fields_(other.unknown_fields_),
      implicit_inputs_(other.implicit_inputs_),
      built_constant_(other.built_constant_) {}

Node::Node(Node&& other)
    : name_(other.name_),
      op_type_(other.op_type_),
      domain_(other.domain_),
      doc_string_(other.doc_string_),
      unknown_fields_(other.unknown_fields_) {
  // Emptying a node that a graph owns would leave the graph's index
  // pointing at names the node no longer has, so only detached nodes give
  // up their contents (attribute tensors included, without a copy); an
  // owned one is copied.
  if (other.owner_ == nullptr) {
    inputs_ = std::move(other.inputs_);
    outputs_ = std::move(other.outputs_);
    attributes_ = std::move(other.attributes_);
    implicit_inputs_ = std::move(other.implicit_inputs_);
    built_constant_ = std::move(other.built_constant_);
    other.inputs_.clear();
    other.outputs_.clear();
    other.attributes_.clear();
    other.implicit_inputs_.clear();
    other.built_constant_.reset();
  } else {
    inputs_ = other.inputs_;
    outputs_ = other.outputs_;
    attributes_ = other.attributes_;
    implicit_inputs_ = other.implicit_inputs_;
    built_constant_ = other.built_constant_;
  }
}

Node::~Node() = default;

template <typename Edit>
void Node::EditConnections(Edit edit) {
  if (owner_ == nullptr) {
    edit();
    return;
  }
  owner_->Unregister(this);
  try {
    edit();
  } catch (...) {
    owner_->Register(this);
    throw;
  }
  owner_->Register(this);
}

void Node::set_op_type(std::string op_type) {
  op_type_ = std::move(op_type);
  UpdateDerived();
}

void Node::set_domain(std::string domain) {
  domain_ = std::move(domain);
  UpdateDerived();
}

std::string Node::Label() const {
  if (!name_.empty()) return name_;
  if (!outputs_.empty() && !outputs_[0].empty()) {
    return "(unnamed, output '" + outputs_[0] + "')";
  }
  return "(unnamed)";
}

void Node::SetInput(size_t index, std::string value) {
  if (index >= inputs_.size()) {
    throw InvalidArgumentError("input index " + std::to_string(index) +
                                   " out of range (" +
                                   std::to_string(inputs_.size()) + " inputs)",
                               NodeErrorContext(*this));
  }
  EditConnections([&] { inputs_[index] = std::move(value); });
}

void Node::SetInputs(std::vector<std::string> values) {
  EditConnections([&] { inputs_ = std::move(values); });
}

void Node::SetOutput(size_t index, std::string value) {
  if (index >= outputs_.size()) {
    throw InvalidArgumentError(
        "output index " + std::to_string(index) + " out of range (" +
            std::to_string(outputs_.size()) + " outputs)",
        NodeErrorContext(*this));
  }
  EditConnections([&] { outputs_[index] = std::move(value); });
}

void Node::SetOutputs(std::vector<std::string> values) {
  EditConnections([&] { outputs_ = std::move(values); });
}

const Attribute* Node::FindAttribute(const std::string& name) const {
  for (const Attribute& attribute : attributes_) {
    if (attribute.name() == name) return &attribute;
  }
  return nullptr;
}

void Node::SetAttribute(Attribute attribute) {
  EditConnections([&] {
    auto it = std::find_if(
        attributes_.begin(), attributes_.end(),
        [&](const Attribute& a) { return a.name() == attribute.name(); });
    if (it != attributes_.end()) {
      *it = std::move(attribute);
    } else {
      attributes_.push_back(std::move(attribute));
    }
    UpdateDerived();
  });
}

bool Node::RemoveAttribute(const std::string& name) {
  bool removed = false;
  EditConnections([&] {
    auto it =
        std::find_if(attributes_.begin(), attributes_.end(),
                     [&](const Attribute& a) { return a.name() == name; });
    if (it == attributes_.end()) return;
    attributes_.erase(it);
    removed = true;
    UpdateDerived();
  });
  return removed;
}

namespace {

// Reads attribute `name` of `node` through `read`, mapping a type mismatch
// to a FormatError that names the node.
template <typename T, typename Read>
T GetTyped(const Node& node, const std::string& name, AttributeType expected,
           T default_value, Read read) {
  const Attribute* attribute = node.FindAttribute(name);
  if (attribute == nullptr) return default_value;
  if (attribute->type() != expected) {
    throw FormatError("attribute '" + name + "' is " +
                          AttributeTypeName(attribute->type()) + ", expected " +
                          AttributeTypeName(expected),
                      NodeErrorContext(node));
  }
  return read(*attribute);
}

}  // namespace

float Node::GetFloat(const std::string& name, float default_value) const {
  return GetTyped<float>(*this, name, AttributeType::kFloat, default_value,
                         [](const Attribute& a) { return a.f(); });
}

int64_t Node::GetInt(const std::string& name, int64_t default_value) const {
  return GetTyped<int64_t>(*this, name, AttributeType::kInt, default_value,
                           [](const Attribute& a) { return a.i(); });
}

std::string Node::GetString(const std::string& name,
                            const std::string& default_value) const {
  return GetTyped<std::string>(*this, name, AttributeType::kString,
                               default_value,
                               [](const Attribute& a) { return a.s(); });
}

std::vector<float> Node::GetFloats(const std::string& name,
                                   std::vector<float> default_value) const {
  return GetTyped<std::vector<float>>(
      *this, name, AttributeType::kFloats, std::move(default_value),
      [](const Attribute& a) { return a.floats(); });
}

std::vector<int64_t> Node::GetInts(const std::string& name,
                                   std::vector<int64_t> default_value) const {
  return GetTyped<std::vector<int64_t>>(
      *this, name, AttributeType::kInts, std::move(default_value),
      [](const Attribute& a) { return a.ints(); });
}

const Tensor* Node::ConstantValue() const {
  if (op_type_ != "Constant" || !IsDefaultDomain(domain_)) return nullptr;
  const Attribute* value = FindAttribute("value");
  if (value != nullptr && value->type() == AttributeType::kTensor) {
    return &value->t();
  }
  return built_constant_ ? &*built_constant_ : nullptr;
}

void Node::UpdateDerived() {
  implicit_inputs_.clear();
  std::unordered_set<std::string> seen;
  auto collect = [&](const Graph& subgraph) {
    for (std::string& name : subgraph.OuterScopeReferences()) {
      if (seen.insert(name).second) implicit_inputs_.push_back(std::move(name));
    }
  };
  for (const Attribute& attribute : attributes_) {
    if (attribute.type() == AttributeType::kGraph) collect(attribute.g());
    if (attribute.type() == AttributeType::kGraphs) {
      for (const Graph& subgraph : attribute.graphs()) collect(subgraph);
    }
  }

  built_constant_.reset();
  if (op_type_ != "Constant" || !IsDefaultDomain(domain_)) return;
  for (const Attribute& attribute : attributes_) {
    const std::string& name = attribute.name();
    const AttributeType type = attribute.type();
    if (name == "value_float" && type == AttributeType::kFloat) {
      built_constant_ = Tensor::FromFloats("", {}, {attribute.f()});
    } else if (name == "value_floats" && type == AttributeType::kFloats) {
      const std::vector<float>& values = attribute.floats();
      built_constant_ =
          Tensor::FromFloats("", {static_cast<int64_t>(values.size())}, values);
    } else if (name == "value_int" && type == AttributeType::kInt) {
      built_constant_ = Tensor::FromInt64s("", {}, {attribute.i()});
    } else if (name == "value_ints" && type == AttributeType::kInts) {
      const std::vector<int64_t>& values = attribute.ints();
      built_constant_ =
          Tensor::FromInt64s("", {static_cast<int64_t>(values.size())}, values);
    } else if (name == "value_string" && type == AttributeType::kString) {
      built_constant_ = Tensor::FromStrings("", {}, {attribute.s()});
    } else if (name == "value_strings" && type == AttributeType::kStrings) {
      const std::vector<std::string>& values = attribute.strings();
      built_constant_ = Tensor::FromStrings(
          "", {static_cast<int64_t>(values.size())}, values);
    }
  }
}

ErrorContext NodeErrorContext(const Node& node, const std::string& file) {
  return ErrorContext{file, node.Label(), node.op_type()};
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
