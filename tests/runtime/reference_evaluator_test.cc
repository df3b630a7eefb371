// The reference evaluator against PyTorch: every model listed in
// tests/data/MANIFEST.json, at batch 3 and batch 1, must reproduce torch's
// float64 reference outputs. Plus small hand-built graphs for the ops and
// errors the exported models do not reach.
#include "runtime/reference_evaluator.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <limits>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/npy.h"
#include "graph/graph.h"
#include "graph/onnx_io.h"
#include "graph/tensor.h"
#include "tests/runtime/session_test_util.h"
#include "tests/runtime/test_models.h"

namespace foldrt::runtime {
namespace {

namespace fs = std::filesystem;
using foldrt::testing::FirstSamples;
using graph::Attribute;
using graph::DataType;
using graph::Dim;
using graph::Graph;
using graph::Node;
using graph::ValueInfo;

// ------------------------------------------------------ comparing outputs

struct Errors {
  double relative_l2 = 0;
  double max_abs = 0;
  double max_abs_ref = 0;
};

// Tolerance against torch: the reference is torch's forward pass of a
// float64 copy of the model on the float64 input (cast to float32 at the
// end), and the evaluator accumulates in double, so only the float32
// rounding of weights, inputs and each op's output remains: a few float ULPs
// for these shallow models (observed: relative L2 < 1e-7, max |diff| < 3e-7).
// Bounds: relative L2 error <= 1e-5 and max |diff| <= 1e-4 * max|ref|; any
// wrong index, channel or parameter is off by orders of magnitude more.
constexpr double kMaxRelativeL2 = 1e-5;
constexpr double kMaxAbsOverMaxRef = 1e-4;

Errors Compare(const Tensor& got, const NpyArrayF32& want) {
  EXPECT_EQ(got.dtype(), foldrt::DataType::kFloat32);
  EXPECT_EQ(got.shape(), want.shape);
  Errors e;
  if (static_cast<size_t>(got.NumElements()) != want.data.size()) {
    ADD_FAILURE() << "element counts differ";
    return e;
  }
  const float* got_data = got.data<float>();
  double diff_sq = 0;
  double ref_sq = 0;
  for (size_t i = 0; i < want.data.size(); ++i) {
    const double d = static_cast<double>(got_data[i]) - want.data[i];
    diff_sq += d * d;
    ref_sq += static_cast<double>(want.data[i]) * want.data[i];
    e.max_abs = std::max(e.max_abs, std::abs(d));
    e.max_abs_ref =
        std::max(e.max_abs_ref, std::abs(static_cast<double>(want.data[i])));
    if (std::isnan(got_data[i])) {
      e.max_abs = std::numeric_limits<double>::infinity();
    }
  }
  e.relative_l2 = std::sqrt(diff_sq / ref_sq);
  EXPECT_LE(e.relative_l2, kMaxRelativeL2);
  EXPECT_LE(e.max_abs, kMaxAbsOverMaxRef * e.max_abs_ref);
  EXPECT_GT(e.max_abs_ref, 0.0);  // a zero reference would prove nothing
  return e;
}

Tensor FromNpy(const NpyArrayF32& array) {
  return Tensor::FromFloats(array.shape, array.data);
}

NpyArrayF32 FirstSamples(const NpyArrayF32& array, int64_t samples) {
  const Tensor t = FirstSamples(FromNpy(array), samples);
  return NpyArrayF32{t.shape(), t.ToVector<float>()};
}

TEST(ReferenceEvaluatorModelsTest, ReproducesTorchOnEveryManifestModel) {
  if (std::getenv("FOLDRT_SOURCE_DIR") == nullptr) {
    GTEST_SKIP() << "FOLDRT_SOURCE_DIR is not set";
  }
  const std::vector<testing::ManifestModel> cases = testing::ReadManifest();
  ASSERT_FALSE(cases.empty()) << "no models in " << testing::TestDataDir();
  EXPECT_EQ(cases.size(), 22u);
  for (const testing::ManifestModel& c : cases) {
    SCOPED_TRACE(c.name);
    const graph::Model model =
        graph::LoadOnnxModel(testing::TestDataPath(c.file));
    ASSERT_EQ(c.input_names.size(), c.input_files.size());
    ASSERT_EQ(c.output_names.size(), c.output_files.size());
    std::map<std::string, Tensor> inputs;
    std::map<std::string, Tensor> first_inputs;
    for (size_t i = 0; i < c.input_names.size(); ++i) {
      const Tensor input =
          FromNpy(ReadNpyF32(testing::TestDataPath(c.input_files[i])));
      ASSERT_GT(input.shape().at(0), 1);
      inputs[c.input_names[i]] = input;
      first_inputs[c.input_names[i]] = FirstSamples(input, 1);
    }
    const std::map<std::string, Tensor> outputs =
        EvaluateReference(model, inputs);
    const std::map<std::string, Tensor> first_outputs =
        EvaluateReference(model, first_inputs);
    ASSERT_EQ(outputs.size(), c.output_names.size());
    for (size_t i = 0; i < c.output_names.size(); ++i) {
      SCOPED_TRACE(c.output_names[i]);
      const NpyArrayF32 want =
          ReadNpyF32(testing::TestDataPath(c.output_files[i]));
      ASSERT_EQ(outputs.count(c.output_names[i]), 1u);
      const Errors full = Compare(outputs.at(c.output_names[i]), want);
      const Errors single =
          Compare(first_outputs.at(c.output_names[i]), FirstSamples(want, 1));
      // Printed for the record: how close the reference comes to torch.
      std::cout << "[ model    ] " << c.name << " " << c.output_names[i]
                << ": rel L2 " << full.relative_l2 << ", max |diff| "
                << full.max_abs << " (max |ref| " << full.max_abs_ref
                << "); batch 1: rel L2 " << single.relative_l2
                << ", max |diff| " << single.max_abs << "\n";
    }
  }
}

// ------------------------------------------------- hand-built graphs

ValueInfo FloatInput(const std::string& name, std::vector<Dim> dims) {
  return ValueInfo::ForTensor(name, DataType::kFloat, std::move(dims));
}

std::vector<Dim> Known(const std::vector<int64_t>& dims) {
  std::vector<Dim> out;
  for (int64_t d : dims) out.push_back(Dim::Known(d));
  return out;
}

// A graph of one node reading graph input "x" (and optional initializers)
// and writing graph output "y".
Graph OneNodeGraph(Node node, const std::vector<int64_t>& x_shape,
                   std::vector<graph::Tensor> initializers = {}) {
  Graph g;
  g.mutable_inputs()->push_back(FloatInput("x", Known(x_shape)));
  for (graph::Tensor& t : initializers) g.AddInitializer(std::move(t));
  g.AddNode(std::move(node));
  g.mutable_outputs()->push_back(
      ValueInfo::ForTensor("y", DataType::kFloat, std::nullopt));
  return g;
}

Tensor EvaluateY(const Graph& g, const Tensor& x, int64_t opset = 17) {
  return EvaluateReference(g, opset, {{"x", x}}).at("y");
}

TEST(ReferenceEvaluatorTest, SoftmaxAxisSemanticsFollowTheOpset) {
  // x (1, 2, 2): opset 13+ normalizes along the last axis, opset < 13
  // flattens from axis 1 and normalizes all four values together.
  Node node("Softmax", {"x"}, {"y"}, "softmax");
  const Graph g = OneNodeGraph(node, {1, 2, 2});
  const Tensor x = Tensor::FromFloats({1, 2, 2}, {0, 0, 1, 1});
  const Tensor per_row = EvaluateY(g, x, 13);
  EXPECT_EQ(per_row.ToVector<float>(),
            (std::vector<float>{0.5f, 0.5f, 0.5f, 0.5f}));
  const Tensor flattened = EvaluateY(g, x, 11);
  const float e = std::exp(1.0f);
  const float low = 1.0f / (2.0f + 2.0f * e);
  EXPECT_NEAR(flattened.data<float>()[0], low, 1e-7);
  EXPECT_NEAR(flattened.data<float>()[3], e * low, 1e-7);
}

TEST(ReferenceEvaluatorTest, ShapeArithmeticChain) {
  // The pattern exporters write for x.view(x.size(0), -1):
  // Shape -> Gather(0) -> Unsqueeze -> Concat with [-1] -> Reshape.
  Graph g;
  g.mutable_inputs()->push_back(FloatInput("x", Known({2, 3, 2})));
  foldrt::testing::AddBatchFlatten(&g, "x", "target", "flat");
  Node flatten("Flatten", {"x"}, {"flattened"}, "flatten");
  flatten.SetAttribute(Attribute::Int("axis", -1));
  g.AddNode(std::move(flatten));
  g.mutable_outputs()->push_back(
      ValueInfo::ForTensor("target", DataType::kInt64, std::nullopt));
  g.mutable_outputs()->push_back(
      ValueInfo::ForTensor("flat", DataType::kFloat, std::nullopt));
  g.mutable_outputs()->push_back(
      ValueInfo::ForTensor("flattened", DataType::kFloat, std::nullopt));

  std::vector<float> data(12);
  for (int i = 0; i < 12; ++i) data[i] = static_cast<float>(i);
  const auto outputs =
      EvaluateReference(g, 13, {{"x", Tensor::FromFloats({2, 3, 2}, data)}});
  EXPECT_EQ(outputs.at("target").dtype(), foldrt::DataType::kInt64);
  EXPECT_EQ(outputs.at("target").ToVector<int64_t>(),
            (std::vector<int64_t>{2, -1}));
  EXPECT_EQ(outputs.at("flat").shape(), (std::vector<int64_t>{2, 6}));
  EXPECT_EQ(outputs.at("flat").ToVector<float>(), data);
  EXPECT_EQ(outputs.at("flattened").shape(), (std::vector<int64_t>{6, 2}));
}

TEST(ReferenceEvaluatorTest, BinaryOpsBroadcastLikeNumpy) {
  // (2, 1, 3) - (4, 1) -> (2, 4, 3); then / 2 with a scalar.
  Graph g;
  g.mutable_inputs()->push_back(FloatInput("x", Known({2, 1, 3})));
  g.AddInitializer(graph::Tensor::FromFloats("b", {4, 1}, {0, 10, 20, 30}));
  g.AddInitializer(graph::Tensor::FromFloats("two", {}, {2}));
  g.AddNode(Node("Sub", {"x", "b"}, {"d"}, "sub"));
  g.AddNode(Node("Div", {"d", "two"}, {"y"}, "div"));
  g.mutable_outputs()->push_back(
      ValueInfo::ForTensor("y", DataType::kFloat, std::nullopt));
  const Tensor y =
      EvaluateY(g, Tensor::FromFloats({2, 1, 3}, {0, 2, 4, 6, 8, 10}), 13);
  ASSERT_EQ(y.shape(), (std::vector<int64_t>{2, 4, 3}));
  // y[i, j, k] = (x[i, 0, k] - b[j]) / 2.
  EXPECT_EQ(y.data<float>()[0 * 12 + 0 * 3 + 1], 1.0f);
  EXPECT_EQ(y.data<float>()[0 * 12 + 2 * 3 + 2], -8.0f);
  EXPECT_EQ(y.data<float>()[1 * 12 + 3 * 3 + 0], -12.0f);

  Graph bad;
  bad.mutable_inputs()->push_back(FloatInput("x", Known({2, 3})));
  bad.AddInitializer(graph::Tensor::FromFloats("b", {2}, {1, 2}));
  bad.AddNode(Node("Add", {"x", "b"}, {"y"}, "mismatched_add"));
  bad.mutable_outputs()->push_back(
      ValueInfo::ForTensor("y", DataType::kFloat, std::nullopt));
  try {
    EvaluateY(bad, Tensor::FromFloats({2, 3}, std::vector<float>(6)));
    FAIL() << "expected InvalidArgumentError";
  } catch (const InvalidArgumentError& e) {
    EXPECT_EQ(e.context().node, "mismatched_add");
    EXPECT_EQ(e.context().op, "Add");
    EXPECT_NE(e.message().find("(2, 3) and (2)"), std::string::npos)
        << e.what();
  }
}

TEST(ReferenceEvaluatorTest, ClipBoundsFromAttributesOrInputsByOpset) {
  const Tensor x = Tensor::FromFloats({4}, {-3, 0.5f, 2, NAN});
  Node attr_clip("Clip", {"x"}, {"y"}, "clip6");
  attr_clip.SetAttribute(Attribute::Float("min", 0.0f));
  attr_clip.SetAttribute(Attribute::Float("max", 1.0f));
  const Tensor y6 = EvaluateY(OneNodeGraph(attr_clip, {4}), x, 9);
  EXPECT_EQ(y6.data<float>()[0], 0.0f);
  EXPECT_EQ(y6.data<float>()[1], 0.5f);
  EXPECT_EQ(y6.data<float>()[2], 1.0f);
  EXPECT_TRUE(std::isnan(y6.data<float>()[3]));

  // Opset 11+: optional inputs; only max given.
  Node input_clip("Clip", {"x", "", "max"}, {"y"}, "clip11");
  const Tensor y11 =
      EvaluateY(OneNodeGraph(input_clip, {4},
                             {graph::Tensor::FromFloats("max", {}, {1.0f})}),
                x, 11);
  EXPECT_EQ(y11.data<float>()[0], -3.0f);
  EXPECT_EQ(y11.data<float>()[2], 1.0f);
}

TEST(ReferenceEvaluatorTest, ActivationsAndInferenceDropout) {
  const Tensor x = Tensor::FromFloats({5}, {-4, -1, 0, 1, 4});
  const Tensor hard_sigmoid =
      EvaluateY(OneNodeGraph(Node("HardSigmoid", {"x"}, {"y"}), {5}), x);
  ASSERT_EQ(hard_sigmoid.NumElements(), 5);
  EXPECT_EQ(hard_sigmoid.data<float>()[0], 0.0f);
  EXPECT_FLOAT_EQ(hard_sigmoid.data<float>()[1], 0.3f);
  EXPECT_EQ(hard_sigmoid.data<float>()[2], 0.5f);
  EXPECT_FLOAT_EQ(hard_sigmoid.data<float>()[3], 0.7f);
  EXPECT_EQ(hard_sigmoid.data<float>()[4], 1.0f);
  const Tensor hard_swish =
      EvaluateY(OneNodeGraph(Node("HardSwish", {"x"}, {"y"}), {5}), x);
  EXPECT_EQ(hard_swish.data<float>()[0], 0.0f);
  EXPECT_FLOAT_EQ(hard_swish.data<float>()[1], -1.0f / 3.0f);
  EXPECT_FLOAT_EQ(hard_swish.data<float>()[3], 2.0f / 3.0f);
  EXPECT_EQ(hard_swish.data<float>()[4], 4.0f);
  const Tensor sigmoid =
      EvaluateY(OneNodeGraph(Node("Sigmoid", {"x"}, {"y"}), {5}), x);
  EXPECT_FLOAT_EQ(sigmoid.data<float>()[3],
                  static_cast<float>(1 / (1 + std::exp(-1.0))));
  EXPECT_EQ(EvaluateY(OneNodeGraph(Node("Relu", {"x"}, {"y"}), {5}), x)
                .ToVector<float>(),
            (std::vector<float>{0, 0, 0, 1, 4}));
  EXPECT_EQ(EvaluateY(OneNodeGraph(Node("Dropout", {"x"}, {"y"}), {5}), x)
                .ToVector<float>(),
            x.ToVector<float>());

  Node training("Dropout", {"x", "", "training"}, {"y"}, "dropout");
  const Graph g = OneNodeGraph(
      training, {5},
      {graph::Tensor("training", DataType::kBool, {}, std::string(1, '\1'))});
  EXPECT_THROW(EvaluateY(g, x, 13), UnsupportedError);
}

TEST(ReferenceEvaluatorTest, PoolingNodes) {
  std::vector<float> data(16);
  for (int i = 0; i < 16; ++i) data[i] = static_cast<float>(i + 1);
  const Tensor x = Tensor::FromFloats({1, 1, 4, 4}, data);
  Node max_pool("MaxPool", {"x"}, {"y"}, "max_pool");
  max_pool.SetAttribute(Attribute::Ints("kernel_shape", {2, 2}));
  max_pool.SetAttribute(Attribute::Ints("strides", {2, 2}));
  EXPECT_EQ(
      EvaluateY(OneNodeGraph(max_pool, {1, 1, 4, 4}), x).ToVector<float>(),
      (std::vector<float>{6, 8, 14, 16}));
  Node average_pool("AveragePool", {"x"}, {"y"}, "average_pool");
  average_pool.SetAttribute(Attribute::Ints("kernel_shape", {3, 3}));
  average_pool.SetAttribute(Attribute::String("auto_pad", "SAME_UPPER"));
  const Tensor averaged =
      EvaluateY(OneNodeGraph(average_pool, {1, 1, 4, 4}), x);
  ASSERT_EQ(averaged.shape(), (std::vector<int64_t>{1, 1, 4, 4}));
  EXPECT_FLOAT_EQ(averaged.data<float>()[0], (1 + 2 + 5 + 6) / 4.0f);
  EXPECT_FLOAT_EQ(averaged.data<float>()[5],
                  (1 + 2 + 3 + 5 + 6 + 7 + 9 + 10 + 11) / 9.0f);
}

TEST(ReferenceEvaluatorTest, ConvSamePaddingAndTransposeMatMulGemmAgree) {
  // Gemm(x, W, transB=1) == MatMul(x, Transpose(W)) for the same weights.
  Graph g;
  g.mutable_inputs()->push_back(FloatInput("x", Known({2, 3})));
  g.AddInitializer(graph::Tensor::FromFloats(
      "w", {4, 3}, {1, 2, 3, 4, 5, 6, -1, -2, -3, 0.5, 0, 1}));
  Node gemm("Gemm", {"x", "w"}, {"gemm"}, "gemm");
  gemm.SetAttribute(Attribute::Int("transB", 1));
  g.AddNode(std::move(gemm));
  g.AddNode(Node("Transpose", {"w"}, {"wt"}, "transpose"));
  g.AddNode(Node("MatMul", {"x", "wt"}, {"matmul"}, "matmul"));
  g.mutable_outputs()->push_back(
      ValueInfo::ForTensor("gemm", DataType::kFloat, std::nullopt));
  g.mutable_outputs()->push_back(
      ValueInfo::ForTensor("matmul", DataType::kFloat, std::nullopt));
  const auto outputs = EvaluateReference(
      g, 13, {{"x", Tensor::FromFloats({2, 3}, {1, 0, -1, 2, 1, 0})}});
  EXPECT_EQ(outputs.at("gemm").shape(), (std::vector<int64_t>{2, 4}));
  EXPECT_EQ(outputs.at("gemm").ToVector<float>(),
            outputs.at("matmul").ToVector<float>());
  EXPECT_EQ(outputs.at("gemm").data<float>()[0], -2.0f);  // 1 - 3

  // auto_pad SAME_UPPER keeps the spatial size at stride 1.
  Node conv("Conv", {"x", "w"}, {"y"}, "conv");
  conv.SetAttribute(Attribute::String("auto_pad", "SAME_UPPER"));
  const Tensor y = EvaluateY(
      OneNodeGraph(conv, {1, 1, 5, 4},
                   {graph::Tensor::FromFloats("w", {2, 1, 3, 2},
                                              std::vector<float>(12, 1.0f))}),
      Tensor::FromFloats({1, 1, 5, 4}, std::vector<float>(20, 1.0f)));
  EXPECT_EQ(y.shape(), (std::vector<int64_t>{1, 2, 5, 4}));
  // Kernel 2 wide pads one column at the end: the last column sees 3 x 1.
  EXPECT_EQ(y.data<float>()[4 * 1 + 3], 3.0f);
  EXPECT_EQ(y.data<float>()[4 * 1 + 1], 6.0f);
}

TEST(ReferenceEvaluatorTest, UnsupportedOpNamesNodeAndOp) {
  const Graph g = OneNodeGraph(Node("Tanh", {"x"}, {"y"}, "my_tanh"), {2});
  try {
    EvaluateY(g, Tensor::FromFloats({2}, {0, 1}));
    FAIL() << "expected UnsupportedError";
  } catch (const UnsupportedError& e) {
    EXPECT_EQ(e.context().node, "my_tanh");
    EXPECT_EQ(e.context().op, "Tanh");
    const std::string what = e.what();
    EXPECT_NE(what.find("node 'my_tanh' (Tanh)"), std::string::npos) << what;
    EXPECT_NE(what.find("not implemented"), std::string::npos) << what;
  }
  Node custom("Relu", {"x"}, {"y"}, "custom_relu", "com.example");
  EXPECT_THROW(
      EvaluateY(OneNodeGraph(custom, {2}), Tensor::FromFloats({2}, {0, 1})),
      UnsupportedError);
}

TEST(ReferenceEvaluatorTest, TrainingBatchNormOutputsInUseAreUnsupported) {
  Graph g;
  g.mutable_inputs()->push_back(FloatInput("x", Known({2, 2})));
  for (const char* name : {"gamma", "beta", "mean", "var"}) {
    g.AddInitializer(graph::Tensor::FromFloats(name, {2}, {1, 1}));
  }
  Node bn("BatchNormalization", {"x", "gamma", "beta", "mean", "var"},
          {"y", "running_mean", "running_var"}, "bn");
  bn.SetAttribute(Attribute::Int("training_mode", 1));
  g.AddNode(std::move(bn));
  g.mutable_outputs()->push_back(
      ValueInfo::ForTensor("y", DataType::kFloat, std::nullopt));
  const Tensor x = Tensor::FromFloats({2, 2}, {1, 2, 3, 4});
  // Extra outputs unused: inference with the running statistics.
  const Tensor y = EvaluateY(g, x, 15);
  EXPECT_NEAR(y.data<float>()[0], (1 - 1) / std::sqrt(1 + 1e-5) + 1, 1e-6);
  EXPECT_NEAR(y.data<float>()[3], (4 - 1) / std::sqrt(1 + 1e-5) + 1, 1e-6);

  g.mutable_outputs()->push_back(
      ValueInfo::ForTensor("running_mean", DataType::kFloat, std::nullopt));
  EXPECT_THROW(EvaluateY(g, x, 15), UnsupportedError);
}

TEST(ReferenceEvaluatorTest, MisShapedWeightsNameTheNode) {
  Node conv("Conv", {"x", "w"}, {"y"}, "bad_conv");
  const Graph g =
      OneNodeGraph(conv, {1, 3, 4, 4},
                   {graph::Tensor::FromFloats("w", {2, 4, 1, 1},
                                              std::vector<float>(8, 1.0f))});
  try {
    EvaluateY(g, Tensor::FromFloats({1, 3, 4, 4}, std::vector<float>(48)));
    FAIL() << "expected InvalidArgumentError";
  } catch (const InvalidArgumentError& e) {
    EXPECT_EQ(e.context().node, "bad_conv");
    EXPECT_EQ(e.context().op, "Conv");
  }
}

TEST(ReferenceEvaluatorTest, ChecksTheFedInputs) {
  Graph g;
  std::vector<Dim> dims = {Dim::Symbolic("N"), Dim::Known(2)};
  g.mutable_inputs()->push_back(FloatInput("x", dims));
  g.mutable_inputs()->push_back(FloatInput("z", dims));
  g.AddNode(Node("Add", {"x", "z"}, {"y"}, "add"));
  g.mutable_outputs()->push_back(
      ValueInfo::ForTensor("y", DataType::kFloat, std::nullopt));
  const Tensor two_rows = Tensor::FromFloats({2, 2}, {1, 2, 3, 4});
  const Tensor one_row = Tensor::FromFloats({1, 2}, {1, 2});

  EXPECT_EQ(EvaluateReference(g, 13, {{"x", two_rows}, {"z", two_rows}})
                .at("y")
                .ToVector<float>(),
            (std::vector<float>{2, 4, 6, 8}));
  // Missing, unknown, mis-shaped, inconsistent symbolic dim, wrong dtype,
  // data that does not match the shape.
  EXPECT_THROW(EvaluateReference(g, 13, {{"x", two_rows}}),
               InvalidArgumentError);
  EXPECT_THROW(EvaluateReference(
                   g, 13, {{"x", two_rows}, {"z", two_rows}, {"w", two_rows}}),
               InvalidArgumentError);
  EXPECT_THROW(EvaluateReference(
                   g, 13,
                   {{"x", Tensor::FromFloats({2, 3}, std::vector<float>(6))},
                    {"z", two_rows}}),
               InvalidArgumentError);
  EXPECT_THROW(EvaluateReference(g, 13, {{"x", two_rows}, {"z", one_row}}),
               InvalidArgumentError);
  EXPECT_THROW(
      EvaluateReference(
          g, 13,
          {{"x", Tensor::FromInt64s({2, 2}, {1, 2, 3, 4})}, {"z", two_rows}}),
      InvalidArgumentError);
  EXPECT_THROW(EvaluateReference(g, 13,
                                 {{"x", Tensor::FromFloats({2, 2}, {1, 2, 3})},
                                  {"z", two_rows}}),
               InvalidArgumentError);
}

TEST(ReferenceEvaluatorTest, ListsItsOps) {
  const std::vector<std::string>& ops = ReferenceEvaluatorOps();
  EXPECT_TRUE(std::is_sorted(ops.begin(), ops.end()));
  for (const char* op :
       {"Add", "BatchNormalization", "Clip", "Concat", "Constant", "Conv",
        "ConvTranspose", "Gemm", "GlobalAveragePool", "MatMul", "Mul", "Relu",
        "Sigmoid", "Transpose"}) {
    EXPECT_TRUE(std::binary_search(ops.begin(), ops.end(), op)) << op;
  }
}

}  // namespace
}  // namespace foldrt::runtime
