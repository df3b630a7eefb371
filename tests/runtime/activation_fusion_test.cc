// Activation fusion in the compiled program (runtime/fusions/): Sigmoid
// into the Conv / ConvTranspose / Gemm / MatMul before it, SiLU written as
// Sigmoid -> Mul(x, sigmoid) into one Swish (fused into that producer, or a
// standalone step), and the graphs where fusing would be wrong. Each model
// is checked twice: the step list CompileProgram makes, and Session outputs
// (oneDNN post-ops and reference kernels, 1 and 2 threads) against the
// scalar reference evaluator, which runs the graph node by node in double.
// Also the residual Add (+ activation) fused into a Conv as oneDNN's sum
// post-op, written over the residual's buffer when nothing reads it later.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/tensor.h"
#include "graph/graph.h"
#include "graph/tensor.h"
#include "ops/activation.h"
#include "ops/batch_norm.h"
#include "runtime/program.h"
#include "runtime/session.h"
#include "tests/runtime/session_test_util.h"

namespace foldrt::runtime {
namespace {

using foldrt::testing::ExpectSessionMatchesReference;
using foldrt::testing::SeededValues;
using graph::Attribute;
using graph::Node;

class ModelBuilder : public foldrt::testing::GraphBuilderBase<ModelBuilder> {
 public:
  // Conv 3x3, pad 1, from `x` (N, 3, 6, 6) with 4 output channels.
  ModelBuilder& Conv(const std::string& x, const std::string& y) {
    Constant(y + "_w", {4, 3, 3, 3}, -1.5f, 1.5f);
    Constant(y + "_b", {4}, -2.0f, 2.0f);
    Node conv("Conv", {x, y + "_w", y + "_b"}, {y}, y);
    conv.SetAttribute(Attribute::Ints("pads", {1, 1, 1, 1}));
    return Add(std::move(conv));
  }
  graph::Model Build() {
    return GraphBuilderBase::Build("activation_fusion.onnx");
  }
};

// The op label of every step the program runs, in order.
std::vector<std::string> StepOps(const graph::Model& model) {
  const std::unique_ptr<Program> program =
      CompileProgram(model, CompileOptions{});
  std::vector<std::string> ops;
  for (const ProgramStep& step : program->steps) ops.push_back(step.op);
  return ops;
}

// Conv outputs reach +-40: the sigmoids saturate in places.
std::map<std::string, Tensor> ConvInput() {
  return {{"x", Tensor::FromFloats({2, 3, 6, 6},
                                   SeededValues(2 * 3 * 36, 99, -3.0f, 3.0f))}};
}

// The model `b` builds compiles to steps `ops`, in order, and every session
// variant on it matches the reference evaluator on ConvInput().
void ExpectStepsMatchReference(ModelBuilder& b,
                               const std::vector<std::string>& ops) {
  const graph::Model model = b.Build();
  EXPECT_EQ(StepOps(model), ops);
  ExpectSessionMatchesReference(model, ConvInput());
}

TEST(ActivationFusionTest, SiluFusesIntoConvInBothMulOrders) {
  for (const bool sigmoid_first : {false, true}) {
    SCOPED_TRACE(sigmoid_first ? "Mul(sigmoid, y)" : "Mul(y, sigmoid)");
    ModelBuilder b;
    b.Input("x", {2, 3, 6, 6}).Conv("x", "y");
    b.Add(Node("Sigmoid", {"y"}, {"s"}, "sigmoid"));
    b.Add(Node("Mul",
               sigmoid_first ? std::vector<std::string>{"s", "y"}
                             : std::vector<std::string>{"y", "s"},
               {"z"}, "mul"));
    b.Output("z");
    ExpectStepsMatchReference(b, {"Conv+Swish"});
  }
}

TEST(ActivationFusionTest, SiluChainFusesTwice) {
  // Conv -> SiLU -> Conv -> SiLU, the EfficientNet pattern; the second SiLU's
  // Mul is the graph output.
  ModelBuilder b;
  b.Input("x", {2, 3, 6, 6}).Conv("x", "y1");
  b.Add(Node("Sigmoid", {"y1"}, {"s1"}, "sigmoid1"));
  b.Add(Node("Mul", {"y1", "s1"}, {"z1"}, "mul1"));
  b.Constant("w2", {3, 4, 1, 1}, -1.0f, 1.0f);
  b.Add(Node("Conv", {"z1", "w2"}, {"y2"}, "conv2"));
  b.Add(Node("Sigmoid", {"y2"}, {"s2"}, "sigmoid2"));
  b.Add(Node("Mul", {"s2", "y2"}, {"z2"}, "mul2"));
  b.Output("z2");
  ExpectStepsMatchReference(b, {"Conv+Swish", "Conv+Swish"});
}

TEST(ActivationFusionTest, SigmoidFusesIntoConv) {
  ModelBuilder b;
  b.Input("x", {2, 3, 6, 6}).Conv("x", "y");
  b.Add(Node("Sigmoid", {"y"}, {"s"}, "sigmoid"));
  b.Output("s");
  ExpectStepsMatchReference(b, {"Conv+Sigmoid"});
}

TEST(ActivationFusionTest, SqueezeExcitationGateFusesSigmoidOnly) {
  // EfficientNet's SE gate: x * Sigmoid(Conv(...)). The Mul's other operand
  // is not the Sigmoid's input, so it is no SiLU: Conv+Sigmoid, then Mul.
  ModelBuilder b;
  b.Input("x", {2, 3, 6, 6}).Conv("x", "y");
  b.Add(Node("Sigmoid", {"y"}, {"s"}, "sigmoid"));
  b.Constant("other", {2, 4, 6, 6}, -2.0f, 2.0f);
  b.Add(Node("Mul", {"other", "s"}, {"z"}, "mul"));
  b.Output("z");
  ExpectStepsMatchReference(b, {"Conv+Sigmoid", "Mul"});
}

TEST(ActivationFusionTest, GemmMatMulAndConvTransposeTakeSigmoidAndSwish) {
  {
    ModelBuilder b;
    b.Input("a", {3, 5}).Constant("w", {5, 4}, -4.0f, 4.0f);
    b.Constant("c", {4}, -1.0f, 1.0f);
    b.Add(Node("Gemm", {"a", "w", "c"}, {"y"}, "gemm"));
    b.Add(Node("Sigmoid", {"y"}, {"s"}, "sigmoid"));
    b.Add(Node("Mul", {"s", "y"}, {"z"}, "mul"));
    b.Output("z");
    const graph::Model model = b.Build();
    EXPECT_EQ(StepOps(model), (std::vector<std::string>{"Gemm+Swish"}));
    ExpectSessionMatchesReference(
        model, {{"a", Tensor::FromFloats({3, 5}, SeededValues(15, 5, -3, 3))}});
  }
  {
    ModelBuilder b;
    b.Input("a", {2, 3, 5}).Constant("w", {5, 4}, -4.0f, 4.0f);
    b.Add(Node("MatMul", {"a", "w"}, {"y"}, "matmul"));
    b.Add(Node("Sigmoid", {"y"}, {"s"}, "sigmoid"));
    b.Output("s");
    const graph::Model model = b.Build();
    EXPECT_EQ(StepOps(model), (std::vector<std::string>{"MatMul+Sigmoid"}));
    ExpectSessionMatchesReference(
        model,
        {{"a", Tensor::FromFloats({2, 3, 5}, SeededValues(30, 6, -3, 3))}});
  }
  {
    ModelBuilder b;
    b.Input("x", {2, 3, 4, 4}).Constant("w", {3, 2, 3, 3}, -1.5f, 1.5f);
    Node deconv("ConvTranspose", {"x", "w"}, {"y"}, "deconv");
    deconv.SetAttribute(Attribute::Ints("strides", {2, 2}));
    b.Add(std::move(deconv));
    b.Add(Node("Sigmoid", {"y"}, {"s"}, "sigmoid"));
    b.Add(Node("Mul", {"y", "s"}, {"z"}, "mul"));
    b.Output("z");
    const graph::Model model = b.Build();
    EXPECT_EQ(StepOps(model),
              (std::vector<std::string>{"ConvTranspose+Swish"}));
    ExpectSessionMatchesReference(
        model,
        {{"x", Tensor::FromFloats({2, 3, 4, 4}, SeededValues(96, 7, -3, 3))}});
  }
}

TEST(ActivationFusionTest, SiluAfterAnOpThatCannotFuseIsOneSwishStep) {
  // Add cannot apply an activation; the graph input cannot either.
  ModelBuilder b;
  b.Input("x", {2, 3, 6, 6}).Constant("bias", {3, 1, 1}, -20.0f, 20.0f);
  b.Add(Node("Add", {"x", "bias"}, {"y"}, "add"));
  b.Add(Node("Sigmoid", {"y"}, {"s"}, "sigmoid"));
  b.Add(Node("Mul", {"s", "y"}, {"z"}, "mul"));
  b.Add(Node("Sigmoid", {"x"}, {"sx"}, "sigmoid_x"));
  b.Add(Node("Mul", {"x", "sx"}, {"zx"}, "mul_x"));
  b.Output("z").Output("zx");
  const graph::Model model = b.Build();
  std::vector<std::string> ops = StepOps(model);
  std::sort(ops.begin(), ops.end());  // the two chains may come in any order
  EXPECT_EQ(ops, (std::vector<std::string>{"Add", "Swish", "Swish"}));
  ExpectSessionMatchesReference(model, ConvInput());
}

TEST(ActivationFusionTest, BatchNormTakesReluButNotSigmoidOrSwish) {
  // Without folding (CompileProgram runs no passes) BN is a step of its own;
  // its kernels apply ReLU and Clip only.
  for (const char* tail : {"relu", "sigmoid", "silu"}) {
    SCOPED_TRACE(tail);
    ModelBuilder b;
    b.Input("x", {2, 3, 6, 6});
    b.Constant("gamma", {3}, 0.5f, 2.0f).Constant("beta", {3}, -1.0f, 1.0f);
    b.Constant("mean", {3}, -1.0f, 1.0f).Constant("var", {3}, 0.5f, 2.0f);
    b.Add(Node("BatchNormalization", {"x", "gamma", "beta", "mean", "var"},
               {"y"}, "bn"));
    const std::string t = tail;
    if (t == "relu") {
      b.Add(Node("Relu", {"y"}, {"z"}, "relu"));
    } else {
      b.Add(Node("Sigmoid", {"y"}, {t == "silu" ? "s" : "z"}, "sigmoid"));
      if (t == "silu") b.Add(Node("Mul", {"y", "s"}, {"z"}, "mul"));
    }
    b.Output("z");
    const graph::Model model = b.Build();
    const std::vector<std::string> want =
        t == "relu" ? std::vector<std::string>{"BatchNormalization+Relu"}
        : t == "sigmoid"
            ? std::vector<std::string>{"BatchNormalization", "Sigmoid"}
            : std::vector<std::string>{"BatchNormalization", "Swish"};
    EXPECT_EQ(StepOps(model), want);
    ExpectSessionMatchesReference(model, ConvInput());
  }
}

TEST(ActivationFusionTest, BatchNormKernelsRejectSigmoidAndSwish) {
  for (const ops::Activation& act :
       {ops::Activation::Sigmoid(), ops::Activation::Swish()}) {
    SCOPED_TRACE(act.ToString());
    EXPECT_FALSE(KernelFusesActivation("BatchNormalization", act.kind));
    EXPECT_TRUE(KernelFusesActivation("Conv", act.kind));
    EXPECT_THROW(ops::BatchNorm({1.0f}, {0.0f}, {0.0f}, {1.0f}, 1e-5f, act),
                 InvalidArgumentError);
  }
  EXPECT_EQ(ops::Activation::Sigmoid().ToString(), "sigmoid");
  EXPECT_EQ(ops::Activation::Swish().ToString(), "swish");
}

// ------------------------------------------------- graphs that must not fuse

TEST(ActivationFusionTest, SigmoidOutputReadElsewhereDoesNotFuse) {
  ModelBuilder b;
  b.Input("x", {2, 3, 6, 6}).Conv("x", "y");
  b.Add(Node("Sigmoid", {"y"}, {"s"}, "sigmoid"));
  b.Add(Node("Mul", {"y", "s"}, {"z"}, "mul"));
  b.Add(Node("Add", {"z", "s"}, {"w"}, "add"));
  b.Output("w");
  ExpectStepsMatchReference(b, {"Conv", "Sigmoid", "Mul", "Add"});
}

TEST(ActivationFusionTest, ConvOutputReadByAThirdNodeRunsAStandaloneSwish) {
  ModelBuilder b;
  b.Input("x", {2, 3, 6, 6}).Conv("x", "y");
  b.Add(Node("Sigmoid", {"y"}, {"s"}, "sigmoid"));
  b.Add(Node("Mul", {"y", "s"}, {"z"}, "mul"));
  b.Add(Node("Relu", {"y"}, {"r"}, "relu"));
  b.Output("z").Output("r");
  ExpectStepsMatchReference(b, {"Conv", "Swish", "Relu"});
}

TEST(ActivationFusionTest, GraphOutputsInTheMiddleDoNotFuseIntoTheConv) {
  {
    SCOPED_TRACE("the Conv output is a graph output");
    ModelBuilder b;
    b.Input("x", {2, 3, 6, 6}).Conv("x", "y");
    b.Add(Node("Sigmoid", {"y"}, {"s"}, "sigmoid"));
    b.Add(Node("Mul", {"y", "s"}, {"z"}, "mul"));
    b.Output("z").Output("y");
    ExpectStepsMatchReference(b, {"Conv", "Swish"});
  }
  {
    SCOPED_TRACE("the Sigmoid output is a graph output");
    ModelBuilder b;
    b.Input("x", {2, 3, 6, 6}).Conv("x", "y");
    b.Add(Node("Sigmoid", {"y"}, {"s"}, "sigmoid"));
    b.Add(Node("Mul", {"s", "y"}, {"z"}, "mul"));
    b.Output("s").Output("z");
    ExpectStepsMatchReference(b, {"Conv", "Sigmoid", "Mul"});
  }
  {
    SCOPED_TRACE("Conv -> Sigmoid with the Conv output a graph output");
    ModelBuilder b;
    b.Input("x", {2, 3, 6, 6}).Conv("x", "y");
    b.Add(Node("Sigmoid", {"y"}, {"s"}, "sigmoid"));
    b.Output("s").Output("y");
    ExpectStepsMatchReference(b, {"Conv", "Sigmoid"});
  }
}

TEST(ActivationFusionTest, MulOfTheSigmoidWithItselfIsNoSwish) {
  // Mul(s, s) = sigmoid^2 reads s twice; and Mul(y, y) next to a Sigmoid.
  ModelBuilder b;
  b.Input("x", {2, 3, 6, 6}).Conv("x", "y");
  b.Add(Node("Sigmoid", {"y"}, {"s"}, "sigmoid"));
  b.Add(Node("Mul", {"s", "s"}, {"z"}, "mul"));
  b.Output("z");
  ExpectStepsMatchReference(b, {"Conv+Sigmoid", "Mul"});

  ModelBuilder b2;
  b2.Input("x", {2, 3, 6, 6}).Conv("x", "y");
  b2.Add(Node("Sigmoid", {"y"}, {"s"}, "sigmoid"));
  b2.Add(Node("Mul", {"y", "y"}, {"z"}, "mul"));
  b2.Output("z").Output("s");
  ExpectStepsMatchReference(b2, {"Conv", "Sigmoid", "Mul"});
}

}  // namespace
}  // namespace foldrt::runtime

