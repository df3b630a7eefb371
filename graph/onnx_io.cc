// The one foldrt source file that includes the ONNX protobuf headers (see
// DESIGN.md, "Layers").
#include "graph/onnx_io.h"

#include <fcntl.h>
#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/unknown_field_set.h>
#include <onnx/onnx_pb.h>
#include <onnx/shape_inference/implementation.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <unordered_set>
#include <utility>
#include <vector>

#include "core/error.h"
#include "core/logging.h"

namespace foldrt::graph {
namespace {

namespace fs = std::filesystem;
using google::protobuf::io::CodedInputStream;

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
              "tensor bytes are copied as ONNX's little-endian raw_data");

// ------------------------------------------------------------- shared bits

std::string TensorLabel(const std::string& name) {
  return name.empty() ? "tensor" : "tensor '" + name + "'";
}

std::string ShapeText(const std::vector<int64_t>& dims) {
  std::string text = "[";
  for (size_t i = 0; i < dims.size(); ++i) {
    if (i != 0) text += ",";
    text += std::to_string(dims[i]);
  }
  return text + "]";
}

// Fields of a newer ONNX schema than the one foldrt is built against arrive
// as protobuf unknown fields; keeping them serialized lets export restore
// them.
template <typename Message>
std::string SaveUnknownFields(const Message& message) {
  std::string bytes;
  if (!message.unknown_fields().empty()) {
    message.unknown_fields().SerializeToString(&bytes);
  }
  return bytes;
}

template <typename Message>
void RestoreUnknownFields(const std::string& bytes, Message* message,
                          const ErrorContext& where) {
  if (bytes.empty()) return;
  if (!message->mutable_unknown_fields()->ParseFromString(bytes)) {
    throw FormatError("corrupt preserved protobuf fields", where);
  }
}

template <typename Message>
void ParseSerialized(const std::string& bytes, Message* message,
                     const std::string& what, const ErrorContext& where) {
  if (!message->ParseFromString(bytes)) {
    throw FormatError(what + " does not hold a valid serialized ONNX message",
                      where);
  }
}

// -------------------------------------------------------------- importing

struct ImportContext {
  std::string file;
  // Canonical folder of the model file; unset for models parsed from memory.
  std::optional<fs::path> base_dir;
  // Imported operator domains, the default one spelled "".
  std::unordered_set<std::string> domains;
  ImportLimits limits;
  // Bytes read so far (the model file, then external data), checked against
  // limits.max_model_bytes before each external read. Mutable: the import
  // functions share the context by const reference.
  mutable uint64_t bytes_read = 0;
  // Subgraphs (If/Loop/Scan bodies) enclosing the graph being imported.
  mutable int subgraph_depth = 0;
};

// Real models nest control flow a few levels deep at most. The bound keeps
// hostile files from hanging the import: copying a graph IR copies every
// nested subgraph at a cost that doubles per level (Node's move constructor
// copies), and the fuzzer found a 100-deep If chain that never finished.
constexpr int kMaxSubgraphDepth = 8;

std::string LimitText(uint64_t limit, const char* unit) {
  return "foldrt's limit of " + std::to_string(limit) + " " + unit;
}

std::string NormalizedDomain(const std::string& domain) {
  return IsDefaultDomain(domain) ? std::string() : domain;
}

// Parses a non-negative decimal integer from an external_data entry.
int64_t ParseExternalDataNumber(const std::string& key, const std::string& text,
                                const std::string& tensor,
                                const ErrorContext& where) {
  int64_t value = 0;
  bool valid = !text.empty();
  for (char c : text) {
    if (c < '0' || c > '9' || value > (INT64_MAX - (c - '0')) / 10) {
      valid = false;
      break;
    }
    value = value * 10 + (c - '0');
  }
  if (!valid) {
    throw FormatError(TensorLabel(tensor) + ": external data " + key + " '" +
                          text + "' is not a non-negative integer",
                      where);
  }
  return value;
}

// True when `path` names `dir` itself or something below it; both must be
// absolute and normalized.
bool IsWithin(const fs::path& dir, const fs::path& path) {
  const fs::path relative = path.lexically_relative(dir);
  return !relative.empty() && *relative.begin() != "..";
}

std::string ReadExternalData(const onnx::TensorProto& proto,
                             int64_t expected_bytes, const ImportContext& ctx,
                             const ErrorContext& where) {
  const std::string& name = proto.name();
  if (!ctx.base_dir) {
    throw UnsupportedError(TensorLabel(name) +
                               " keeps its data in an external file, which "
                               "needs the model loaded from its file",
                           where);
  }
  std::optional<std::string> location;
  std::optional<std::string> offset_text;
  std::optional<std::string> length_text;
  for (const onnx::StringStringEntryProto& entry : proto.external_data()) {
    if (entry.key() == "location") location = entry.value();
    if (entry.key() == "offset") offset_text = entry.value();
    if (entry.key() == "length") length_text = entry.value();
  }
  if (!location || location->empty()) {
    throw FormatError(
        TensorLabel(name) + " has external data without a location", where);
  }
  const fs::path relative(*location);
  if (relative.is_absolute()) {
    throw FormatError(TensorLabel(name) + ": external data location '" +
                          *location +
                          "' is an absolute path; it must be relative to the "
                          "model's folder",
                      where);
  }
  const fs::path lexical = (*ctx.base_dir / relative).lexically_normal();
  if (!IsWithin(*ctx.base_dir, lexical)) {
    throw FormatError(TensorLabel(name) + ": external data location '" +
                          *location + "' leaves the model's folder",
                      where);
  }
  std::error_code error;
  const fs::path resolved = fs::canonical(lexical, error);
  if (error) {
    throw IoError(TensorLabel(name) + ": cannot open external data file '" +
                      lexical.string() + "': " + error.message(),
                  where);
  }
  if (!IsWithin(*ctx.base_dir, resolved)) {
    throw FormatError(TensorLabel(name) + ": external data location '" +
                          *location + "' resolves to '" + resolved.string() +
                          "', outside the model's folder",
                      where);
  }
  if (!fs::is_regular_file(resolved, error)) {
    throw FormatError(TensorLabel(name) + ": external data '" +
                          resolved.string() + "' is not a regular file",
                      where);
  }
  const uintmax_t file_size = fs::file_size(resolved, error);
  if (error) {
    throw IoError(TensorLabel(name) + ": cannot read the size of '" +
                      resolved.string() + "': " + error.message(),
                  where);
  }
  const int64_t offset =
      offset_text ? ParseExternalDataNumber("offset", *offset_text, name, where)
                  : 0;
  if (static_cast<uintmax_t>(offset) > file_size) {
    throw FormatError(TensorLabel(name) + ": external data offset " +
                          std::to_string(offset) + " is past the end of '" +
                          resolved.string() + "' (" +
                          std::to_string(file_size) + " bytes)",
                      where);
  }
  const uintmax_t available = file_size - static_cast<uintmax_t>(offset);
  int64_t length = static_cast<int64_t>(available);
  if (length_text) {
    length = ParseExternalDataNumber("length", *length_text, name, where);
    if (static_cast<uintmax_t>(length) > available) {
      throw FormatError(TensorLabel(name) + ": external data offset " +
                            std::to_string(offset) + " + length " +
                            std::to_string(length) + " is past the end of '" +
                            resolved.string() + "' (" +
                            std::to_string(file_size) + " bytes)",
                        where);
    }
  }
  if (expected_bytes >= 0 && length != expected_bytes) {
    throw FormatError(
        TensorLabel(name) + ": external data holds " + std::to_string(length) +
            " bytes, but the tensor needs " + std::to_string(expected_bytes),
        where);
  }
  // The model file and every external tensor count together, so that many
  // tensors pointing at one large file cannot add up past the limit.
  if (static_cast<uint64_t>(length) >
      ctx.limits.max_model_bytes -
          std::min(ctx.bytes_read, ctx.limits.max_model_bytes)) {
    throw UnsupportedError(
        TensorLabel(name) + ": reading its " + std::to_string(length) +
            " bytes of external data would take the model past " +
            LimitText(ctx.limits.max_model_bytes, "bytes"),
        where);
  }
  ctx.bytes_read += static_cast<uint64_t>(length);
  std::ifstream in(resolved, std::ios::binary);
  std::string bytes(static_cast<size_t>(length), '\0');
  in.seekg(offset);
  in.read(bytes.data(), length);
  if (!in) {
    throw IoError(TensorLabel(name) + ": reading " + std::to_string(length) +
                      " bytes at offset " + std::to_string(offset) + " of '" +
                      resolved.string() + "' failed",
                  where);
  }
  return bytes;
}

// Appends each element of a typed ONNX field narrowed to Element.
template <typename Element, typename Field>
void AppendElements(const Field& field, std::string* bytes) {
  const size_t start = bytes->size();
  bytes->resize(start + static_cast<size_t>(field.size()) * sizeof(Element));
  char* out = bytes->data() + start;
  for (const auto& stored : field) {
    const Element element = static_cast<Element>(stored);
    std::memcpy(out, &element, sizeof(Element));
    out += sizeof(Element);
  }
}

// Widens packed Elements back into a typed ONNX field.
template <typename Element, typename Field>
void ExtractElements(const std::string& bytes, Field* field) {
  const size_t count = bytes.size() / sizeof(Element);
  field->Reserve(static_cast<int>(count));
  for (size_t i = 0; i < count; ++i) {
    Element element;
    std::memcpy(&element, bytes.data() + i * sizeof(Element), sizeof(Element));
    field->Add(element);
  }
}

bool HasTypedData(const onnx::TensorProto& proto) {
  return proto.float_data_size() != 0 || proto.int32_data_size() != 0 ||
         proto.string_data_size() != 0 || proto.int64_data_size() != 0 ||
         proto.double_data_size() != 0 || proto.uint64_data_size() != 0;
}

// Converts the typed field that ONNX assigns to `dtype` into raw bytes.
std::string ReadTypedData(const onnx::TensorProto& proto, DataType dtype,
                          int64_t count, const ErrorContext& where) {
  std::string bytes;
  auto take = [&](const auto& field, int64_t per_element,
                  const char* field_name, auto append) {
    if (field.size() != count * per_element) {
      throw FormatError(
          TensorLabel(proto.name()) + ": " + std::to_string(field.size()) +
              " values in " + field_name + ", but " + DataTypeName(dtype) +
              " " + ShapeText({proto.dims().begin(), proto.dims().end()}) +
              " needs " + std::to_string(count * per_element),
          where);
    }
    append(field);
  };
  switch (dtype) {
    case DataType::kFloat:
    case DataType::kComplex64:
      take(proto.float_data(), dtype == DataType::kFloat ? 1 : 2, "float_data",
           [&](const auto& f) { AppendElements<float>(f, &bytes); });
      break;
    case DataType::kDouble:
    case DataType::kComplex128:
      take(proto.double_data(), dtype == DataType::kDouble ? 1 : 2,
           "double_data",
           [&](const auto& f) { AppendElements<double>(f, &bytes); });
      break;
    case DataType::kInt64:
      take(proto.int64_data(), 1, "int64_data",
           [&](const auto& f) { AppendElements<int64_t>(f, &bytes); });
      break;
    case DataType::kUint64:
      take(proto.uint64_data(), 1, "uint64_data",
           [&](const auto& f) { AppendElements<uint64_t>(f, &bytes); });
      break;
    case DataType::kUint32:
      take(proto.uint64_data(), 1, "uint64_data",
           [&](const auto& f) { AppendElements<uint32_t>(f, &bytes); });
      break;
    case DataType::kInt32:
      take(proto.int32_data(), 1, "int32_data",
           [&](const auto& f) { AppendElements<int32_t>(f, &bytes); });
      break;
    case DataType::kInt16:
      take(proto.int32_data(), 1, "int32_data",
           [&](const auto& f) { AppendElements<int16_t>(f, &bytes); });
      break;
    case DataType::kUint16:
    case DataType::kFloat16:
    case DataType::kBfloat16:
      take(proto.int32_data(), 1, "int32_data",
           [&](const auto& f) { AppendElements<uint16_t>(f, &bytes); });
      break;
    case DataType::kInt8:
      take(proto.int32_data(), 1, "int32_data",
           [&](const auto& f) { AppendElements<int8_t>(f, &bytes); });
      break;
    case DataType::kUint8:
    case DataType::kBool:
      take(proto.int32_data(), 1, "int32_data",
           [&](const auto& f) { AppendElements<uint8_t>(f, &bytes); });
      break;
    default:
      throw UnsupportedError(TensorLabel(proto.name()) + " of type " +
                                 DataTypeName(dtype) +
                                 " keeps its data in a typed field foldrt "
                                 "cannot read (only raw_data)",
                             where);
  }
  return bytes;
}

Tensor ImportTensor(onnx::TensorProto* proto, const ImportContext& ctx,
                    const ErrorContext& where) {
  const std::string& name = proto->name();
  const auto dtype = static_cast<DataType>(proto->data_type());
  if (dtype == DataType::kUndefined) {
    throw FormatError(TensorLabel(name) + " has no data type", where);
  }
  std::vector<int64_t> dims(proto->dims().begin(), proto->dims().end());
  int64_t count = 0;
  try {
    count = ElementCount(dims);
    // Also rejects shapes whose byte size overflows int64. Without it a
    // typed field of a 2^62-element COMPLEX64 tensor overflowed the
    // `count * 2` values ReadTypedData expects (signed overflow, UB).
    ByteSize(dtype, count);
  } catch (const InvalidArgumentError& error) {
    throw FormatError(
        TensorLabel(name) + " " + ShapeText(dims) + ": " + error.message(),
        where);
  }
  if (count > ctx.limits.max_tensor_elements) {
    throw UnsupportedError(
        TensorLabel(name) + " " + ShapeText(dims) + " has " +
            std::to_string(count) + " elements, over " +
            LimitText(static_cast<uint64_t>(ctx.limits.max_tensor_elements),
                      "elements per tensor"),
        where);
  }
  if (proto->has_segment()) {
    throw UnsupportedError(TensorLabel(name) + " is a segment of a tensor",
                           where);
  }

  Tensor tensor;
  try {
    if (proto->data_location() == onnx::TensorProto::EXTERNAL) {
      if (proto->has_raw_data() || HasTypedData(*proto)) {
        throw FormatError(
            TensorLabel(name) + " is stored externally but also holds data",
            where);
      }
      if (dtype == DataType::kString) {
        throw FormatError(
            TensorLabel(name) + ": STRING tensors cannot be stored externally",
            where);
      }
      tensor =
          Tensor(name, dtype, std::move(dims),
                 ReadExternalData(*proto, ByteSize(dtype, count), ctx, where));
    } else if (dtype == DataType::kString) {
      if (proto->has_raw_data()) {
        throw FormatError(TensorLabel(name) + ": STRING data in raw_data",
                          where);
      }
      if (proto->string_data_size() != count) {
        throw FormatError(TensorLabel(name) + ": " +
                              std::to_string(proto->string_data_size()) +
                              " strings for shape " + ShapeText(dims),
                          where);
      }
      std::vector<std::string> strings;
      strings.reserve(static_cast<size_t>(count));
      for (std::string& element : *proto->mutable_string_data()) {
        strings.push_back(std::move(element));
      }
      tensor = Tensor::FromStrings(name, std::move(dims), std::move(strings));
      tensor.set_storage(TensorStorage::kTypedField);
    } else if (proto->has_raw_data()) {
      if (HasTypedData(*proto)) {
        throw FormatError(
            TensorLabel(name) + " holds both raw_data and a typed data field",
            where);
      }
      // Large weights: move the bytes out of the message instead of copying.
      std::string bytes;
      bytes.swap(*proto->mutable_raw_data());
      tensor = Tensor(name, dtype, std::move(dims), std::move(bytes));
      tensor.set_storage(TensorStorage::kRawData);
    } else {
      tensor = Tensor(name, dtype, std::move(dims),
                      ReadTypedData(*proto, dtype, count, where));
      tensor.set_storage(TensorStorage::kTypedField);
      // The tensor holds its own copy now: free the message's (Clear keeps
      // the capacity, a swap with an empty field does not).
      google::protobuf::RepeatedField<float>().Swap(
          proto->mutable_float_data());
      google::protobuf::RepeatedField<double>().Swap(
          proto->mutable_double_data());
      google::protobuf::RepeatedField<int64_t>().Swap(
          proto->mutable_int64_data());
      google::protobuf::RepeatedField<uint64_t>().Swap(
          proto->mutable_uint64_data());
      google::protobuf::RepeatedField<int32_t>().Swap(
          proto->mutable_int32_data());
    }
  } catch (const InvalidArgumentError& error) {
    throw FormatError(error.message(), where);
  }
  tensor.set_doc_string(proto->doc_string());
  tensor.set_unknown_fields(SaveUnknownFields(*proto));
  return tensor;
}

Dim ImportDim(const onnx::TensorShapeProto::Dimension& proto) {
  Dim dim;
  if (proto.has_dim_value()) {
    dim = Dim::Known(proto.dim_value());
  } else if (proto.has_dim_param()) {
    dim = Dim::Symbolic(proto.dim_param());
  }
  dim.denotation = proto.denotation();
  return dim;
}

ValueInfo ImportValueInfo(const onnx::ValueInfoProto& proto) {
  ValueInfo info;
  info.name = proto.name();
  info.doc_string = proto.doc_string();
  info.unknown_fields = SaveUnknownFields(proto);
  if (!proto.has_type()) return info;
  const onnx::TypeProto& type = proto.type();
  // A tensor type carrying fields foldrt's schema lacks is kept whole.
  if (type.has_tensor_type() && type.unknown_fields().empty() &&
      type.tensor_type().unknown_fields().empty()) {
    const onnx::TypeProto::Tensor& tensor_type = type.tensor_type();
    info.has_tensor_type = true;
    info.dtype = static_cast<DataType>(tensor_type.elem_type());
    info.type_denotation = type.denotation();
    if (tensor_type.has_shape()) {
      std::vector<Dim> shape;
      for (const auto& dim : tensor_type.shape().dim()) {
        shape.push_back(ImportDim(dim));
      }
      info.shape = std::move(shape);
    }
  } else {
    info.serialized_other_type = type.SerializeAsString();
  }
  return info;
}

Graph ImportGraph(onnx::GraphProto* proto, const ImportContext& ctx);

Attribute ImportAttribute(onnx::AttributeProto* proto, const ImportContext& ctx,
                          const ErrorContext& where) {
  std::string name = proto->name();
  if (name.empty()) throw FormatError("an attribute has no name", where);
  auto serialized_list = [](const auto& messages) {
    std::vector<std::string> list;
    for (const auto& message : messages) {
      list.push_back(message.SerializeAsString());
    }
    return list;
  };
  std::optional<Attribute> attribute;
  switch (proto->type()) {
    case onnx::AttributeProto::FLOAT:
      attribute = Attribute::Float(name, proto->f());
      break;
    case onnx::AttributeProto::INT:
      attribute = Attribute::Int(name, proto->i());
      break;
    case onnx::AttributeProto::STRING:
      attribute = Attribute::String(name, proto->s());
      break;
    case onnx::AttributeProto::TENSOR:
      attribute = Attribute::FromTensor(
          name, ImportTensor(proto->mutable_t(), ctx, where));
      break;
    case onnx::AttributeProto::GRAPH:
      attribute =
          Attribute::FromGraph(name, ImportGraph(proto->mutable_g(), ctx));
      break;
    case onnx::AttributeProto::FLOATS:
      attribute = Attribute::Floats(
          name, {proto->floats().begin(), proto->floats().end()});
      break;
    case onnx::AttributeProto::INTS:
      attribute =
          Attribute::Ints(name, {proto->ints().begin(), proto->ints().end()});
      break;
    case onnx::AttributeProto::STRINGS:
      attribute = Attribute::Strings(
          name, {proto->strings().begin(), proto->strings().end()});
      break;
    case onnx::AttributeProto::TENSORS: {
      std::vector<Tensor> tensors;
      for (onnx::TensorProto& tensor : *proto->mutable_tensors()) {
        tensors.push_back(ImportTensor(&tensor, ctx, where));
      }
      attribute = Attribute::Tensors(name, std::move(tensors));
      break;
    }
    case onnx::AttributeProto::GRAPHS: {
      std::vector<Graph> graphs;
      for (onnx::GraphProto& graph : *proto->mutable_graphs()) {
        graphs.push_back(ImportGraph(&graph, ctx));
      }
      attribute = Attribute::Graphs(name, std::move(graphs));
      break;
    }
    case onnx::AttributeProto::SPARSE_TENSOR:
      attribute = Attribute::SerializedProto(
          name, AttributeType::kSparseTensor,
          proto->sparse_tensor().SerializeAsString());
      break;
    case onnx::AttributeProto::TYPE_PROTO:
      attribute = Attribute::SerializedProto(name, AttributeType::kTypeProto,
                                             proto->tp().SerializeAsString());
      break;
    case onnx::AttributeProto::SPARSE_TENSORS:
      attribute =
          Attribute::SerializedProtos(name, AttributeType::kSparseTensors,
                                      serialized_list(proto->sparse_tensors()));
      break;
    case onnx::AttributeProto::TYPE_PROTOS:
      attribute =
          Attribute::SerializedProtos(name, AttributeType::kTypeProtos,
                                      serialized_list(proto->type_protos()));
      break;
    default:
      throw FormatError("attribute '" + name +
                            "' has no type (required since "
                            "IR version 2)",
                        where);
  }
  attribute->set_doc_string(proto->doc_string());
  attribute->set_ref_attr_name(proto->ref_attr_name());
  attribute->set_unknown_fields(SaveUnknownFields(*proto));
  return std::move(*attribute);
}

Node ImportNode(onnx::NodeProto* proto, const ImportContext& ctx) {
  Node node(proto->op_type(), {proto->input().begin(), proto->input().end()},
            {proto->output().begin(), proto->output().end()}, proto->name(),
            proto->domain());
  const ErrorContext where = NodeErrorContext(node, ctx.file);
  if (node.op_type().empty()) throw FormatError("node has no op type", where);
  if (ctx.domains.count(NormalizedDomain(node.domain())) == 0) {
    throw UnsupportedError(
        "operator domain '" +
            (node.domain().empty() ? std::string("ai.onnx") : node.domain()) +
            "' is not imported by the model (no opset_import entry)",
        where);
  }
  node.set_doc_string(proto->doc_string());
  node.set_unknown_fields(SaveUnknownFields(*proto));
  for (onnx::AttributeProto& attribute_proto : *proto->mutable_attribute()) {
    Attribute attribute = ImportAttribute(&attribute_proto, ctx, where);
    if (node.HasAttribute(attribute.name())) {
      throw FormatError("attribute '" + attribute.name() + "' appears twice",
                        where);
    }
    node.SetAttribute(std::move(attribute));
  }
  return node;
}

Graph ImportGraph(onnx::GraphProto* proto, const ImportContext& ctx) {
  const ErrorContext where{ctx.file, "", ""};
  if (ctx.subgraph_depth > kMaxSubgraphDepth) {
    throw UnsupportedError("subgraphs are nested more than " +
                               std::to_string(kMaxSubgraphDepth) +
                               " levels deep",
                           where);
  }
  struct DepthGuard {
    const ImportContext& ctx;
    explicit DepthGuard(const ImportContext& c) : ctx(c) {
      ++ctx.subgraph_depth;
    }
    ~DepthGuard() { --ctx.subgraph_depth; }
  } depth_guard(ctx);
  Graph graph;
  graph.set_name(proto->name());
  graph.set_doc_string(proto->doc_string());
  graph.set_unknown_fields(SaveUnknownFields(*proto));

  for (onnx::TensorProto& tensor_proto : *proto->mutable_initializer()) {
    if (tensor_proto.name().empty()) {
      throw FormatError("an initializer has no name", where);
    }
    if (graph.FindInitializer(tensor_proto.name()) != nullptr) {
      throw FormatError(
          "initializer '" + tensor_proto.name() + "' appears twice", where);
    }
    graph.AddInitializer(ImportTensor(&tensor_proto, ctx, where));
  }
  for (const onnx::SparseTensorProto& sparse : proto->sparse_initializer()) {
    graph.mutable_sparse_initializers()->push_back(
        SparseInitializer{sparse.values().name(), sparse.SerializeAsString()});
  }
  for (const onnx::ValueInfoProto& input : proto->input()) {
    if (graph.FindInitializer(input.name()) != nullptr) {
      graph.mutable_initializer_inputs()->push_back(ImportValueInfo(input));
    } else {
      graph.mutable_inputs()->push_back(ImportValueInfo(input));
    }
  }
  for (const onnx::ValueInfoProto& output : proto->output()) {
    graph.mutable_outputs()->push_back(ImportValueInfo(output));
  }
  for (const onnx::ValueInfoProto& info : proto->value_info()) {
    graph.mutable_value_info()->push_back(ImportValueInfo(info));
  }
  for (const onnx::TensorAnnotation& annotation :
       proto->quantization_annotation()) {
    graph.mutable_quantization_annotations()->push_back(
        annotation.SerializeAsString());
  }
  for (onnx::NodeProto& node_proto : *proto->mutable_node()) {
    graph.AddNode(ImportNode(&node_proto, ctx));
  }
  return graph;
}

Model ImportModel(onnx::ModelProto* proto, ImportContext* ctx) {
  const ErrorContext where{ctx->file, "", ""};
  if (!proto->has_ir_version()) {
    throw FormatError("not an ONNX model (no ir_version)", where);
  }
  if (!proto->has_graph()) {
    throw FormatError("not an ONNX model (no graph)", where);
  }
  if (proto->ir_version() < kMinIrVersion) {
    throw UnsupportedError("IR version " + std::to_string(proto->ir_version()) +
                               " is not supported (foldrt reads IR version " +
                               std::to_string(kMinIrVersion) + " and newer)",
                           where);
  }

  Model model;
  model.source = ctx->file;
  model.ir_version = proto->ir_version();
  for (const onnx::OperatorSetIdProto& opset : proto->opset_import()) {
    const std::string domain = NormalizedDomain(opset.domain());
    if (!ctx->domains.insert(domain).second) {
      throw FormatError(
          "opset_import lists domain '" + opset.domain() + "' twice", where);
    }
    if (domain.empty() && (opset.version() < kMinOpsetVersion ||
                           opset.version() > kMaxOpsetVersion)) {
      throw UnsupportedError("ai.onnx opset " +
                                 std::to_string(opset.version()) +
                                 " is not supported (foldrt reads opsets " +
                                 std::to_string(kMinOpsetVersion) + " to " +
                                 std::to_string(kMaxOpsetVersion) + ")",
                             where);
    }
    model.opset_imports.push_back(OpsetImport{opset.domain(), opset.version()});
  }
  model.producer_name = proto->producer_name();
  model.producer_version = proto->producer_version();
  model.domain = proto->domain();
  model.model_version = proto->model_version();
  model.doc_string = proto->doc_string();
  for (const onnx::StringStringEntryProto& entry : proto->metadata_props()) {
    model.metadata_props.emplace_back(entry.key(), entry.value());
  }
  for (const onnx::FunctionProto& function : proto->functions()) {
    model.serialized_functions.push_back(function.SerializeAsString());
  }
  for (const onnx::TrainingInfoProto& info : proto->training_info()) {
    model.serialized_training_info.push_back(info.SerializeAsString());
  }
  model.unknown_fields = SaveUnknownFields(*proto);
  model.graph = ImportGraph(proto->mutable_graph(), *ctx);
  // ONNX's checker allows it, but a main graph without outputs computes
  // nothing: folding or running it can only be a mistake (an empty or
  // stripped file), so every foldrt tool says so up front.
  if (model.graph.outputs().empty()) {
    throw FormatError("the main graph has no outputs", where);
  }
  VerifyModel(model);
  return model;
}

// ModelProto's fields and their protobuf wire types, to tell a truncated
// model from bytes that are no ONNX model at all.
const std::map<uint32_t, uint32_t>& ModelProtoWireTypes() {
  constexpr uint32_t kVarint = 0;
  constexpr uint32_t kLengthDelimited = 2;
  static const std::map<uint32_t, uint32_t> kFields = {
      {1, kVarint},           {2, kLengthDelimited},  {3, kLengthDelimited},
      {4, kLengthDelimited},  {5, kVarint},           {6, kLengthDelimited},
      {7, kLengthDelimited},  {8, kLengthDelimited},  {14, kLengthDelimited},
      {20, kLengthDelimited}, {25, kLengthDelimited},
  };
  return kFields;
}

// Called after protobuf refused the bytes: walks the top-level fields to say
// whether the input was cut short or is something else entirely.
[[noreturn]] void ThrowParseFailure(const uint8_t* data, int size,
                                    const std::string& file) {
  const ErrorContext where{file, "", ""};
  CodedInputStream stream(data, size);
  stream.SetTotalBytesLimit(INT_MAX);
  // Every serializer writes fields in number order and ONNX requires
  // ir_version (field 1, a varint, tag byte 0x08), so a real model starts
  // with that byte; without it, running out of bytes says nothing about
  // truncation.
  const bool starts_like_onnx = data[0] == 0x08;
  auto truncated = [&](const std::string& detail) {
    if (!starts_like_onnx) {
      return FormatError("not an ONNX model (" + detail + ")", where);
    }
    return FormatError("truncated ONNX model: " + detail + " (file is " +
                           std::to_string(size) + " bytes)",
                       where);
  };
  // A varint that fails to parse with fewer than 10 bytes left was cut off.
  auto varint_failure = [&](int position, const std::string& what) {
    if (size - position < 10) {
      return truncated(what + " at byte " + std::to_string(position) +
                       " is cut off");
    }
    return FormatError("not an ONNX model (malformed protobuf " + what +
                           " at byte " + std::to_string(position) + ")",
                       where);
  };
  while (stream.CurrentPosition() < size) {
    const int position = stream.CurrentPosition();
    uint32_t tag = 0;
    if (!stream.ReadVarint32(&tag)) throw varint_failure(position, "field tag");
    const uint32_t field = tag >> 3;
    const uint32_t wire_type = tag & 7;
    const auto known = ModelProtoWireTypes().find(field);
    if (known == ModelProtoWireTypes().end() || known->second != wire_type) {
      throw FormatError("not an ONNX model (unexpected protobuf field " +
                            std::to_string(field) + ", wire type " +
                            std::to_string(wire_type) + ", at byte " +
                            std::to_string(position) + ")",
                        where);
    }
    if (wire_type == 0) {
      uint64_t value = 0;
      if (!stream.ReadVarint64(&value)) {
        throw varint_failure(position, "field " + std::to_string(field));
      }
      continue;
    }
    uint32_t length = 0;
    if (!stream.ReadVarint32(&length)) {
      throw varint_failure(position,
                           "length of field " + std::to_string(field));
    }
    const int remaining = size - stream.CurrentPosition();
    if (length > static_cast<uint32_t>(remaining)) {
      throw truncated("field " + std::to_string(field) + " at byte " +
                      std::to_string(position) + " needs " +
                      std::to_string(length) + " bytes, only " +
                      std::to_string(remaining) + " remain");
    }
    stream.Skip(static_cast<int>(length));
  }
  throw FormatError(
      "not an ONNX model, or a corrupt one (protobuf parsing failed inside "
      "a top-level field)",
      where);
}

// Parses `size` bytes into `proto`, with ParseModel's checks and errors.
void ParseProto(const void* data, size_t size, ImportContext* context,
                onnx::ModelProto* proto) {
  ImportContext& ctx = *context;
  const ErrorContext where{ctx.file, "", ""};
  if (size == 0) throw FormatError("empty file: not an ONNX model", where);
  if (size > ctx.limits.max_model_bytes) {
    throw UnsupportedError("model is " + std::to_string(size) +
                               " bytes, over " +
                               LimitText(ctx.limits.max_model_bytes, "bytes"),
                           where);
  }
  ctx.bytes_read = size;
  if (size > static_cast<size_t>(INT_MAX)) {
    throw UnsupportedError(
        "model is " + std::to_string(size) +
            " bytes; protobuf cannot hold more than 2 GiB (larger models "
            "keep their weights in external data files)",
        where);
  }
  const auto* bytes = static_cast<const uint8_t*>(data);
  CodedInputStream stream(bytes, static_cast<int>(size));
  // Older protobuf releases cap a stream at 64 MiB unless told otherwise,
  // which refuses ordinary CNNs such as ResNet-50 (~100 MB).
  stream.SetTotalBytesLimit(INT_MAX);
  if (!proto->ParseFromCodedStream(&stream) ||
      !stream.ConsumedEntireMessage()) {
    ThrowParseFailure(bytes, static_cast<int>(size), ctx.file);
  }
}

// The imported proto, logged. Tensor bytes move out of `proto`.
Model ImportParsed(onnx::ModelProto* proto, ImportContext* ctx) {
  Model model = ImportModel(proto, ctx);
  Logger().debug("loaded {}: IR version {}, {} nodes, {} initializers",
                 ctx->file, model.ir_version, model.graph.num_nodes(),
                 model.graph.num_initializers());
  return model;
}

Model ParseModel(const void* data, size_t size, ImportContext ctx) {
  onnx::ModelProto proto;
  ParseProto(data, size, &ctx, &proto);
  return ImportParsed(&proto, &ctx);
}

// A regular file mapped read-only, or nothing when mmap refuses it (the
// caller then reads it). The pages are the page cache's: mapping costs no
// copy of the file, and unmapping returns them at once.
class MappedFile {
 public:
  MappedFile(const std::string& path, size_t size) : size_(size) {
    if (size == 0) return;
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return;
    // Only a regular file of the size the caller saw: pages past the end of
    // a file that shrank meanwhile would fault (SIGBUS) instead of failing.
    struct stat info;
    if (::fstat(fd, &info) != 0 || !S_ISREG(info.st_mode) ||
        static_cast<uint64_t>(info.st_size) != size) {
      ::close(fd);
      return;
    }
    void* data = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
    ::close(fd);
    if (data == MAP_FAILED) return;
    // Parsing reads it once, front to back.
    ::madvise(data, size, MADV_SEQUENTIAL);
    data_ = data;
  }
  ~MappedFile() { Unmap(); }
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  const void* data() const { return data_; }
  void Unmap() {
    if (data_ != nullptr) ::munmap(data_, size_);
    data_ = nullptr;
  }

