#include "graph/graph.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "core/error.h"

namespace foldrt::graph {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::UnorderedElementsAre;

std::vector<std::string> Names(const std::vector<const Node*>& nodes) {
  std::vector<std::string> names;
  for (const Node* node : nodes) names.push_back(node->name());
  return names;
}

std::vector<std::string> Names(const std::vector<Node*>& nodes) {
  std::vector<std::string> names;
  for (const Node* node : nodes) names.push_back(node->name());
  return names;
}

ValueInfo FloatInput(const std::string& name) {
  return ValueInfo::ForTensor(
      name, DataType::kFloat,
      std::vector<Dim>{Dim::Symbolic("N"), Dim::Known(3)});
}

// x -> Conv(W, B) -> c -> BatchNormalization -> y -> Relu -> z (output).
Graph ConvBnRelu() {
  Graph graph;
  graph.mutable_inputs()->push_back(FloatInput("x"));
  graph.mutable_outputs()->push_back(FloatInput("z"));
  graph.AddInitializer(
      Tensor::FromFloats("W", {3, 3, 1, 1}, std::vector<float>(9, 1.0f)));
  graph.AddInitializer(Tensor::FromFloats("B", {3}, {0, 0, 0}));
  for (const char* name : {"gamma", "beta", "mean", "var"}) {
    graph.AddInitializer(Tensor::FromFloats(name, {3}, {1, 1, 1}));
  }
  graph.AddNode(Node("Conv", {"x", "W", "B"}, {"c"}, "conv"));
  graph.AddNode(Node("BatchNormalization",
                     {"c", "gamma", "beta", "mean", "var"}, {"y"}, "bn"));
  graph.AddNode(Node("Relu", {"y"}, {"z"}, "relu"));
  return graph;
}

std::string VerifyError(const Graph& graph) {
  try {
    graph.Verify("model.onnx");
  } catch (const FormatError& error) {
    return error.what();
  }
  return "";
}

TEST(GraphTest, ProducersAndUses) {
  Graph graph = ConvBnRelu();
  EXPECT_NO_THROW(graph.Verify());
  ASSERT_NE(graph.Producer("c"), nullptr);
  EXPECT_EQ(graph.Producer("c")->name(), "conv");
  EXPECT_EQ(graph.Producer("x"), nullptr);
  EXPECT_EQ(graph.Producer("W"), nullptr);

  const std::vector<Use>& uses = graph.Uses("c");
  ASSERT_EQ(uses.size(), 1u);
  EXPECT_EQ(uses[0].node->name(), "bn");
  EXPECT_EQ(uses[0].input_index, 0);
  EXPECT_THAT(Names(graph.Consumers("W")), ElementsAre("conv"));
  EXPECT_TRUE(graph.Uses("z").empty());
  EXPECT_TRUE(graph.IsGraphOutput("z"));
  EXPECT_FALSE(graph.IsGraphOutput("y"));
  EXPECT_TRUE(graph.IsGraphInput("x"));
  EXPECT_FALSE(graph.IsGraphInput("W"));
}

TEST(GraphTest, EditsKeepTheIndexCurrent) {
  Graph graph = ConvBnRelu();
  Node* bn = graph.Producer("y");
  Node* relu = graph.Producer("z");

  // Fold-style rewrite: the conv takes over the BN's output name.
  std::unique_ptr<Node> removed = graph.RemoveNode(bn);
  EXPECT_EQ(removed->owner(), nullptr);
  EXPECT_EQ(graph.Producer("y"), nullptr);
  EXPECT_TRUE(graph.Uses("c").empty());
  EXPECT_TRUE(graph.Uses("gamma").empty());
  graph.Producer("c")->SetOutput(0, "y");
  EXPECT_EQ(graph.Producer("y")->name(), "conv");
  EXPECT_EQ(graph.Producer("c"), nullptr);
  EXPECT_NO_THROW(graph.Verify());

  relu->SetInput(0, "x");
  EXPECT_TRUE(graph.Uses("y").empty());
  EXPECT_THAT(Names(graph.Consumers("x")),
              UnorderedElementsAre("conv", "relu"));

  Node* added = graph.AddNode(Node("Neg", {"y"}, {"n"}, "neg"));
  EXPECT_EQ(added->owner(), &graph);
  EXPECT_EQ(graph.Producer("n"), added);
  EXPECT_THAT(Names(graph.Consumers("y")), ElementsAre("neg"));

  EXPECT_THROW(graph.RemoveNode(removed.get()), InvalidArgumentError);
  EXPECT_THROW(relu->SetInput(3, "x"), InvalidArgumentError);
  EXPECT_THAT(Names(graph.Consumers("x")),
              UnorderedElementsAre("conv", "relu"));
}

TEST(GraphTest, ReplaceAllUsesLeavesGraphOutputsAlone) {
  Graph graph = ConvBnRelu();
  graph.mutable_outputs()->push_back(FloatInput("y"));
  graph.ReplaceAllUses("y", "c");
  EXPECT_EQ(graph.Producer("z")->input(0), "c");
  EXPECT_TRUE(graph.Uses("y").empty());
  EXPECT_TRUE(graph.IsGraphOutput("y"));
  EXPECT_EQ(graph.Uses("c").size(), 2u);
}

TEST(GraphTest, TopologicalOrderKeepsSortedGraphsAndSortsOthers) {
  Graph sorted = ConvBnRelu();
  EXPECT_THAT(Names(sorted.TopologicalOrder()),
              ElementsAre("conv", "bn", "relu"));

  Graph graph;
  graph.mutable_inputs()->push_back(FloatInput("x"));
  graph.mutable_outputs()->push_back(FloatInput("d"));
  graph.AddNode(Node("Add", {"b", "c"}, {"d"}, "add"));
  graph.AddNode(Node("Relu", {"a"}, {"c"}, "relu"));
  graph.AddNode(Node("Neg", {"a"}, {"b"}, "neg"));
  graph.AddNode(Node("Abs", {"x"}, {"a"}, "abs"));
  const std::vector<const Node*> order =
      static_cast<const Graph&>(graph).TopologicalOrder();
  // Among ready nodes the earlier-stored one goes first: relu before neg.
  EXPECT_THAT(Names(order), ElementsAre("abs", "relu", "neg", "add"));
  EXPECT_THAT(Names(graph.nodes()), ElementsAre("add", "relu", "neg", "abs"));
  graph.SortTopologically();
  EXPECT_THAT(Names(graph.nodes()), ElementsAre("abs", "relu", "neg", "add"));
  EXPECT_NO_THROW(graph.Verify());
}

TEST(GraphTest, CycleIsFormatErrorNamingANodeOnIt) {
  Graph graph;
  graph.mutable_inputs()->push_back(FloatInput("x"));
  graph.mutable_outputs()->push_back(FloatInput("d"));
  // "after" is stored first and waits on the cycle without being on it.
  graph.AddNode(Node("Neg", {"b"}, {"d"}, "after"));
  graph.AddNode(Node("Add", {"x", "b"}, {"a"}, "loop_add"));
  graph.AddNode(Node("Relu", {"a"}, {"b"}, "loop_relu"));
  try {
    graph.TopologicalOrder();
    FAIL() << "expected a FormatError";
  } catch (const FormatError& error) {
    EXPECT_THAT(error.message(), HasSubstr("cycle"));
    EXPECT_TRUE(error.context().node == "loop_add" ||
                error.context().node == "loop_relu")
        << error.what();
  }
  EXPECT_THAT(VerifyError(graph), HasSubstr("cycle"));

  Graph self_loop;
  self_loop.mutable_outputs()->push_back(FloatInput("s"));
  self_loop.AddNode(Node("Relu", {"s"}, {"s"}, "selfie"));
  try {
    self_loop.SortTopologically();
    FAIL() << "expected a FormatError";
  } catch (const FormatError& error) {
    EXPECT_EQ(error.context().node, "selfie");
    EXPECT_EQ(error.context().op, "Relu");
  }
}

TEST(GraphTest, VerifyRejectsInputNobodyProduces) {
  Graph graph = ConvBnRelu();
  graph.Producer("z")->SetInput(0, "nowhere");
  const std::string message = VerifyError(graph);
  EXPECT_THAT(message, HasSubstr("model.onnx"));
  EXPECT_THAT(message, HasSubstr("relu"));
  EXPECT_THAT(message, HasSubstr("(Relu)"));
  EXPECT_THAT(message, HasSubstr("'nowhere'"));
}

TEST(GraphTest, VerifyRejectsDuplicateProducers) {
  Graph graph = ConvBnRelu();
  graph.AddNode(Node("Sigmoid", {"x"}, {"c"}, "second"));
  const std::string message = VerifyError(graph);
  EXPECT_THAT(message, HasSubstr("'c' is defined twice"));
  EXPECT_THAT(message, HasSubstr("second"));
  EXPECT_THAT(message, HasSubstr("(Sigmoid)"));

  Graph shadowing = ConvBnRelu();
  shadowing.AddNode(Node("Sigmoid", {"x"}, {"W"}, "writes_weight"));
  EXPECT_THAT(VerifyError(shadowing), HasSubstr("'W' is defined twice"));
}

TEST(GraphTest, VerifyChecksOutputsAndAcceptsOmittedOptionalInputs) {
  Graph graph = ConvBnRelu();
  graph.mutable_outputs()->push_back(FloatInput("ghost"));
  EXPECT_THAT(VerifyError(graph), HasSubstr("graph output 'ghost'"));

  Graph optional = ConvBnRelu();
  optional.AddNode(Node("Clip", {"z", "", "B"}, {"clipped", ""}, "clip"));
  EXPECT_EQ(VerifyError(optional), "");
  EXPECT_FALSE(optional.Producer("clipped")->has_input(1));
  EXPECT_TRUE(optional.Producer("clipped")->has_input(2));

  Graph unnamed_op = ConvBnRelu();
  unnamed_op.AddNode(Node("", {"z"}, {"q"}, "no_op_type"));
  EXPECT_THAT(VerifyError(unnamed_op), HasSubstr("no op type"));
}

TEST(GraphTest, GetConstantSeesThroughIdentityAndConstant) {
  Graph graph = ConvBnRelu();
  graph.AddNode(Node("Identity", {"W"}, {"w_id"}, "id1"));
  graph.AddNode(Node("Identity", {"w_id"}, {"w_id2"}, "id2"));
  Node constant("Constant", {}, {"k"}, "const");
  constant.SetAttribute(
      Attribute::FromTensor("value", Tensor::FromFloats("", {2}, {4, 5})));
  graph.AddNode(std::move(constant));
  Node floats("Constant", {}, {"kf"}, "const_floats");
  floats.SetAttribute(Attribute::Floats("value_floats", {1.5f, 2.5f}));
  graph.AddNode(std::move(floats));
  Node scalar("Constant", {}, {"ki"}, "const_int");
  scalar.SetAttribute(Attribute::Int("value_int", 7));
  graph.AddNode(std::move(scalar));
  graph.AddNode(Node("Identity", {"x"}, {"x_id"}, "id_input"));
  graph.AddNode(
      Node("Identity", {"W"}, {"custom_id"}, "custom", "com.example"));

  EXPECT_EQ(graph.GetConstant("W"), graph.FindInitializer("W"));
  EXPECT_EQ(graph.GetConstant("w_id2"), graph.FindInitializer("W"));
  ASSERT_NE(graph.GetConstant("k"), nullptr);
  EXPECT_EQ(graph.GetConstant("k")->ToFloats(), (std::vector<float>{4, 5}));
  ASSERT_NE(graph.GetConstant("kf"), nullptr);
  EXPECT_EQ(graph.GetConstant("kf")->dims(), (std::vector<int64_t>{2}));
  EXPECT_EQ(graph.GetConstant("kf")->ToFloats(),
            (std::vector<float>{1.5f, 2.5f}));
  ASSERT_NE(graph.GetConstant("ki"), nullptr);
  EXPECT_TRUE(graph.GetConstant("ki")->dims().empty());
  EXPECT_EQ(graph.GetConstant("ki")->ToInt64s(), (std::vector<int64_t>{7}));
  EXPECT_EQ(graph.GetConstant("x"), nullptr);
  EXPECT_EQ(graph.GetConstant("x_id"), nullptr);
  EXPECT_EQ(graph.GetConstant("c"), nullptr);
  EXPECT_EQ(graph.GetConstant("custom_id"), nullptr);
  EXPECT_EQ(graph.GetConstant("unknown"), nullptr);
  EXPECT_NO_THROW(graph.Verify());
}

TEST(GraphTest, GetConstantStopsOnIdentityCycle) {
  Graph graph;
  graph.AddNode(Node("Identity", {"b"}, {"a"}, "ia"));
  graph.AddNode(Node("Identity", {"a"}, {"b"}, "ib"));
  EXPECT_EQ(graph.GetConstant("a"), nullptr);
}

TEST(GraphTest, InitializerInputsAreConstants) {
  Graph graph = ConvBnRelu();
  graph.mutable_initializer_inputs()->push_back(
      ValueInfo::ForTensor("W", DataType::kFloat,
                           std::vector<Dim>{Dim::Known(3), Dim::Known(3),
                                            Dim::Known(1), Dim::Known(1)}));
  EXPECT_NO_THROW(graph.Verify());
  EXPECT_NE(graph.GetConstant("W"), nullptr);
  EXPECT_FALSE(graph.IsGraphInput("W"));
  ASSERT_NE(graph.FindValueInfo("W"), nullptr);

  EXPECT_TRUE(graph.RemoveInitializer("W"));
  EXPECT_TRUE(graph.initializer_inputs().empty());
  EXPECT_FALSE(graph.RemoveInitializer("W"));
  EXPECT_EQ(graph.FindInitializer("W"), nullptr);
  EXPECT_NE(graph.FindInitializer("B"), nullptr);

  graph.mutable_initializer_inputs()->push_back(FloatInput("gone"));
  EXPECT_THAT(VerifyError(graph), HasSubstr("'gone'"));
}

TEST(GraphTest, SharedWeightIsCopiedNotScaledInPlace) {
  Graph graph;
  graph.mutable_inputs()->push_back(FloatInput("x"));
  graph.AddInitializer(Tensor::FromFloats("W", {2}, {1, 2}));
  graph.AddNode(Node("Mul", {"x", "W"}, {"a"}, "first"));
  graph.AddNode(Node("Mul", {"x", "W"}, {"b"}, "second"));
  graph.mutable_outputs()->push_back(FloatInput("a"));
  graph.mutable_outputs()->push_back(FloatInput("b"));
  EXPECT_EQ(graph.Consumers("W").size(), 2u);

  const Tensor* shared = graph.GetConstant("W");
  Tensor copy = *shared;
  copy.set_name(graph.UniqueValueName("W"));
  EXPECT_EQ(copy.name(), "W_1");
  std::vector<float> scaled = copy.ToFloats();
  for (float& value : scaled) value *= 10;
  copy.SetFloats(scaled);
  const Tensor* added = graph.AddInitializer(std::move(copy));
  graph.Producer("a")->SetInput(1, added->name());

  // The original pointer survives the addition and still holds the old data.
  EXPECT_EQ(shared->ToFloats(), (std::vector<float>{1, 2}));
  EXPECT_EQ(graph.GetConstant(graph.Producer("a")->input(1))->ToFloats(),
            (std::vector<float>{10, 20}));
  EXPECT_EQ(graph.GetConstant(graph.Producer("b")->input(1))->ToFloats(),
            (std::vector<float>{1, 2}));
  EXPECT_THROW(graph.AddInitializer(Tensor::FromFloats("W", {1}, {0})),
               InvalidArgumentError);
  EXPECT_NO_THROW(graph.Verify());
}

TEST(GraphTest, CopiesAreDeepAndIndexedSeparately) {
  const Graph original = ConvBnRelu();
  Graph copy = original;
  Node* copy_relu = copy.Producer("z");
  EXPECT_NE(copy_relu, original.Producer("z"));
  EXPECT_EQ(copy_relu->owner(), &copy);
  copy_relu->SetInput(0, "c");
  copy.MutableInitializer("B")->SetFloats({9, 9, 9});
  EXPECT_EQ(original.Producer("z")->input(0), "y");
  EXPECT_EQ(original.Uses("c").size(), 1u);
  EXPECT_EQ(copy.Uses("c").size(), 2u);
  EXPECT_EQ(original.FindInitializer("B")->ToFloats(),
            (std::vector<float>{0, 0, 0}));

  // Moving keeps nodes reporting to their new graph.
  Graph moved = std::move(copy);
  moved.Producer("z")->SetInput(0, "x");
  EXPECT_THAT(Names(moved.Consumers("x")),
              UnorderedElementsAre("conv", "relu"));
}

// An If whose branches read "w" and "bias" of the enclosing graph.
Graph GraphWithIf() {
  Graph graph;
  graph.mutable_inputs()->push_back(
      ValueInfo::ForTensor("cond", DataType::kBool, std::vector<Dim>{}));
  graph.mutable_inputs()->push_back(FloatInput("x"));
  graph.mutable_outputs()->push_back(FloatInput("out"));
  graph.AddInitializer(Tensor::FromFloats("bias", {1}, {1}));

  Graph then_branch;
  then_branch.set_name("then");
  then_branch.AddNode(Node("Add", {"w", "bias"}, {"t"}, "then_add"));
  then_branch.mutable_outputs()->push_back(FloatInput("t"));
  Graph else_branch;
  else_branch.set_name("else");
  else_branch.mutable_outputs()->push_back(FloatInput("w"));

  Node branch("If", {"cond"}, {"out"}, "if");
  branch.SetAttribute(Attribute::FromGraph("then_branch", then_branch));
  branch.SetAttribute(Attribute::FromGraph("else_branch", else_branch));
  graph.AddNode(std::move(branch));
  graph.AddNode(Node("Relu", {"x"}, {"w"}, "make_w"));
  return graph;
}

TEST(GraphTest, SubgraphReadsAreImplicitUses) {
  Graph graph = GraphWithIf();
  const Node* branch = graph.Producer("out");
  EXPECT_THAT(branch->implicit_inputs(), ElementsAre("w", "bias"));
  ASSERT_EQ(graph.Uses("w").size(), 1u);
  EXPECT_EQ(graph.Uses("w")[0].input_index, Use::kImplicit);
  // The If must wait for the Relu that makes "w" although it is stored first.
  EXPECT_THAT(Names(graph.TopologicalOrder()), ElementsAre("make_w", "if"));
  EXPECT_NO_THROW(graph.Verify());

  graph.ReplaceAllUses("w", "x");
  EXPECT_TRUE(graph.Uses("w").empty());
  const Node* renamed = graph.Producer("out");
  EXPECT_THAT(renamed->implicit_inputs(), ElementsAre("x", "bias"));
  EXPECT_EQ(renamed->FindAttribute("then_branch")->g().node(0).input(0), "x");
  EXPECT_EQ(renamed->FindAttribute("else_branch")->g().outputs()[0].name, "x");
  EXPECT_NO_THROW(graph.Verify());
}

// GraphWithIf() with an else branch of one node, `inner`, whose output
// `output` is the branch's output.
Graph GraphWithElseBranch(Node inner, const std::string& output) {
  Graph graph = GraphWithIf();
  Graph branch;
  branch.AddNode(std::move(inner));
  branch.mutable_outputs()->push_back(FloatInput(output));
  graph.Producer("out")->SetAttribute(
      Attribute::FromGraph("else_branch", branch));
  return graph;
}

TEST(GraphTest, VerifyChecksSubgraphs) {
  const std::string message = VerifyError(GraphWithElseBranch(
      Node("Neg", {"undefined_value"}, {"e"}, "inner"), "e"));
  EXPECT_THAT(message, HasSubstr("inner"));
  EXPECT_THAT(message, HasSubstr("'undefined_value'"));

  const Graph redefines =
      GraphWithElseBranch(Node("Neg", {"x"}, {"w"}, "shadow"), "w");
  EXPECT_THAT(VerifyError(redefines), HasSubstr("enclosing graph"));
}

TEST(GraphTest, UniqueNames) {
  Graph graph = ConvBnRelu();
  EXPECT_EQ(graph.UniqueValueName("fresh"), "fresh");
  EXPECT_EQ(graph.UniqueValueName("c"), "c_1");
  EXPECT_EQ(graph.UniqueValueName("x"), "x_1");
  EXPECT_EQ(graph.UniqueValueName("gamma"), "gamma_1");
  graph.AddNode(Node("Relu", {"z"}, {"c_1"}, "conv_1"));
  EXPECT_EQ(graph.UniqueValueName("c"), "c_2");
  EXPECT_EQ(graph.UniqueNodeName("conv"), "conv_2");
  EXPECT_EQ(graph.UniqueNodeName("other"), "other");
}

TEST(NodeTest, AttributesAndTypedReads) {
  Node node("BatchNormalization", {"x", "s", "b", "m", "v"}, {"y"}, "bn");
  node.SetAttribute(Attribute::Float("epsilon", 1e-3f));
  node.SetAttribute(Attribute::Int("training_mode", 0));
  node.SetAttribute(Attribute::Ints("pads", {1, 1}));
  EXPECT_FLOAT_EQ(node.GetFloat("epsilon", 1e-5f), 1e-3f);
  EXPECT_FLOAT_EQ(node.GetFloat("momentum", 0.9f), 0.9f);
  EXPECT_EQ(node.GetInt("training_mode", 5), 0);
  EXPECT_EQ(node.GetInts("pads"), (std::vector<int64_t>{1, 1}));
  EXPECT_EQ(node.GetString("auto_pad", "NOTSET"), "NOTSET");

  node.SetAttribute(Attribute::Float("epsilon", 2e-3f));
  EXPECT_EQ(node.attributes().size(), 3u);
  EXPECT_EQ(node.attributes()[0].name(), "epsilon");
  EXPECT_FLOAT_EQ(node.GetFloat("epsilon", 0), 2e-3f);

  try {
    node.GetInt("epsilon", 0);
    FAIL() << "expected a FormatError";
  } catch (const FormatError& error) {
    EXPECT_EQ(error.context().node, "bn");
    EXPECT_EQ(error.context().op, "BatchNormalization");
    EXPECT_THAT(error.message(), HasSubstr("FLOAT"));
  }
  EXPECT_THROW(node.FindAttribute("epsilon")->i(), InvalidArgumentError);
  EXPECT_TRUE(node.RemoveAttribute("pads"));
  EXPECT_FALSE(node.RemoveAttribute("pads"));
  EXPECT_FALSE(node.HasAttribute("pads"));
}

TEST(NodeTest, LabelOfUnnamedNode) {
  EXPECT_EQ(Node("Relu", {"a"}, {"b"}).Label(), "(unnamed, output 'b')");
  EXPECT_EQ(Node("Relu", {"a"}, {"b"}, "r").Label(), "r");
  const ErrorContext context = NodeErrorContext(Node("Relu", {}, {}, "r"), "f");
  EXPECT_EQ(context.file, "f");
  EXPECT_EQ(context.node, "r");
  EXPECT_EQ(context.op, "Relu");
}

TEST(AttributeTest, EveryKindKeepsItsValue) {
  EXPECT_EQ(Attribute::String("s", "text").s(), "text");
  EXPECT_EQ(Attribute::Strings("ss", {"a", "b"}).strings(),
            (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(Attribute::Floats("fs", {1, 2}).floats(),
            (std::vector<float>{1, 2}));
  EXPECT_EQ(Attribute::Tensors("ts", {Tensor::FromFloats("t", {1}, {3})})
                .tensors()[0]
                .ToFloats(),
            (std::vector<float>{3}));
  Graph body;
  body.set_name("body");
  const Attribute graphs = Attribute::Graphs("gs", {body, body});
  EXPECT_EQ(graphs.type(), AttributeType::kGraphs);
  EXPECT_EQ(graphs.graphs().size(), 2u);
  EXPECT_EQ(graphs.graphs()[1].name(), "body");
  const Attribute sparse = Attribute::SerializedProto(
      "sp", AttributeType::kSparseTensor, std::string("\x08\x01", 2));
  EXPECT_EQ(sparse.serialized_proto(), std::string("\x08\x01", 2));
  EXPECT_THROW(sparse.s(), InvalidArgumentError);
  EXPECT_THROW(Attribute::SerializedProto("bad", AttributeType::kString, "x"),
               InvalidArgumentError);
  EXPECT_EQ(
      Attribute::SerializedProtos("tps", AttributeType::kTypeProtos, {"a", "b"})
          .serialized_protos()
          .size(),
      2u);
  EXPECT_EQ(AttributeTypeName(AttributeType::kSparseTensors), "SPARSE_TENSORS");
}

TEST(ModelTest, OpsetVersionTreatsBothDefaultSpellingsAlike) {
  Model model;
  model.opset_imports = {{"ai.onnx", 13}, {"ai.onnx.ml", 3}};
  EXPECT_EQ(OpsetVersion(model, ""), 13);
  EXPECT_EQ(OpsetVersion(model, "ai.onnx"), 13);
  EXPECT_EQ(OpsetVersion(model, "ai.onnx.ml"), 3);
  EXPECT_EQ(OpsetVersion(model, "com.example"), 0);
}

TEST(ModelTest, VerifyModelNamesTheSource) {
  Model model;
  model.source = "resnet.onnx";
  model.graph = ConvBnRelu();
  EXPECT_NO_THROW(VerifyModel(model));
  model.graph.Producer("z")->SetInput(0, "missing");
  try {
    VerifyModel(model);
    FAIL() << "expected a FormatError";
  } catch (const FormatError& error) {
    EXPECT_EQ(error.context().file, "resnet.onnx");
    EXPECT_EQ(error.context().node, "relu");
  }
}

}  // namespace
}  // namespace foldrt::graph
