#include "tests/graph/onnx/onnx_test_util.h"

#include <google/protobuf/util/message_differencer.h>
#include <gtest/gtest.h>
#include <onnx/checker.h>

#include <cstdint>
#include <fstream>
#include <iterator>
#include <string>
#include <utility>
#include <vector>

#include "core/error.h"
#include "graph/onnx_io.h"

namespace foldrt::graph::testing {

using google::protobuf::util::MessageDifferencer;

onnx::ValueInfoProto TensorValue(const std::string& name, int32_t elem_type,
                                 const std::vector<std::string>& dims) {
  onnx::ValueInfoProto info;
  info.set_name(name);
  auto* tensor_type = info.mutable_type()->mutable_tensor_type();
  tensor_type->set_elem_type(elem_type);
  auto* shape = tensor_type->mutable_shape();
  for (const std::string& dim : dims) {
    if (dim.empty()) {
      shape->add_dim();  // unknown
    } else if (dim[0] == '-' || (dim[0] >= '0' && dim[0] <= '9')) {
      shape->add_dim()->set_dim_value(std::stoll(dim));  // negative: hostile
    } else {
      shape->add_dim()->set_dim_param(dim);
    }
  }
  return info;
}

onnx::TensorProto RawFloats(const std::string& name,
                            const std::vector<int64_t>& dims,
                            const std::vector<float>& values) {
  onnx::TensorProto tensor;
  tensor.set_name(name);
  tensor.set_data_type(onnx::TensorProto::FLOAT);
  for (int64_t dim : dims) tensor.add_dims(dim);
  tensor.set_raw_data(std::string(reinterpret_cast<const char*>(values.data()),
                                  values.size() * sizeof(float)));
  return tensor;
}

onnx::TensorProto TypedFloats(const std::string& name,
                              const std::vector<int64_t>& dims,
                              const std::vector<float>& values) {
  onnx::TensorProto tensor;
  if (!name.empty()) tensor.set_name(name);
  tensor.set_data_type(onnx::TensorProto::FLOAT);
  for (int64_t dim : dims) tensor.add_dims(dim);
  for (float value : values) tensor.add_float_data(value);
  return tensor;
}

onnx::NodeProto MakeNode(const std::string& op_type,
                         const std::vector<std::string>& inputs,
                         const std::vector<std::string>& outputs,
                         const std::string& name, const std::string& domain) {
  onnx::NodeProto node;
  node.set_op_type(op_type);
  node.set_name(name);
  if (!domain.empty()) node.set_domain(domain);
  for (const std::string& input : inputs) node.add_input(input);
  for (const std::string& output : outputs) node.add_output(output);
  return node;
}

onnx::AttributeProto MakeAttribute(const std::string& name,
                                   onnx::AttributeProto::AttributeType type) {
  onnx::AttributeProto attribute;
  attribute.set_name(name);
  attribute.set_type(type);
  return attribute;
}

void AddOpset(onnx::ModelProto* model, const std::string& domain,
              int64_t version) {
  auto* opset = model->add_opset_import();
  if (!domain.empty()) opset->set_domain(domain);
  opset->set_version(version);
}

// A subgraph with one Identity reading `outer` from the enclosing graph.
onnx::GraphProto IdentityBody(const std::string& name,
                              const std::string& outer) {
  onnx::GraphProto body;
  body.set_name(name);
  *body.add_node() =
      MakeNode("Identity", {outer}, {name + "_out"}, name + "_identity");
  *body.add_output() =
      TensorValue(name + "_out", onnx::TensorProto::FLOAT, {"N", "4"});
  return body;
}

onnx::SparseTensorProto MakeSparse(const std::string& name) {
  onnx::SparseTensorProto sparse;
  sparse.add_dims(4);
  *sparse.mutable_values() = TypedFloats(name, {2}, {1.5f, -2.0f});
  onnx::TensorProto* indices = sparse.mutable_indices();
  indices->set_name(name + "_indices");
  indices->set_data_type(onnx::TensorProto::INT64);
  indices->add_dims(2);
  indices->add_int64_data(0);
  indices->add_int64_data(3);
  return sparse;
}

// A custom-domain node carrying one attribute of every ONNX kind.
onnx::NodeProto EveryAttributeNode() {
  onnx::NodeProto node =
      MakeNode("Fancy", {"y"}, {"z"}, "fancy", "com.example");
  node.set_doc_string("a node foldrt does not understand");
  // Appends attribute `name` of `type` to the node, for the caller to fill.
  auto add = [&](const std::string& name,
                 onnx::AttributeProto::AttributeType type) {
    onnx::AttributeProto* attribute = node.add_attribute();
    *attribute = MakeAttribute(name, type);
    return attribute;
  };
  onnx::AttributeProto* f = add("f", onnx::AttributeProto::FLOAT);
  f->set_f(0.25f);
  f->set_doc_string("a float attribute");
  add("i", onnx::AttributeProto::INT)->set_i(-42);
  add("s", onnx::AttributeProto::STRING)
      ->set_s(std::string("bytes\0inside", 12));
  *add("t", onnx::AttributeProto::TENSOR)->mutable_t() =
      RawFloats("t_value", {2}, {1.0f, 2.0f});
  *add("g", onnx::AttributeProto::GRAPH)->mutable_g() =
      IdentityBody("g_body", "y");
  onnx::AttributeProto* floats = add("floats", onnx::AttributeProto::FLOATS);
  floats->add_floats(1.5f);
  floats->add_floats(-0.0f);
  onnx::AttributeProto* ints = add("ints", onnx::AttributeProto::INTS);
  ints->add_ints(INT64_MIN);
  ints->add_ints(3);
  onnx::AttributeProto* strings = add("strings", onnx::AttributeProto::STRINGS);
  strings->add_strings("one");
  strings->add_strings("");
  onnx::AttributeProto* tensors = add("tensors", onnx::AttributeProto::TENSORS);
  onnx::TensorProto* int8s = tensors->add_tensors();
  int8s->set_data_type(onnx::TensorProto::INT8);
  int8s->add_dims(3);
  int8s->add_int32_data(-128);
  int8s->add_int32_data(-1);
  int8s->add_int32_data(127);
  *tensors->add_tensors() = TypedFloats("", {1}, {3.0f});
  onnx::AttributeProto* graphs = add("graphs", onnx::AttributeProto::GRAPHS);
  *graphs->add_graphs() = IdentityBody("first_body", "y");
  *graphs->add_graphs() = IdentityBody("second_body", "x");
  *add("sparse", onnx::AttributeProto::SPARSE_TENSOR)->mutable_sparse_tensor() =
      MakeSparse("sparse_values");
  onnx::AttributeProto* sparses =
      add("sparses", onnx::AttributeProto::SPARSE_TENSORS);
  *sparses->add_sparse_tensors() = MakeSparse("sparse_a");
  *sparses->add_sparse_tensors() = MakeSparse("sparse_b");
  *add("tp", onnx::AttributeProto::TYPE_PROTO)->mutable_tp() =
      TensorValue("", onnx::TensorProto::INT64, {"2"}).type();
  onnx::AttributeProto* tps = add("tps", onnx::AttributeProto::TYPE_PROTOS);
  *tps->add_type_protos() =
      TensorValue("", onnx::TensorProto::FLOAT, {"N"}).type();
  tps->add_type_protos()
      ->mutable_sequence_type()
      ->mutable_elem_type()
      ->mutable_tensor_type()
      ->set_elem_type(onnx::TensorProto::FLOAT);
  return node;
}

// Conv -> BatchNormalization -> custom op, with initializers in every
// storage form, metadata, doc strings and value_info.
onnx::ModelProto RichModel() {
  onnx::ModelProto model;
  model.set_ir_version(8);
  AddOpset(&model, "", 13);
  AddOpset(&model, "com.example", 1);
  model.set_producer_name("foldrt-test");
  model.set_producer_version("1.0");
  model.set_domain("org.foldrt.test");
  model.set_model_version(3);
  model.set_doc_string("model doc");
  auto* meta = model.add_metadata_props();
  meta->set_key("author");
  meta->set_value("tests");
  meta = model.add_metadata_props();
  meta->set_key("license");
  meta->set_value("MIT");

  onnx::GraphProto* graph = model.mutable_graph();
  graph->set_name("rich");
  graph->set_doc_string("graph doc");
  *graph->add_input() =
      TensorValue("x", onnx::TensorProto::FLOAT, {"N", "3", "", "4"});
  graph->mutable_input(0)->set_doc_string("the image");
  graph->mutable_input(0)
      ->mutable_type()
      ->mutable_tensor_type()
      ->mutable_shape()
      ->mutable_dim(0)
      ->set_denotation("DATA_BATCH");
  *graph->add_output() = TensorValue("z", onnx::TensorProto::FLOAT, {"N"});
  *graph->add_value_info() =
      TensorValue("c", onnx::TensorProto::FLOAT, {"N", "4", "", "4"});
  *graph->add_value_info() = TensorValue("y", onnx::TensorProto::FLOAT, {});
  graph->mutable_value_info(1)
      ->mutable_type()
      ->mutable_tensor_type()
      ->clear_shape();  // rank unknown

  *graph->add_initializer() =
      RawFloats("W", {4, 3, 1, 1}, std::vector<float>(12, 0.5f));
  *graph->add_initializer() = TypedFloats("B", {4}, {0.1f, 0.2f, 0.3f, 0.4f});
  *graph->add_initializer() = TypedFloats("gamma", {4}, {1, 2, 3, 4});
  *graph->add_initializer() = RawFloats("beta", {4}, {0, 0, 1, 1});
  *graph->add_initializer() = TypedFloats("mean", {4}, {0.5f, 0, 0, 0});
  *graph->add_initializer() = RawFloats("var", {4}, {1, 1, 2, 2});
  onnx::TensorProto* half = graph->add_initializer();
  half->set_name("half");
  half->set_data_type(onnx::TensorProto::FLOAT16);
  half->add_dims(2);
  half->add_int32_data(0x3C00);
  half->add_int32_data(0xC000);
  onnx::TensorProto* longs = graph->add_initializer();
  longs->set_name("longs");
  longs->set_data_type(onnx::TensorProto::INT64);
  longs->add_int64_data(-7);
  onnx::TensorProto* doubles = graph->add_initializer();
  doubles->set_name("doubles");
  doubles->set_data_type(onnx::TensorProto::DOUBLE);
  doubles->add_dims(2);
  doubles->add_double_data(1e300);
  doubles->add_double_data(-2.5);
  onnx::TensorProto* unsigned64 = graph->add_initializer();
  unsigned64->set_name("u64");
  unsigned64->set_data_type(onnx::TensorProto::UINT64);
  unsigned64->add_dims(1);
  unsigned64->add_uint64_data(UINT64_MAX);
  onnx::TensorProto* words = graph->add_initializer();
  words->set_name("words");
  words->set_data_type(onnx::TensorProto::STRING);
  words->add_dims(2);
  words->add_string_data("hello");
  words->add_string_data("world");
  words->set_doc_string("string initializer");
  onnx::TensorProto* flags = graph->add_initializer();
  flags->set_name("flags");
  flags->set_data_type(onnx::TensorProto::BOOL);
  flags->add_dims(3);
  flags->set_raw_data(std::string("\x01\x00\x01", 3));

  onnx::NodeProto conv = MakeNode("Conv", {"x", "W", "B"}, {"c"}, "conv");
  auto kernel = MakeAttribute("kernel_shape", onnx::AttributeProto::INTS);
  kernel.add_ints(1);
  kernel.add_ints(1);
  *conv.add_attribute() = kernel;
  *graph->add_node() = conv;
  onnx::NodeProto bn = MakeNode(
      "BatchNormalization", {"c", "gamma", "beta", "mean", "var"}, {"y"}, "bn");
  auto epsilon = MakeAttribute("epsilon", onnx::AttributeProto::FLOAT);
  epsilon.set_f(1e-3f);
  *bn.add_attribute() = epsilon;
  bn.set_doc_string("bn doc");
  *graph->add_node() = bn;
  *graph->add_node() = EveryAttributeNode();
  return model;
}

Model Parse(const onnx::ModelProto& proto, const std::string& name) {
  const std::string bytes = proto.SerializeAsString();
  return ParseOnnxModel(bytes.data(), bytes.size(), name);
}

onnx::ModelProto ToProto(const Model& model) {
  onnx::ModelProto proto;
  EXPECT_TRUE(proto.ParseFromString(SerializeOnnxModel(model)));
  return proto;
}

// Exact equality, field presence included, with a readable diff.
void ExpectSameProto(const google::protobuf::Message& expected,
                     const google::protobuf::Message& actual) {
  MessageDifferencer differencer;
  std::string differences;
  differencer.ReportDifferencesToString(&differences);
  EXPECT_TRUE(differencer.Compare(expected, actual)) << differences;
}

void ExpectCheckerAccepts(const onnx::ModelProto& proto) {
  try {
    onnx::checker::check_model(proto);
  } catch (const std::exception& error) {
    ADD_FAILURE() << "onnx checker: " << error.what();
  }
}

void WriteFile(const fs::path& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  ASSERT_TRUE(out.good()) << path;
}

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

onnx::ModelProto EmptyModel(int64_t ir_version, int64_t opset,
                            const std::string& graph_name) {
  onnx::ModelProto model;
  model.set_ir_version(ir_version);
  AddOpset(&model, "", opset);
  model.mutable_graph()->set_name(graph_name);
  return model;
}

onnx::ModelProto SmallModel(int64_t ir_version, int64_t opset) {
  onnx::ModelProto model = EmptyModel(ir_version, opset, "small");
  onnx::GraphProto* graph = model.mutable_graph();
  *graph->add_input() = TensorValue("x", onnx::TensorProto::FLOAT, {"2"});
  *graph->add_initializer() = RawFloats("w", {2}, {1, 2});
  *graph->add_node() = MakeNode("Mul", {"x", "w"}, {"y"}, "mul");
  *graph->add_output() = TensorValue("y", onnx::TensorProto::FLOAT, {"2"});
  return model;
}

std::string ParseBytesError(const std::string& bytes) {
  try {
    ParseOnnxModel(bytes.data(), bytes.size(), "bad.onnx");
  } catch (const FormatError& error) {
    return error.what();
  }
  ADD_FAILURE() << "no FormatError";
  return "";
}

}  // namespace foldrt::graph::testing