namespace foldrt::runtime {
namespace {

// A 3x3 pad-1 Conv from `x` with `in` channels to `out` channels.
void AddConv(ModelBuilder& b, const std::string& x, const std::string& y,
             int64_t in, int64_t out) {
  b.Constant(y + "_w", {out, in, 3, 3}, -1.0f, 1.0f);
  b.Constant(y + "_b", {out}, -1.0f, 1.0f);
  Node conv("Conv", {x, y + "_w", y + "_b"}, {y}, y);
  conv.SetAttribute(Attribute::Ints("pads", {1, 1, 1, 1}));
  b.Add(std::move(conv));
}

TEST(ResidualFusionTest, AddAndReluFuseIntoTheConvThatRunsLast) {
  // Two branches meet in an Add: the first Conv's residual (the second's
  // output) is not computed yet when it runs, so the second Conv takes the
  // Add and the ReLU, reading the first's output.
  ModelBuilder b;
  b.Input("x", {2, 3, 6, 6});
  AddConv(b, "x", "a", 3, 20);
  AddConv(b, "x", "c", 3, 20);
  b.Add(Node("Add", {"a", "c"}, {"sum"}, "add"));
  b.Add(Node("Relu", {"sum"}, {"out"}, "relu"));
  b.Output("out");
  ExpectStepsMatchReference(b, {"Conv", "Conv+Add+Relu"});
}

TEST(ResidualFusionTest, ResNetBlockWithTheIdentityReadByTheAdd) {
  // y = relu(conv2(relu(conv1(x))) + x): the residual is a graph input (not
  // writable: the step copies it first), then the same again on an
  // activation whose buffer the step may write over, then once more with
  // the residual read again afterwards (no writing over it).
  ModelBuilder b;
  b.Input("x", {2, 3, 6, 6});
  AddConv(b, "x", "c1", 3, 3);
  b.Add(Node("Relu", {"c1"}, {"r1"}, "relu1"));
  AddConv(b, "r1", "c2", 3, 3);
  b.Add(Node("Add", {"c2", "x"}, {"s2"}, "add2"));
  b.Add(Node("Relu", {"s2"}, {"h"}, "relu2"));
  AddConv(b, "h", "c3", 3, 3);
  b.Add(Node("Add", {"h", "c3"}, {"s3"}, "add3"));
  b.Add(Node("Relu", {"s3"}, {"h2"}, "relu3"));
  AddConv(b, "h2", "c4", 3, 3);
  b.Add(Node("Add", {"c4", "h2"}, {"s4"}, "add4"));
  b.Add(Node("Mul", {"s4", "h2"}, {"out"}, "mul"));
  b.Output("out");
  ExpectStepsMatchReference(
      b, {"Conv+Relu", "Conv+Add+Relu", "Conv+Add+Relu", "Conv+Add", "Mul"});
}

TEST(ResidualFusionTest, ConvOfItsOwnResidual) {
  // conv(x) + x where x is an activation: the step reads x twice, so it
  // must not write over it.
  ModelBuilder b;
  b.Input("x", {2, 3, 6, 6});
  AddConv(b, "x", "h", 3, 3);
  AddConv(b, "h", "c", 3, 3);
  b.Add(Node("Add", {"c", "h"}, {"out"}, "add"));
  b.Output("out");
  ExpectStepsMatchReference(b, {"Conv", "Conv+Add"});
}

TEST(ResidualFusionTest, BroadcastResidualRunsPlain) {
  // r = GlobalAveragePool(...) is (N, C, 1, 1): added per channel.
  ModelBuilder b;
  b.Input("x", {2, 3, 6, 6});
  AddConv(b, "x", "h", 3, 17);
  b.Add(Node("GlobalAveragePool", {"h"}, {"pooled"}, "gap"));
  AddConv(b, "x", "c", 3, 17);
  b.Add(Node("Add", {"pooled", "c"}, {"sum"}, "add"));
  b.Add(Node("Relu", {"sum"}, {"out"}, "relu"));
  b.Output("out");
  ExpectStepsMatchReference(b, {"Conv", "GlobalAveragePool", "Conv+Add+Relu"});
}

TEST(ResidualFusionTest, DoesNotFuse) {
  {
    SCOPED_TRACE("a constant operand is a bias, not a residual");
    ModelBuilder b;
    b.Input("x", {2, 3, 6, 6});
    AddConv(b, "x", "c", 3, 4);
    b.Constant("k", {4, 1, 1}, -1.0f, 1.0f);
    b.Add(Node("Add", {"c", "k"}, {"out"}, "add"));
    b.Output("out");
    ExpectStepsMatchReference(b, {"Conv", "Add"});
  }
  {
    SCOPED_TRACE("the Conv output is read by another node too");
    ModelBuilder b;
    b.Input("x", {2, 3, 6, 6});
    AddConv(b, "x", "c", 3, 3);
    b.Add(Node("Add", {"c", "x"}, {"sum"}, "add"));
    b.Add(Node("Mul", {"sum", "c"}, {"out"}, "mul"));
    b.Output("out");
    ExpectStepsMatchReference(b, {"Conv", "Add", "Mul"});
  }
  {
    SCOPED_TRACE("Add of the Conv output with itself");
    ModelBuilder b;
    b.Input("x", {2, 3, 6, 6});
    AddConv(b, "x", "c", 3, 3);
    b.Add(Node("Add", {"c", "c"}, {"out"}, "add"));
    b.Output("out");
    ExpectStepsMatchReference(b, {"Conv", "Add"});
  }
  {
    SCOPED_TRACE("the sum is a graph output: the ReLU stays apart");
    ModelBuilder b;
    b.Input("x", {2, 3, 6, 6});
    AddConv(b, "x", "c", 3, 3);
    b.Add(Node("Add", {"x", "c"}, {"sum"}, "add"));
    b.Add(Node("Relu", {"sum"}, {"out"}, "relu"));
    b.Output("sum").Output("out");
    ExpectStepsMatchReference(b, {"Conv+Add", "Relu"});
  }
}

TEST(ResidualFusionTest, AResidualLargerThanTheConvOutputIsRefusedClearly) {
  // Valid ONNX, but the fused step cannot hold a result larger than the
  // convolution's: an UnsupportedError naming the node when planning.
  ModelBuilder b;
  b.Input("x", {1, 3, 6, 6}).Input("big", {2, 4, 6, 6});
  AddConv(b, "x", "c", 3, 4);
  b.Add(Node("Add", {"c", "big"}, {"out"}, "add"));
  b.Output("out");
  const graph::Model model = b.Build();
  EXPECT_EQ(StepOps(model), (std::vector<std::string>{"Conv+Add"}));
  try {
    Session::FromModel(model, SessionOptions{});
    FAIL() << "expected UnsupportedError";
  } catch (const UnsupportedError& e) {
    EXPECT_NE(std::string(e.what()).find("would broadcast the convolution"),
              std::string::npos)
        << e.what();
    EXPECT_NE(std::string(e.what()).find("'c'"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace foldrt::runtime