 private:
  void* data_ = nullptr;
  size_t size_;
};

// -------------------------------------------------------------- exporting

void WriteTypedData(const Tensor& tensor, onnx::TensorProto* proto,
                    const ErrorContext& where) {
  const std::string& bytes = tensor.bytes();
  switch (tensor.dtype()) {
    case DataType::kFloat:
    case DataType::kComplex64:
      ExtractElements<float>(bytes, proto->mutable_float_data());
      break;
    case DataType::kDouble:
    case DataType::kComplex128:
      ExtractElements<double>(bytes, proto->mutable_double_data());
      break;
    case DataType::kInt64:
      ExtractElements<int64_t>(bytes, proto->mutable_int64_data());
      break;
    case DataType::kUint64:
      ExtractElements<uint64_t>(bytes, proto->mutable_uint64_data());
      break;
    case DataType::kUint32:
      ExtractElements<uint32_t>(bytes, proto->mutable_uint64_data());
      break;
    case DataType::kInt32:
      ExtractElements<int32_t>(bytes, proto->mutable_int32_data());
      break;
    case DataType::kInt16:
      ExtractElements<int16_t>(bytes, proto->mutable_int32_data());
      break;
    case DataType::kUint16:
    case DataType::kFloat16:
    case DataType::kBfloat16:
      ExtractElements<uint16_t>(bytes, proto->mutable_int32_data());
      break;
    case DataType::kInt8:
      ExtractElements<int8_t>(bytes, proto->mutable_int32_data());
      break;
    case DataType::kUint8:
    case DataType::kBool:
      ExtractElements<uint8_t>(bytes, proto->mutable_int32_data());
      break;
    default:
      throw UnsupportedError(TensorLabel(tensor.name()) + " of type " +
                                 DataTypeName(tensor.dtype()) +
                                 " can only be written as raw_data",
                             where);
  }
}

void ExportTensor(const Tensor& tensor, onnx::TensorProto* proto,
                  const ErrorContext& where) {
  for (int64_t dim : tensor.dims()) proto->add_dims(dim);
  proto->set_data_type(static_cast<int32_t>(tensor.dtype()));
  if (!tensor.name().empty()) proto->set_name(tensor.name());
  if (!tensor.doc_string().empty()) proto->set_doc_string(tensor.doc_string());
  if (tensor.dtype() == DataType::kString) {
    for (const std::string& element : tensor.strings()) {
      proto->add_string_data(element);
    }
  } else if (tensor.storage() == TensorStorage::kRawData) {
    proto->set_raw_data(tensor.bytes());
  } else {
    WriteTypedData(tensor, proto, where);
  }
  RestoreUnknownFields(tensor.unknown_fields(), proto, where);
}

void ExportValueInfo(const ValueInfo& info, onnx::ValueInfoProto* proto,
                     const ErrorContext& where) {
  proto->set_name(info.name);
  if (!info.doc_string.empty()) proto->set_doc_string(info.doc_string);
  if (info.has_tensor_type) {
    onnx::TypeProto* type = proto->mutable_type();
    onnx::TypeProto::Tensor* tensor_type = type->mutable_tensor_type();
    if (info.dtype != DataType::kUndefined) {
      tensor_type->set_elem_type(static_cast<int32_t>(info.dtype));
    }
    if (!info.type_denotation.empty()) {
      type->set_denotation(info.type_denotation);
    }
    if (info.shape) {
      onnx::TensorShapeProto* shape = tensor_type->mutable_shape();
      for (const Dim& dim : *info.shape) {
        onnx::TensorShapeProto::Dimension* out = shape->add_dim();
        if (dim.kind == Dim::Kind::kKnown) out->set_dim_value(dim.value);
        if (dim.kind == Dim::Kind::kSymbolic) out->set_dim_param(dim.symbol);
        if (!dim.denotation.empty()) out->set_denotation(dim.denotation);
      }
    }
  } else if (!info.serialized_other_type.empty()) {
    ParseSerialized(info.serialized_other_type, proto->mutable_type(),
                    "the type of value '" + info.name + "'", where);
  }
  RestoreUnknownFields(info.unknown_fields, proto, where);
}

void ExportGraph(const Graph& graph, onnx::GraphProto* proto,
                 const std::string& file, bool list_initializers_as_inputs);

void ExportAttribute(const Attribute& attribute, onnx::AttributeProto* proto,
                     const ErrorContext& where) {
  proto->set_name(attribute.name());
  if (!attribute.ref_attr_name().empty()) {
    proto->set_ref_attr_name(attribute.ref_attr_name());
  }
  if (!attribute.doc_string().empty()) {
    proto->set_doc_string(attribute.doc_string());
  }
  proto->set_type(
      static_cast<onnx::AttributeProto::AttributeType>(attribute.type()));
  const std::string what = "attribute '" + attribute.name() + "'";
  switch (attribute.type()) {
    case AttributeType::kFloat:
      proto->set_f(attribute.f());
      break;
    case AttributeType::kInt:
      proto->set_i(attribute.i());
      break;
    case AttributeType::kString:
      proto->set_s(attribute.s());
      break;
    case AttributeType::kTensor:
      ExportTensor(attribute.t(), proto->mutable_t(), where);
      break;
    case AttributeType::kGraph:
      ExportGraph(attribute.g(), proto->mutable_g(), where.file, false);
      break;
    case AttributeType::kFloats:
      for (float value : attribute.floats()) proto->add_floats(value);
      break;
    case AttributeType::kInts:
      for (int64_t value : attribute.ints()) proto->add_ints(value);
      break;
    case AttributeType::kStrings:
      for (const std::string& value : attribute.strings()) {
        proto->add_strings(value);
      }
      break;
    case AttributeType::kTensors:
      for (const Tensor& tensor : attribute.tensors()) {
        ExportTensor(tensor, proto->add_tensors(), where);
      }
      break;
    case AttributeType::kGraphs:
      for (const Graph& graph : attribute.graphs()) {
        ExportGraph(graph, proto->add_graphs(), where.file, false);
      }
      break;
    case AttributeType::kSparseTensor:
      ParseSerialized(attribute.serialized_proto(),
                      proto->mutable_sparse_tensor(), what, where);
      break;
    case AttributeType::kTypeProto:
      ParseSerialized(attribute.serialized_proto(), proto->mutable_tp(), what,
                      where);
      break;
    case AttributeType::kSparseTensors:
      for (const std::string& bytes : attribute.serialized_protos()) {
        ParseSerialized(bytes, proto->add_sparse_tensors(), what, where);
      }
      break;
    case AttributeType::kTypeProtos:
      for (const std::string& bytes : attribute.serialized_protos()) {
        ParseSerialized(bytes, proto->add_type_protos(), what, where);
      }
      break;
    case AttributeType::kUndefined:
      throw FormatError(what + " has no type", where);
  }
  RestoreUnknownFields(attribute.unknown_fields(), proto, where);
}

void ExportNode(const Node& node, onnx::NodeProto* proto,
                const std::string& file) {
  const ErrorContext where = NodeErrorContext(node, file);
  for (const std::string& input : node.inputs()) proto->add_input(input);
  for (const std::string& output : node.outputs()) proto->add_output(output);
  if (!node.name().empty()) proto->set_name(node.name());
  proto->set_op_type(node.op_type());
  if (!node.domain().empty()) proto->set_domain(node.domain());
  for (const Attribute& attribute : node.attributes()) {
    ExportAttribute(attribute, proto->add_attribute(), where);
  }
  if (!node.doc_string().empty()) proto->set_doc_string(node.doc_string());
  RestoreUnknownFields(node.unknown_fields(), proto, where);
}

// `list_initializers_as_inputs`: IR version 3 requires every initializer of
// the main graph to appear among its inputs, also those a pass added.
void ExportGraph(const Graph& graph, onnx::GraphProto* proto,
                 const std::string& file, bool list_initializers_as_inputs) {
  const ErrorContext where{file, "", ""};
  for (const Node* node : graph.TopologicalOrder()) {
    ExportNode(*node, proto->add_node(), file);
  }
  if (!graph.name().empty()) proto->set_name(graph.name());
  for (size_t i = 0; i < graph.num_initializers(); ++i) {
    ExportTensor(graph.initializer(i), proto->add_initializer(), where);
  }
  for (const SparseInitializer& sparse : graph.sparse_initializers()) {
    ParseSerialized(sparse.serialized, proto->add_sparse_initializer(),
                    "sparse initializer '" + sparse.name + "'", where);
  }
  if (!graph.doc_string().empty()) proto->set_doc_string(graph.doc_string());
  for (const ValueInfo& input : graph.inputs()) {
    ExportValueInfo(input, proto->add_input(), where);
  }
  std::unordered_set<std::string> listed;
  for (const ValueInfo& input : graph.initializer_inputs()) {
    ExportValueInfo(input, proto->add_input(), where);
    listed.insert(input.name);
  }
  if (list_initializers_as_inputs) {
    for (size_t i = 0; i < graph.num_initializers(); ++i) {
      const Tensor& tensor = graph.initializer(i);
      if (listed.count(tensor.name()) != 0) continue;
      std::vector<Dim> shape;
      for (int64_t dim : tensor.dims()) shape.push_back(Dim::Known(dim));
      ExportValueInfo(
          ValueInfo::ForTensor(tensor.name(), tensor.dtype(), std::move(shape)),
          proto->add_input(), where);
    }
  }
  for (const ValueInfo& output : graph.outputs()) {
    ExportValueInfo(output, proto->add_output(), where);
  }
  for (const ValueInfo& info : graph.value_info()) {
    ExportValueInfo(info, proto->add_value_info(), where);
  }
  for (const std::string& annotation : graph.quantization_annotations()) {
    ParseSerialized(annotation, proto->add_quantization_annotation(),
                    "a quantization annotation", where);
  }
  RestoreUnknownFields(graph.unknown_fields(), proto, where);
}

void ExportModel(const Model& model, onnx::ModelProto* proto) {
  const ErrorContext where{model.source, "", ""};
  proto->set_ir_version(model.ir_version);
  for (const OpsetImport& opset : model.opset_imports) {
    onnx::OperatorSetIdProto* out = proto->add_opset_import();
    if (!opset.domain.empty()) out->set_domain(opset.domain);
    out->set_version(opset.version);
  }
  if (!model.producer_name.empty()) {
    proto->set_producer_name(model.producer_name);
  }
  if (!model.producer_version.empty()) {
    proto->set_producer_version(model.producer_version);
  }
  if (!model.domain.empty()) proto->set_domain(model.domain);
  if (model.model_version != 0) proto->set_model_version(model.model_version);
  if (!model.doc_string.empty()) proto->set_doc_string(model.doc_string);
  ExportGraph(model.graph, proto->mutable_graph(), model.source,
              /*list_initializers_as_inputs=*/model.ir_version < 4);
  for (const auto& [key, value] : model.metadata_props) {
    onnx::StringStringEntryProto* entry = proto->add_metadata_props();
    entry->set_key(key);
    entry->set_value(value);
  }
  for (const std::string& info : model.serialized_training_info) {
    ParseSerialized(info, proto->add_training_info(), "training info", where);
  }
  for (const std::string& function : model.serialized_functions) {
    ParseSerialized(function, proto->add_functions(), "a model function",
                    where);
  }
  RestoreUnknownFields(model.unknown_fields, proto, where);
}

std::string ErrnoText() { return std::strerror(errno); }

}  // namespace

