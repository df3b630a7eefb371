// Import: a parsed ModelProto into the graph IR (tensors, value infos,
// attributes, nodes, graphs and subgraphs, the model), with the checks that
// refuse what foldrt does not read. Reading the bytes is onnx_load.cc's job.
#include <optional>
#include <string>
#include <unordered_set>
#include <utility>
#include <vector>

#include "core/error.h"
#include "core/logging.h"
#include "graph/onnx/onnx_internal.h"

namespace foldrt::graph::onnx_internal {
namespace {

// Real models nest control flow a few levels deep at most. The bound keeps
// hostile files from hanging the import: copying a graph IR copies every
// nested subgraph at a cost that doubles per level (Node's move constructor
// copies), and the fuzzer found a 100-deep If chain that never finished.
constexpr int kMaxSubgraphDepth = 8;

std::string NormalizedDomain(const std::string& domain) {
  return IsDefaultDomain(domain) ? std::string() : domain;
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

}  // namespace

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

namespace {

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

}  // namespace

// The imported proto, logged. Tensor bytes move out of `proto`.
Model ImportParsed(onnx::ModelProto* proto, ImportContext* ctx) {
  Model model = ImportModel(proto, ctx);
  Logger().debug("loaded {}: IR version {}, {} nodes, {} initializers",
                 ctx->file, model.ir_version, model.graph.num_nodes(),
                 model.graph.num_initializers());
  return model;
}

}  // namespace foldrt::graph::onnx_internal
