// Importing ONNX (graph/onnx/onnx_import.cc, onnx_load.cc): what the IR
// holds after a parse, initializers listed as inputs, constants seen through
// Identity/Constant, large models, and the errors bad input gives.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <onnx/onnx_pb.h>

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "core/error.h"
#include "graph/onnx_io.h"
#include "tests/graph/onnx/onnx_test_util.h"

namespace foldrt::graph::testing {
namespace {

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

TEST(OnnxIoTest, InitializersListedAsInputsBecomeConstants) {
  onnx::ModelProto original = EmptyModel(3, 9, "old_exporter");
  onnx::GraphProto* graph = original.mutable_graph();
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
  onnx::ModelProto original = EmptyModel(7, 12, "identity_constant");
  onnx::GraphProto* graph = original.mutable_graph();
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
  onnx::ModelProto original = EmptyModel(8, 17, "big");
  onnx::GraphProto* graph = original.mutable_graph();
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

}  // namespace
}  // namespace foldrt::graph::testing