Model LoadOnnxModel(const std::string& path, const ImportLimits& limits) {
  const ErrorContext where{path, "", ""};
  std::error_code error;
  if (fs::is_directory(path, error)) {
    throw IoError("is a directory, not an ONNX file", where);
  }
  // A FIFO or a device (/dev/zero, /dev/stdin) would block or never end;
  // only regular files have a size to check against the limit up front.
  const fs::file_status status = fs::status(path, error);
  if (!error && fs::exists(status) && !fs::is_regular_file(status)) {
    throw IoError("is not a regular file", where);
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) throw IoError("cannot open: " + ErrnoText(), where);
  in.seekg(0, std::ios::end);
  const std::streamoff size = in.tellg();
  in.seekg(0, std::ios::beg);
  if (size < 0) throw IoError("cannot read the file size", where);
  if (static_cast<uint64_t>(size) > limits.max_model_bytes) {
    throw UnsupportedError("model file is " + std::to_string(size) +
                               " bytes, over " +
                               LimitText(limits.max_model_bytes, "bytes"),
                           where);
  }
  // Mapped rather than read into a buffer: no copy of the whole file next
  // to the parsed message, and none of its pages left behind once parsed.
  MappedFile mapped(path, static_cast<size_t>(size));
  std::string bytes;
  if (mapped.data() == nullptr) {
    bytes.assign(static_cast<size_t>(size), '\0');
    in.read(bytes.data(), size);
    if (!in) throw IoError("reading failed: " + ErrnoText(), where);
  }
  in.close();

  ImportContext ctx;
  ctx.file = path;
  ctx.limits = limits;
  const fs::path folder = fs::absolute(path, error).parent_path();
  ctx.base_dir = fs::canonical(folder, error);
  if (error) {
    throw IoError("cannot resolve the model's folder: " + error.message(),
                  where);
  }
  onnx::ModelProto proto;
  if (mapped.data() != nullptr) {
    ParseProto(mapped.data(), static_cast<size_t>(size), &ctx, &proto);
    mapped.Unmap();
  } else {
    ParseProto(bytes.data(), bytes.size(), &ctx, &proto);
    std::string().swap(bytes);
  }
  return ImportParsed(&proto, &ctx);
}

