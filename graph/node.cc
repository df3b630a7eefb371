// Node (graph.h): an operator application, its attributes, and the
// bookkeeping that keeps its owning Graph's value index in step with every
// edit (EditConnections) and its derived facts (implicit inputs read by its
// subgraphs, the value of a Constant) up to date.
#include <algorithm>
#include <string>
#include <unordered_set>
#include <utility>
#include <vector>

#include "graph/graph.h"

namespace foldrt::graph {

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

}  // namespace foldrt::graph
