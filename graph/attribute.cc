// The value types of the graph IR: Dim and ValueInfo (a value's type and
// shape) and Attribute (a node attribute of any ONNX kind). Node is in
// node.cc, Graph in graph.cc; all are declared in graph.h.
#include <iterator>
#include <string>
#include <utility>
#include <vector>

#include "graph/graph.h"

namespace foldrt::graph {

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
  // Indexed by the ONNX code; one name per enumerator, in order.
  static constexpr const char* kNames[] = {
      "UNDEFINED",      "FLOAT",      "INT",        "STRING",
      "TENSOR",         "GRAPH",      "FLOATS",     "INTS",
      "STRINGS",        "TENSORS",    "GRAPHS",     "SPARSE_TENSOR",
      "SPARSE_TENSORS", "TYPE_PROTO", "TYPE_PROTOS"};
  static_assert(
      std::size(kNames) == static_cast<size_t>(AttributeType::kTypeProtos) + 1,
      "one name per AttributeType");
  const auto code = static_cast<int32_t>(type);
  if (code >= 0 && static_cast<size_t>(code) < std::size(kNames)) {
    return kNames[code];
  }
  return "AttributeType(" + std::to_string(code) + ")";
}

Attribute::Attribute(std::string name, AttributeType type)
    : name_(std::move(name)), type_(type) {}

template <typename Value>
Attribute Attribute::WithValue(std::string name, AttributeType type,
                               Value value) {
  Attribute attribute(std::move(name), type);
  attribute.value_ = std::move(value);
  return attribute;
}

Attribute::Attribute(const Attribute& other) = default;
Attribute::Attribute(Attribute&& other) noexcept = default;
Attribute& Attribute::operator=(const Attribute& other) = default;
Attribute& Attribute::operator=(Attribute&& other) noexcept = default;
Attribute::~Attribute() = default;

Attribute Attribute::Float(std::string name, float value) {
  return WithValue(std::move(name), AttributeType::kFloat, value);
}

Attribute Attribute::Int(std::string name, int64_t value) {
  return WithValue(std::move(name), AttributeType::kInt, value);
}

Attribute Attribute::String(std::string name, std::string value) {
  return WithValue(std::move(name), AttributeType::kString, std::move(value));
}

Attribute Attribute::FromTensor(std::string name, Tensor value) {
  return WithValue(std::move(name), AttributeType::kTensor, std::move(value));
}

Attribute Attribute::FromGraph(std::string name, Graph value) {
  Attribute attribute(std::move(name), AttributeType::kGraph);
  attribute.graphs_.push_back(std::move(value));
  return attribute;
}

Attribute Attribute::Floats(std::string name, std::vector<float> values) {
  return WithValue(std::move(name), AttributeType::kFloats, std::move(values));
}

Attribute Attribute::Ints(std::string name, std::vector<int64_t> values) {
  return WithValue(std::move(name), AttributeType::kInts, std::move(values));
}

Attribute Attribute::Strings(std::string name,
                             std::vector<std::string> values) {
  return WithValue(std::move(name), AttributeType::kStrings, std::move(values));
}

Attribute Attribute::Tensors(std::string name, std::vector<Tensor> values) {
  return WithValue(std::move(name), AttributeType::kTensors, std::move(values));
}

Attribute Attribute::Graphs(std::string name, std::vector<Graph> values) {
  Attribute attribute(std::move(name), AttributeType::kGraphs);
  attribute.graphs_ = std::move(values);
  return attribute;
}

namespace {

// InvalidArgumentError unless `type` is `sparse` or `type_proto` (the kinds
// foldrt keeps as serialized protos); `kind` is the expected kind, for the
// message.
void CheckSerializedType(const std::string& name, AttributeType type,
                         AttributeType sparse, AttributeType type_proto,
                         const std::string& kind) {
  if (type != sparse && type != type_proto) {
    throw InvalidArgumentError("attribute '" + name + "': " +
                               AttributeTypeName(type) + " is not " + kind);
  }
}

}  // namespace

Attribute Attribute::SerializedProto(std::string name, AttributeType type,
                                     std::string bytes) {
  CheckSerializedType(name, type, AttributeType::kSparseTensor,
                      AttributeType::kTypeProto,
                      "a single serialized-proto type");
  return WithValue(std::move(name), type, std::move(bytes));
}

Attribute Attribute::SerializedProtos(std::string name, AttributeType type,
                                      std::vector<std::string> bytes) {
  CheckSerializedType(name, type, AttributeType::kSparseTensors,
                      AttributeType::kTypeProtos,
                      "a serialized-proto list type");
  return WithValue(std::move(name), type, std::move(bytes));
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

}  // namespace foldrt::graph