Model ParseOnnxModel(const void* data, size_t size,
                     const std::string& name_for_errors,
                     const ImportLimits& limits) {
  ImportContext ctx;
  ctx.file = name_for_errors;
  ctx.limits = limits;
  return ParseModel(data, size, std::move(ctx));
}

namespace {

// The model as a ModelProto, checked against protobuf's 2 GiB message limit.
onnx::ModelProto ExportCheckedProto(const Model& model) {
  VerifyModel(model);
  onnx::ModelProto proto;
  ExportModel(model, &proto);
  const size_t size = proto.ByteSizeLong();
  if (size > static_cast<size_t>(INT_MAX)) {
    throw UnsupportedError(
        "the model serializes to " + std::to_string(size) +
            " bytes, over protobuf's 2 GiB limit; foldrt does not write "
            "external data",
        ErrorContext{model.source, "", ""});
  }
  return proto;
}

// Dimensions past this are refused before ONNX shape inference (below).
// Any tensor that large is over the default element limit anyway, unless
// another of its dimensions is 0.
constexpr int64_t kMaxDimForShapeInference = ImportLimits{}.max_tensor_elements;

// Debian 12's libonnx (1.12) trusts what its shape inference reads from the
// model: Conv and pooling divide by each stride (SIGFPE on a stride of 0;
// `foldrt inspect` died on such a model), and their auto_pad code walks a
// dimension one stride at a time (a dimension of 2^62 never finishes).
// Refuse models that would reach those paths; inference then is simply
// unavailable (inspect falls back to the declared shapes).
void CheckSafeForShapeInference(const onnx::GraphProto& graph,
                                const std::string& file) {
  const ErrorContext where{file, "", ""};
  auto check_dims = [&](const std::string& what, const auto& dims) {
    for (const int64_t dim : dims) {
      if (dim < 0 || dim > kMaxDimForShapeInference) {
        throw FormatError(what + " has dimension " + std::to_string(dim) +
                              ", outside what ONNX shape inference handles "
                              "safely (0 to " +
                              std::to_string(kMaxDimForShapeInference) + ")",
                          where);
      }
    }
  };
  for (const auto* list :
       {&graph.input(), &graph.output(), &graph.value_info()}) {
    for (const onnx::ValueInfoProto& info : *list) {
      if (!info.type().has_tensor_type()) continue;
      std::vector<int64_t> dims;
      for (const auto& dim : info.type().tensor_type().shape().dim()) {
        if (dim.has_dim_value()) dims.push_back(dim.dim_value());
      }
      check_dims("value '" + info.name() + "'", dims);
    }
  }
  for (const onnx::TensorProto& tensor : graph.initializer()) {
    check_dims(TensorLabel(tensor.name()), tensor.dims());
  }
  for (const onnx::NodeProto& node : graph.node()) {
    const ErrorContext node_where{file, node.name(), node.op_type()};
    for (const onnx::AttributeProto& attribute : node.attribute()) {
      if ((attribute.name() == "strides" || attribute.name() == "dilations") &&
          attribute.type() == onnx::AttributeProto::INTS) {
        for (const int64_t value : attribute.ints()) {
          if (value <= 0) {
            throw FormatError("attribute '" + attribute.name() + "' holds " +
                                  std::to_string(value) +
                                  "; ONNX shape inference needs positive "
                                  "values",
                              node_where);
          }
        }
      }
      if (attribute.has_t()) {
        check_dims("a tensor attribute", attribute.t().dims());
      }
      if (attribute.has_g()) CheckSafeForShapeInference(attribute.g(), file);
      for (const onnx::GraphProto& subgraph : attribute.graphs()) {
        CheckSafeForShapeInference(subgraph, file);
      }
    }
  }
}

// ONNX 1.12 takes a Conv's kernel size from W's shape when the node has no
// kernel_shape attribute, and then indexes the input's spatial axes with
// W's, out of bounds when W has more of them than X (a segfault in
// `foldrt inspect`, found by fuzzing). With kernel_shape spelled out, it
// checks the count against X first and skips the node instead. Applied to
// the copy given to inference, wherever W's dims are known up front
// (initializers, fully declared shapes), in this graph and its subgraphs.
void PinConvKernelShapes(
    onnx::GraphProto* graph,
    std::unordered_map<std::string, std::vector<int64_t>> known_dims) {
  for (const onnx::TensorProto& tensor : graph->initializer()) {
    known_dims[tensor.name()] = {tensor.dims().begin(), tensor.dims().end()};
  }
  for (const auto* list :
       {&graph->input(), &graph->output(), &graph->value_info()}) {
    for (const onnx::ValueInfoProto& info : *list) {
      if (!info.type().tensor_type().has_shape()) continue;
      std::vector<int64_t> dims;
      for (const auto& dim : info.type().tensor_type().shape().dim()) {
        if (!dim.has_dim_value()) break;
        dims.push_back(dim.dim_value());
      }
      if (static_cast<int>(dims.size()) ==
          info.type().tensor_type().shape().dim_size()) {
        known_dims.emplace(info.name(), std::move(dims));
      }
    }
  }
  // Where each op that runs this inference reads its weight.
  static const std::map<std::string, int> kWeightInput = {{"Conv", 1},
                                                          {"ConvTranspose", 1},
                                                          {"ConvInteger", 1},
                                                          {"QLinearConv", 3}};
  for (onnx::NodeProto& node : *graph->mutable_node()) {
    for (onnx::AttributeProto& attribute : *node.mutable_attribute()) {
      if (attribute.has_g())
        PinConvKernelShapes(attribute.mutable_g(), known_dims);
      for (onnx::GraphProto& subgraph : *attribute.mutable_graphs()) {
        PinConvKernelShapes(&subgraph, known_dims);
      }
    }
    if (!IsDefaultDomain(node.domain())) continue;
    const auto weight = kWeightInput.find(node.op_type());
    if (weight == kWeightInput.end() || node.input_size() <= weight->second) {
      continue;
    }
    const bool has_kernel_shape =
        std::any_of(node.attribute().begin(), node.attribute().end(),
                    [](const onnx::AttributeProto& a) {
                      return a.name() == "kernel_shape";
                    });
    const auto dims = known_dims.find(node.input(weight->second));
    if (has_kernel_shape || dims == known_dims.end() ||
        dims->second.size() < 2) {
      continue;
    }
    onnx::AttributeProto* kernel_shape = node.add_attribute();
    kernel_shape->set_name("kernel_shape");
    kernel_shape->set_type(onnx::AttributeProto::INTS);
    for (size_t i = 2; i < dims->second.size(); ++i) {
      kernel_shape->add_ints(dims->second[i]);
    }
  }
}

}  // namespace

