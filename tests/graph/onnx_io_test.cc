// Test models are built here through the ONNX protobuf classes; only library
// code is bound to the one-file rule for ONNX headers.
#include "graph/onnx_io.h"

#include <gmock/gmock.h>
#include <google/protobuf/util/message_differencer.h>
#include <gtest/gtest.h>
#include <onnx/checker.h>
#include <onnx/onnx_pb.h>
#include <stdlib.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "core/error.h"

namespace foldrt::graph {
namespace {

namespace fs = std::filesystem;
using google::protobuf::util::MessageDifferencer;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

// ------------------------------------------------------------ proto makers

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
    } else if (dim[0] >= '0' && dim[0] <= '9') {
      shape->add_dim()->set_dim_value(std::stoll(dim));
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
                         const std::string& name,
                         const std::string& domain = "") {
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
  auto add = [&](onnx::AttributeProto attribute) {
    *node.add_attribute() = std::move(attribute);
  };
  auto f = MakeAttribute("f", onnx::AttributeProto::FLOAT);
  f.set_f(0.25f);
  f.set_doc_string("a float attribute");
  add(f);
  auto i = MakeAttribute("i", onnx::AttributeProto::INT);
  i.set_i(-42);
  add(i);
  auto s = MakeAttribute("s", onnx::AttributeProto::STRING);
  s.set_s(std::string("bytes\0inside", 12));
  add(s);
  auto t = MakeAttribute("t", onnx::AttributeProto::TENSOR);
  *t.mutable_t() = RawFloats("t_value", {2}, {1.0f, 2.0f});
  add(t);
  auto g = MakeAttribute("g", onnx::AttributeProto::GRAPH);
  *g.mutable_g() = IdentityBody("g_body", "y");
  add(g);
  auto floats = MakeAttribute("floats", onnx::AttributeProto::FLOATS);
  floats.add_floats(1.5f);
  floats.add_floats(-0.0f);
  add(floats);
  auto ints = MakeAttribute("ints", onnx::AttributeProto::INTS);
  ints.add_ints(INT64_MIN);
  ints.add_ints(3);
  add(ints);
  auto strings = MakeAttribute("strings", onnx::AttributeProto::STRINGS);
  strings.add_strings("one");
  strings.add_strings("");
  add(strings);
  auto tensors = MakeAttribute("tensors", onnx::AttributeProto::TENSORS);
  onnx::TensorProto* int8s = tensors.add_tensors();
  int8s->set_data_type(onnx::TensorProto::INT8);
  int8s->add_dims(3);
  int8s->add_int32_data(-128);
  int8s->add_int32_data(-1);
  int8s->add_int32_data(127);
  *tensors.add_tensors() = TypedFloats("", {1}, {3.0f});
  add(tensors);
  auto graphs = MakeAttribute("graphs", onnx::AttributeProto::GRAPHS);
  *graphs.add_graphs() = IdentityBody("first_body", "y");
  *graphs.add_graphs() = IdentityBody("second_body", "x");
  add(graphs);
  auto sparse = MakeAttribute("sparse", onnx::AttributeProto::SPARSE_TENSOR);
  *sparse.mutable_sparse_tensor() = MakeSparse("sparse_values");
  add(sparse);
  auto sparses = MakeAttribute("sparses", onnx::AttributeProto::SPARSE_TENSORS);
  *sparses.add_sparse_tensors() = MakeSparse("sparse_a");
  *sparses.add_sparse_tensors() = MakeSparse("sparse_b");
  add(sparses);
  auto tp = MakeAttribute("tp", onnx::AttributeProto::TYPE_PROTO);
  *tp.mutable_tp() = TensorValue("", onnx::TensorProto::INT64, {"2"}).type();
  add(tp);
  auto tps = MakeAttribute("tps", onnx::AttributeProto::TYPE_PROTOS);
  *tps.add_type_protos() =
      TensorValue("", onnx::TensorProto::FLOAT, {"N"}).type();
  tps.add_type_protos()
      ->mutable_sequence_type()
      ->mutable_elem_type()
      ->mutable_tensor_type()
      ->set_elem_type(onnx::TensorProto::FLOAT);
  add(tps);
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

Model Parse(const onnx::ModelProto& proto, const std::string& name = "test") {
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

// A folder under the system temp dir, removed when the test ends.
class TempDir {
 public:
  TempDir() {
    std::string pattern =
        (fs::temp_directory_path() / "foldrt_onnx_io_XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) {
      throw std::runtime_error("mkdtemp failed");
    }
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ignored;
    fs::remove_all(path_, ignored);
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

void WriteFile(const fs::path& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  ASSERT_TRUE(out.good()) << path;
}

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// ------------------------------------------------------------------ tests

TEST(OnnxIoTest, RoundTripKeepsEverything) {
  const onnx::ModelProto original = RichModel();
  const Model model = Parse(original);
  const onnx::ModelProto exported = ToProto(model);
  ExpectSameProto(original, exported);
  ExpectCheckerAccepts(exported);
  // Serializing the same model twice gives the same bytes.
  EXPECT_EQ(SerializeOnnxModel(model), SerializeOnnxModel(model));
}

TEST(OnnxIoTest, ImportedIrHasTheModelsContent) {
  const Model model = Parse(RichModel(), "rich.onnx");
  EXPECT_EQ(model.source, "rich.onnx");
  EXPECT_EQ(model.ir_version, 8);
  EXPECT_EQ(OpsetVersion(model, ""), 13);
  EXPECT_EQ(OpsetVersion(model, "com.example"), 1);
  EXPECT_EQ(model.producer_name, "foldrt-test");
  EXPECT_EQ(model.model_version, 3);
  ASSERT_EQ(model.metadata_props.size(), 2u);
  EXPECT_EQ(model.metadata_props[1].first, "license");

  const Graph& graph = model.graph;
  ASSERT_EQ(graph.num_nodes(), 3u);
  EXPECT_EQ(graph.node(1).op_type(), "BatchNormalization");
  EXPECT_FLOAT_EQ(graph.node(1).GetFloat("epsilon", 0), 1e-3f);
  EXPECT_EQ(graph.node(1).doc_string(), "bn doc");
  const Node& fancy = graph.node(2);
  EXPECT_EQ(fancy.domain(), "com.example");
  EXPECT_EQ(fancy.attributes().size(), 14u);
  EXPECT_EQ(fancy.FindAttribute("s")->s(), std::string("bytes\0inside", 12));
  EXPECT_EQ(fancy.FindAttribute("tensors")->tensors()[0].ToInt64s(),
            (std::vector<int64_t>{-128, -1, 127}));
  EXPECT_EQ(fancy.FindAttribute("graphs")->graphs()[1].name(), "second_body");
  // Subgraphs read y and x: the custom node depends on them implicitly.
  EXPECT_THAT(fancy.implicit_inputs(), ElementsAre("y", "x"));

  ASSERT_EQ(graph.inputs().size(), 1u);
  const ValueInfo& x = graph.inputs()[0];
  EXPECT_EQ(x.doc_string, "the image");
  ASSERT_TRUE(x.shape.has_value());
  ASSERT_EQ(x.shape->size(), 4u);
  EXPECT_EQ((*x.shape)[0].kind, Dim::Kind::kSymbolic);
  EXPECT_EQ((*x.shape)[0].symbol, "N");
  EXPECT_EQ((*x.shape)[0].denotation, "DATA_BATCH");
  EXPECT_EQ((*x.shape)[1].kind, Dim::Kind::kKnown);
  EXPECT_EQ((*x.shape)[1].value, 3);
  EXPECT_EQ((*x.shape)[2].kind, Dim::Kind::kUnknown);
  ASSERT_EQ(graph.value_info().size(), 2u);
  EXPECT_FALSE(graph.value_info()[1].shape.has_value());
  ASSERT_TRUE(graph.outputs()[0].shape.has_value());
  EXPECT_EQ(graph.outputs()[0].shape->size(), 1u);

  EXPECT_EQ(graph.FindInitializer("W")->storage(), TensorStorage::kRawData);
  EXPECT_EQ(graph.FindInitializer("B")->storage(), TensorStorage::kTypedField);
  EXPECT_EQ(graph.FindInitializer("B")->ToFloats(),
            (std::vector<float>{0.1f, 0.2f, 0.3f, 0.4f}));
  EXPECT_EQ(graph.FindInitializer("half")->bytes(),
            std::string("\x00\x3c\x00\xc0", 4));
  EXPECT_EQ(graph.FindInitializer("longs")->ToInt64s(),
            (std::vector<int64_t>{-7}));
  EXPECT_EQ(graph.FindInitializer("words")->strings(),
            (std::vector<std::string>{"hello", "world"}));
  EXPECT_EQ(graph.FindInitializer("flags")->ToInt64s(),
            (std::vector<int64_t>{1, 0, 1}));
}

TEST(OnnxIoTest, UnknownFieldsFromNewerOnnxSurvive) {
  onnx::ModelProto original = RichModel();
  original.mutable_unknown_fields()->AddVarint(26, 1);
  original.mutable_graph()
      ->mutable_node(0)
      ->mutable_unknown_fields()
      ->AddLengthDelimited(9, "node metadata");
  original.mutable_graph()
      ->mutable_initializer(0)
      ->mutable_unknown_fields()
      ->AddLengthDelimited(16, "tensor metadata");
  original.mutable_graph()
      ->mutable_input(0)
      ->mutable_unknown_fields()
      ->AddLengthDelimited(4, "value metadata");
  ExpectSameProto(original, ToProto(Parse(original)));
}

TEST(OnnxIoTest, EditedModelExportsInTopologicalOrder) {
  Model model = Parse(RichModel());
  Graph& graph = model.graph;
  // A fold-style edit: drop the BN, let the conv write its output, and
  // append a new node that must come before the custom op.
  graph.RemoveNode(graph.Producer("y"));
  for (const char* name : {"gamma", "beta", "mean", "var"}) {
    ASSERT_TRUE(graph.RemoveInitializer(name));
  }
  graph.Producer("c")->SetOutput(0, "c_raw");
  graph.AddNode(Node("Relu", {"c_raw"}, {"y"}, "late_relu"));
  const onnx::ModelProto exported = ToProto(model);
  ExpectCheckerAccepts(exported);
  std::vector<std::string> order;
  for (const auto& node : exported.graph().node()) order.push_back(node.name());
  EXPECT_THAT(order, ElementsAre("conv", "late_relu", "fancy"));
  EXPECT_EQ(exported.graph().initializer_size(), 8);
}

TEST(OnnxIoTest, InitializersListedAsInputsBecomeConstants) {
  onnx::ModelProto original;
  original.set_ir_version(3);
  AddOpset(&original, "", 9);
  onnx::GraphProto* graph = original.mutable_graph();
  graph->set_name("old_exporter");
  *graph->add_input() = TensorValue("x", onnx::TensorProto::FLOAT, {"1", "2"});
  *graph->add_input() = TensorValue("w", onnx::TensorProto::FLOAT, {"2"});
  *graph->add_input() = TensorValue("k", onnx::TensorProto::FLOAT, {"2"});
  *graph->add_initializer() = RawFloats("w", {2}, {3, 4});
  *graph->add_initializer() = TypedFloats("k", {2}, {5, 6});
  *graph->add_node() = MakeNode("Mul", {"x", "w"}, {"m"}, "mul");
  *graph->add_node() = MakeNode("Add", {"m", "k"}, {"out"}, "add");
  *graph->add_output() =
      TensorValue("out", onnx::TensorProto::FLOAT, {"1", "2"});

  Model model = Parse(original);
  ASSERT_EQ(model.graph.inputs().size(), 1u);
  EXPECT_EQ(model.graph.inputs()[0].name, "x");
  ASSERT_EQ(model.graph.initializer_inputs().size(), 2u);
  EXPECT_EQ(model.graph.initializer_inputs()[1].name, "k");
  ASSERT_NE(model.graph.GetConstant("w"), nullptr);
  EXPECT_EQ(model.graph.GetConstant("w")->ToFloats(),
            (std::vector<float>{3, 4}));
  EXPECT_FALSE(model.graph.IsGraphInput("w"));

  const onnx::ModelProto exported = ToProto(model);
  ExpectSameProto(original, exported);
  ExpectCheckerAccepts(exported);

  // IR version 3 needs every initializer among the inputs, also new ones.
  Tensor copy = *model.graph.FindInitializer("w");
  copy.set_name("w_scaled");
  copy.SetFloats({30, 40});
  model.graph.AddInitializer(std::move(copy));
  model.graph.Producer("m")->SetInput(1, "w_scaled");
  const onnx::ModelProto edited = ToProto(model);
  ExpectCheckerAccepts(edited);
  ASSERT_EQ(edited.graph().input_size(), 4);
  EXPECT_EQ(edited.graph().input(3).name(), "w_scaled");
}

TEST(OnnxIoTest, GetConstantSeesThroughImportedIdentityAndConstant) {
  onnx::ModelProto original;
  original.set_ir_version(7);
  AddOpset(&original, "", 12);
  onnx::GraphProto* graph = original.mutable_graph();
  graph->set_name("identity_constant");
  *graph->add_input() =
      TensorValue("x", onnx::TensorProto::FLOAT, {"1", "2", "3", "3"});
  *graph->add_initializer() = RawFloats("w_init", {2, 2, 1, 1}, {1, 2, 3, 4});
  *graph->add_node() = MakeNode("Identity", {"w_init"}, {"w"}, "weight_copy");
  onnx::NodeProto constant = MakeNode("Constant", {}, {"b"}, "bias_const");
  auto value = MakeAttribute("value", onnx::AttributeProto::TENSOR);
  *value.mutable_t() = TypedFloats("", {2}, {0.5f, -0.5f});
  *constant.add_attribute() = value;
  *graph->add_node() = constant;
  *graph->add_node() = MakeNode("Conv", {"x", "w", "b"}, {"y"}, "conv");
  *graph->add_output() =
      TensorValue("y", onnx::TensorProto::FLOAT, {"1", "2", "3", "3"});

  const Model model = Parse(original);
  const Node* conv = model.graph.Producer("y");
  ASSERT_NE(conv, nullptr);
  const Tensor* weight = model.graph.GetConstant(conv->input(1));
  ASSERT_NE(weight, nullptr);
  EXPECT_EQ(weight, model.graph.FindInitializer("w_init"));
  const Tensor* bias = model.graph.GetConstant(conv->input(2));
  ASSERT_NE(bias, nullptr);
  EXPECT_EQ(bias->ToFloats(), (std::vector<float>{0.5f, -0.5f}));
  EXPECT_EQ(model.graph.GetConstant("x"), nullptr);
  // The Identity and Constant nodes stay in the graph.
  EXPECT_EQ(model.graph.num_nodes(), 3u);
  ExpectSameProto(original, ToProto(model));
}

TEST(OnnxIoTest, ModelsOver64MiBParse) {
  onnx::ModelProto original;
  original.set_ir_version(8);
  AddOpset(&original, "", 17);
  onnx::GraphProto* graph = original.mutable_graph();
  graph->set_name("big");
  *graph->add_input() = TensorValue("x", onnx::TensorProto::FLOAT, {"1"});
  constexpr int64_t kCount = 18 * 1024 * 1024;  // 72 MiB of float32
  std::vector<float> values(kCount);
  for (int64_t i = 0; i < kCount; ++i) values[i] = static_cast<float>(i % 977);
  *graph->add_initializer() = RawFloats("big", {kCount}, values);
  *graph->add_node() = MakeNode("Add", {"x", "big"}, {"y"}, "add");
  *graph->add_output() = TensorValue("y", onnx::TensorProto::FLOAT, {});
  const std::string bytes = original.SerializeAsString();
  ASSERT_GT(bytes.size(), 64u << 20);

  const Model model = ParseOnnxModel(bytes.data(), bytes.size(), "big");
  const Tensor* big = model.graph.FindInitializer("big");
  ASSERT_NE(big, nullptr);
  EXPECT_EQ(big->NumElements(), kCount);
  EXPECT_EQ(big->ToFloats()[kCount - 1], values[kCount - 1]);
  EXPECT_EQ(SerializeOnnxModel(model), bytes);
}

// ------------------------------------------------------------ bad input

onnx::ModelProto SmallModel(int64_t ir_version = 8, int64_t opset = 13) {
  onnx::ModelProto model;
  model.set_ir_version(ir_version);
  AddOpset(&model, "", opset);
  onnx::GraphProto* graph = model.mutable_graph();
  graph->set_name("small");
  *graph->add_input() = TensorValue("x", onnx::TensorProto::FLOAT, {"2"});
  *graph->add_initializer() = RawFloats("w", {2}, {1, 2});
  *graph->add_node() = MakeNode("Mul", {"x", "w"}, {"y"}, "mul");
  *graph->add_output() = TensorValue("y", onnx::TensorProto::FLOAT, {"2"});
  return model;
}

template <typename ErrorType>
std::string ParseError(const onnx::ModelProto& proto) {
  try {
    Parse(proto, "bad.onnx");
  } catch (const ErrorType& error) {
    return error.what();
  }
  ADD_FAILURE() << "no error of the expected type";
  return "";
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

TEST(OnnxIoBadInputTest, RandomBytesAreNotAModel) {
  std::mt19937 generator(1234);
  std::string bytes(4096, '\0');
  for (char& byte : bytes) byte = static_cast<char>(generator() & 0xff);
  EXPECT_THAT(ParseBytesError(bytes), HasSubstr("not an ONNX model"));
  EXPECT_THAT(ParseBytesError("hello, I am a text file\n"),
              HasSubstr("not an ONNX model"));
}

TEST(OnnxIoBadInputTest, TruncatedModel) {
  const std::string bytes = RichModel().SerializeAsString();
  const std::string message =
      ParseBytesError(bytes.substr(0, bytes.size() / 2));
  EXPECT_THAT(message, HasSubstr("truncated"));
  EXPECT_THAT(message, HasSubstr("bad.onnx"));
  EXPECT_THAT(ParseBytesError(bytes.substr(0, bytes.size() - 1)),
              HasSubstr("truncated"));
}

TEST(OnnxIoBadInputTest, EmptyFile) {
  TempDir dir;
  const fs::path path = dir.path() / "empty.onnx";
  WriteFile(path, "");
  try {
    LoadOnnxModel(path.string());
    FAIL() << "expected a FormatError";
  } catch (const FormatError& error) {
    EXPECT_THAT(error.what(), HasSubstr("empty"));
    EXPECT_EQ(error.context().file, path.string());
  }
}

TEST(OnnxIoBadInputTest, MissingFileIsIoError) {
  TempDir dir;
  EXPECT_THROW(LoadOnnxModel((dir.path() / "absent.onnx").string()), IoError);
  EXPECT_THROW(LoadOnnxModel(dir.path().string()), IoError);
}

TEST(OnnxIoBadInputTest, OpsetOutsideSupportedRange) {
  EXPECT_THAT(ParseError<UnsupportedError>(SmallModel(8, 99)),
              HasSubstr("opset 99"));
  EXPECT_THAT(ParseError<UnsupportedError>(SmallModel(8, 6)),
              HasSubstr("opset 6"));
  EXPECT_NO_THROW(Parse(SmallModel(8, 7)));
  EXPECT_NO_THROW(Parse(SmallModel(8, 17)));
}

TEST(OnnxIoBadInputTest, IrVersionTwo) {
  EXPECT_THAT(ParseError<UnsupportedError>(SmallModel(2, 13)),
              HasSubstr("IR version 2"));
  onnx::ModelProto no_ir = SmallModel();
  no_ir.clear_ir_version();
  EXPECT_THAT(ParseError<FormatError>(no_ir), HasSubstr("not an ONNX model"));
}

TEST(OnnxIoBadInputTest, NodeOfDomainTheModelDoesNotImport) {
  onnx::ModelProto model = SmallModel();
  *model.mutable_graph()->add_node() =
      MakeNode("Mystery", {"y"}, {"q"}, "mystery", "com.unknown");
  const std::string message = ParseError<UnsupportedError>(model);
  EXPECT_THAT(message, HasSubstr("mystery"));
  EXPECT_THAT(message, HasSubstr("(Mystery)"));
  EXPECT_THAT(message, HasSubstr("com.unknown"));

  // Imported non-default domains are fine; their nodes are kept.
  AddOpset(&model, "com.unknown", 1);
  const Model parsed = Parse(model);
  EXPECT_EQ(parsed.graph.Producer("q")->domain(), "com.unknown");

  onnx::ModelProto ml = SmallModel();
  AddOpset(&ml, "ai.onnx.ml", 3);
  onnx::NodeProto scaler =
      MakeNode("Scaler", {"y"}, {"scaled"}, "scaler", "ai.onnx.ml");
  *scaler.add_attribute() =
      MakeAttribute("scale", onnx::AttributeProto::FLOATS);
  scaler.mutable_attribute(0)->add_floats(2.0f);
  *ml.mutable_graph()->add_node() = scaler;
  const onnx::ModelProto exported = ToProto(Parse(ml));
  ExpectSameProto(ml, exported);
  ExpectCheckerAccepts(exported);
}

TEST(OnnxIoBadInputTest, InconsistentTensors) {
  onnx::ModelProto short_raw = SmallModel();
  short_raw.mutable_graph()->mutable_initializer(0)->mutable_raw_data()->resize(
      7);
  EXPECT_THAT(ParseError<FormatError>(short_raw), HasSubstr("'w'"));

  onnx::ModelProto short_typed = SmallModel();
  *short_typed.mutable_graph()->mutable_initializer(0) =
      TypedFloats("w", {2}, {1});
  EXPECT_THAT(ParseError<FormatError>(short_typed), HasSubstr("float_data"));

  onnx::ModelProto both = SmallModel();
  both.mutable_graph()->mutable_initializer(0)->add_float_data(1);
  EXPECT_THAT(ParseError<FormatError>(both), HasSubstr("both"));

  onnx::ModelProto untyped = SmallModel();
  untyped.mutable_graph()->mutable_initializer(0)->clear_data_type();
  EXPECT_THAT(ParseError<FormatError>(untyped), HasSubstr("no data type"));
}

TEST(OnnxIoBadInputTest, GraphFailingVerification) {
  onnx::ModelProto dangling = SmallModel();
  dangling.mutable_graph()->mutable_node(0)->set_input(1, "nowhere");
  const std::string message = ParseError<FormatError>(dangling);
  EXPECT_THAT(message, HasSubstr("bad.onnx"));
  EXPECT_THAT(message, HasSubstr("mul"));
  EXPECT_THAT(message, HasSubstr("'nowhere'"));

  onnx::ModelProto duplicate = SmallModel();
  *duplicate.mutable_graph()->add_node() =
      MakeNode("Relu", {"x"}, {"y"}, "again");
  EXPECT_THAT(ParseError<FormatError>(duplicate), HasSubstr("defined twice"));
}

// ------------------------------------------------------------ external data

// A model whose initializer "w" (float [2, 3]) lives at `location`.
onnx::ModelProto ExternalDataModel(const std::string& location,
                                   const std::string& offset,
                                   const std::string& length) {
  onnx::ModelProto model = SmallModel();
  onnx::GraphProto* graph = model.mutable_graph();
  *graph->mutable_input(0) =
      TensorValue("x", onnx::TensorProto::FLOAT, {"2", "3"});
  *graph->mutable_output(0) =
      TensorValue("y", onnx::TensorProto::FLOAT, {"2", "3"});
  onnx::TensorProto* w = graph->mutable_initializer(0);
  w->Clear();
  w->set_name("w");
  w->set_data_type(onnx::TensorProto::FLOAT);
  w->add_dims(2);
  w->add_dims(3);
  w->set_data_location(onnx::TensorProto::EXTERNAL);
  auto add_entry = [&](const std::string& key, const std::string& value) {
    if (value.empty()) return;
    auto* entry = w->add_external_data();
    entry->set_key(key);
    entry->set_value(value);
  };
  add_entry("location", location);
  add_entry("offset", offset);
  add_entry("length", length);
  return model;
}

const std::vector<float> kExternalValues = {1, 2, 3, 4, 5, 6};

// 8 bytes of padding, the 24 bytes of kExternalValues, 4 bytes of tail.
std::string ExternalFileBytes() {
  std::string bytes(8, '\x7f');
  bytes.append(reinterpret_cast<const char*>(kExternalValues.data()), 24);
  bytes.append(4, '\x7f');
  return bytes;
}

class ExternalDataTest : public ::testing::Test {
 protected:
  void SetUp() override {
    model_dir_ = dir_.path() / "model";
    fs::create_directory(model_dir_);
  }

  // Writes the model into the model folder and loads it.
  Model Load(const onnx::ModelProto& proto) {
    const fs::path path = model_dir_ / "model.onnx";
    WriteFile(path, proto.SerializeAsString());
    return LoadOnnxModel(path.string());
  }

  template <typename ErrorType>
  std::string LoadError(const onnx::ModelProto& proto) {
    try {
      Load(proto);
    } catch (const ErrorType& error) {
      return error.what();
    }
    ADD_FAILURE() << "no error of the expected type";
    return "";
  }

  TempDir dir_;
  fs::path model_dir_;
};

TEST_F(ExternalDataTest, LoadsDataAtOffsetAndExportsItInline) {
  fs::create_directory(model_dir_ / "weights");
  WriteFile(model_dir_ / "weights" / "w.bin", ExternalFileBytes());
  const Model model = Load(ExternalDataModel("weights/w.bin", "8", "24"));
  const Tensor* w = model.graph.FindInitializer("w");
  ASSERT_NE(w, nullptr);
  EXPECT_EQ(w->ToFloats(), kExternalValues);

  const onnx::ModelProto exported = ToProto(model);
  ExpectCheckerAccepts(exported);
  const onnx::TensorProto& inline_w = exported.graph().initializer(0);
  EXPECT_NE(inline_w.data_location(), onnx::TensorProto::EXTERNAL);
  EXPECT_EQ(inline_w.raw_data().size(), 24u);

  // Without length the data runs to the end of the file.
  WriteFile(model_dir_ / "tail.bin", ExternalFileBytes().substr(0, 32));
  EXPECT_EQ(Load(ExternalDataModel("tail.bin", "8", ""))
                .graph.FindInitializer("w")
                ->ToFloats(),
            kExternalValues);
  // A "..", resolving inside the folder, is fine.
  EXPECT_NO_THROW(Load(ExternalDataModel("weights/../tail.bin", "8", "")));
  // So is a symlink that stays inside.
  fs::create_symlink("weights/w.bin", model_dir_ / "inside_link.bin");
  EXPECT_NO_THROW(Load(ExternalDataModel("inside_link.bin", "8", "24")));
}

TEST_F(ExternalDataTest, RefusesDotDotEscape) {
  WriteFile(dir_.path() / "outside.bin", ExternalFileBytes());
  const std::string message =
      LoadError<FormatError>(ExternalDataModel("../outside.bin", "8", "24"));
  EXPECT_THAT(message, HasSubstr("leaves the model's folder"));
  EXPECT_THAT(message, HasSubstr("'w'"));
  EXPECT_THAT(
      LoadError<FormatError>(ExternalDataModel("a/../../outside.bin", "8", "")),
      HasSubstr("leaves the model's folder"));
}

TEST_F(ExternalDataTest, RefusesAbsolutePath) {
  const fs::path outside = dir_.path() / "outside.bin";
  WriteFile(outside, ExternalFileBytes());
  EXPECT_THAT(
      LoadError<FormatError>(ExternalDataModel(outside.string(), "8", "24")),
      HasSubstr("absolute path"));
}

TEST_F(ExternalDataTest, RefusesSymlinkEscape) {
  WriteFile(dir_.path() / "outside.bin", ExternalFileBytes());
  fs::create_symlink(dir_.path() / "outside.bin", model_dir_ / "link.bin");
  EXPECT_THAT(LoadError<FormatError>(ExternalDataModel("link.bin", "8", "24")),
              HasSubstr("outside the model's folder"));
  fs::create_directory_symlink(dir_.path(), model_dir_ / "up");
  EXPECT_THAT(
      LoadError<FormatError>(ExternalDataModel("up/outside.bin", "8", "24")),
      HasSubstr("outside the model's folder"));
}

TEST_F(ExternalDataTest, MissingFileIsIoError) {
  EXPECT_THAT(LoadError<IoError>(ExternalDataModel("absent.bin", "", "")),
              HasSubstr("absent.bin"));
}

TEST_F(ExternalDataTest, RefusesOffsetOrLengthPastTheEnd) {
  WriteFile(model_dir_ / "w.bin", ExternalFileBytes());  // 36 bytes
  EXPECT_THAT(LoadError<FormatError>(ExternalDataModel("w.bin", "40", "")),
              HasSubstr("past the end"));
  EXPECT_THAT(LoadError<FormatError>(ExternalDataModel("w.bin", "20", "24")),
              HasSubstr("past the end"));
  EXPECT_THAT(LoadError<FormatError>(ExternalDataModel("w.bin", "0", "28")),
              HasSubstr("needs 24"));
  EXPECT_THAT(LoadError<FormatError>(ExternalDataModel("w.bin", "-8", "24")),
              HasSubstr("not a non-negative integer"));
  EXPECT_THAT(LoadError<FormatError>(ExternalDataModel("", "0", "24")),
              HasSubstr("without a location"));
}

TEST_F(ExternalDataTest, InMemoryParseCannotResolveExternalData) {
  const std::string bytes =
      ExternalDataModel("w.bin", "0", "24").SerializeAsString();
  EXPECT_THROW(ParseOnnxModel(bytes.data(), bytes.size(), "memory"),
               UnsupportedError);
}

// ------------------------------------------------------------ saving

TEST(OnnxSaveTest, SaveThenLoadGivesTheSameModel) {
  TempDir dir;
  const fs::path path = dir.path() / "saved.onnx";
  const onnx::ModelProto original = RichModel();
  SaveOnnxModel(Parse(original), path.string());
  onnx::ModelProto reread;
  ASSERT_TRUE(reread.ParseFromString(ReadFile(path)));
  ExpectSameProto(original, reread);
  ExpectSameProto(original, ToProto(LoadOnnxModel(path.string())));
  // Only the model itself is left: no temporary file.
  EXPECT_EQ(std::distance(fs::directory_iterator(dir.path()),
                          fs::directory_iterator()),
            1);
}

TEST(OnnxSaveTest, FailureLeavesNoPartialFile) {
  TempDir dir;
  const fs::path path = dir.path() / "model.onnx";
  WriteFile(path, "previous contents");
  Model broken = Parse(SmallModel());
  broken.graph.Producer("y")->SetInput(0, "nowhere");
  EXPECT_THROW(SaveOnnxModel(broken, path.string()), FormatError);
  EXPECT_EQ(ReadFile(path), "previous contents");

  EXPECT_THROW(SaveOnnxModel(Parse(SmallModel()),
                             (dir.path() / "no_such_dir" / "m.onnx").string()),
               IoError);
  EXPECT_EQ(std::distance(fs::directory_iterator(dir.path()),
                          fs::directory_iterator()),
            1);
}

// ------------------------------------------------------------ real models

// Models exported by PyTorch (tests/data/*.onnx, see MANIFEST.json there).
TEST(OnnxRealModelsTest, RoundTripEveryExportedModel) {
  const char* source_dir = std::getenv("FOLDRT_SOURCE_DIR");
  if (source_dir == nullptr) GTEST_SKIP() << "FOLDRT_SOURCE_DIR is not set";
  const fs::path data_dir = fs::path(source_dir) / "tests" / "data";
  std::vector<fs::path> models;
  std::error_code error;
  for (const auto& entry : fs::directory_iterator(data_dir, error)) {
    if (entry.path().extension() == ".onnx") models.push_back(entry.path());
  }
  if (models.empty()) GTEST_SKIP() << "no .onnx files in " << data_dir;
  std::sort(models.begin(), models.end());
  for (const fs::path& path : models) {
    SCOPED_TRACE(path.string());
    onnx::ModelProto original;
    ASSERT_TRUE(original.ParseFromString(ReadFile(path)));
    const Model model = LoadOnnxModel(path.string());
    EXPECT_EQ(model.graph.num_nodes(),
              static_cast<size_t>(original.graph().node_size()));

    // Initializers the exporter also listed as inputs are constants.
    std::set<std::string> initializer_names;
    for (const auto& tensor : original.graph().initializer()) {
      initializer_names.insert(tensor.name());
    }
    size_t listed_initializers = 0;
    for (const auto& input : original.graph().input()) {
      listed_initializers += initializer_names.count(input.name());
    }
    EXPECT_EQ(model.graph.initializer_inputs().size(), listed_initializers);
    EXPECT_EQ(model.graph.inputs().size(),
              original.graph().input_size() - listed_initializers);

    const onnx::ModelProto exported = ToProto(model);
    ExpectCheckerAccepts(exported);
    const bool has_external_data = std::any_of(
        original.graph().initializer().begin(),
        original.graph().initializer().end(), [](const auto& tensor) {
          return tensor.data_location() == onnx::TensorProto::EXTERNAL;
        });
    // Export writes external data inline, so only self-contained files
    // can come back identical.
    if (!has_external_data) ExpectSameProto(original, exported);
  }
}

}  // namespace
}  // namespace foldrt::graph