std::string SerializeOnnxModel(const Model& model) {
  const onnx::ModelProto proto = ExportCheckedProto(model);
  std::string bytes;
  if (!proto.SerializeToString(&bytes)) {
    throw FormatError("protobuf serialization failed",
                      ErrorContext{model.source, "", ""});
  }
  return bytes;
}

std::unordered_map<std::string, ValueInfo> InferShapes(const Model& model) {
  onnx::ModelProto proto = ExportCheckedProto(model);
  CheckSafeForShapeInference(proto.graph(), model.source);
  PinConvKernelShapes(proto.mutable_graph(), {});
  // error_mode 0: a node without a schema or whose inference fails is
  // skipped rather than failing the whole model.
  const onnx::ShapeInferenceOptions options(/*check_type_val=*/false,
                                            /*strict_mode_val=*/0,
                                            /*data_prop_val=*/true);
  try {
    onnx::shape_inference::InferShapes(
        proto, onnx::OpSchemaRegistry::Instance(), options);
  } catch (const std::exception& error) {
    // onnx::InferenceError and onnx::checker::ValidationError, both thrown
    // for models whose declared types contradict what the ops produce.
    throw FormatError(
        std::string("ONNX shape inference failed: ") + error.what(),
        ErrorContext{model.source, "", ""});
  }
  std::unordered_map<std::string, ValueInfo> infos;
  const onnx::GraphProto& graph = proto.graph();
  for (const auto* list :
       {&graph.input(), &graph.output(), &graph.value_info()}) {
    for (const onnx::ValueInfoProto& info : *list) {
      infos.insert_or_assign(info.name(), ImportValueInfo(info));
    }
  }
  return infos;
}

void SaveOnnxModel(const Model& model, const std::string& path) {
  // Export (and check) first: a model that cannot be written never touches
  // the disk. The proto is then streamed into the file rather than through a
  // serialized string, so the model is held twice (IR + proto), not three
  // times: for a 100 MB ResNet-50, ~2x instead of ~3x the file in memory.
  const onnx::ModelProto proto = ExportCheckedProto(model);
  const ErrorContext where{path, "", ""};
  const fs::path target(path);
  fs::path folder = target.parent_path();
  if (folder.empty()) folder = ".";
  std::string temp_name =
      (folder / ("." + target.filename().string() + ".tmp-XXXXXX")).string();
  const int fd = mkstemp(temp_name.data());
  if (fd < 0) {
    throw IoError("cannot create a temporary file in '" + folder.string() +
                      "': " + ErrnoText(),
                  where);
  }
  auto fail = [&](const std::string& what) {
    const std::string reason = ErrnoText();
    ::close(fd);
    ::unlink(temp_name.c_str());
    throw IoError(what + ": " + reason, where);
  };
  if (!proto.SerializeToFileDescriptor(fd)) fail("writing failed");
  if (::fchmod(fd, S_IRUSR | S_IWUSR | S_IRGRP | S_IROTH) != 0) {
    fail("setting the file mode failed");
  }
  if (::fsync(fd) != 0) fail("flushing to disk failed");
  if (::close(fd) != 0) {
    const std::string reason = ErrnoText();
    ::unlink(temp_name.c_str());
    throw IoError("closing failed: " + reason, where);
  }
  if (std::rename(temp_name.c_str(), path.c_str()) != 0) {
    const std::string reason = ErrnoText();
    ::unlink(temp_name.c_str());
    throw IoError("cannot move the finished file into place: " + reason, where);
  }
}

}  // namespace foldrt::graph
