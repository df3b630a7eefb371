// The compiler frees a constant once every reader's kernel has packed it
// into its own oneDNN op (Kernel::ReleasesConstantInput): which constants
// go and which stay (shared weights, SAME_UPPER pads built per shape,
// reference kernels, a weight that is a graph output, one read by a node
// evaluated at load or by one checked but not run), and Session outputs
// unchanged for batch sizes planned after the first run, against the
// reference evaluator.
#include <gtest/gtest.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/tensor.h"
#include "graph/graph.h"
#include "graph/tensor.h"
#include "runtime/program.h"
#include "runtime/session.h"
#include "tests/runtime/session_test_util.h"

namespace foldrt::runtime {
namespace {

using foldrt::testing::ExpectOutputsMatch;
using foldrt::testing::SessionVariant;
using graph::Attribute;
using graph::Dim;
using graph::Node;

// Deterministic weights and inputs in [-0.55, 0.55).
std::vector<float> Values(size_t count, uint32_t seed) {
  return foldrt::testing::SeededValues(count, seed, -0.55f, 0.55f);
}

void AddWeight(graph::Graph* g, const std::string& name,
               const std::vector<int64_t>& dims, uint32_t seed) {
  int64_t count = 1;
  for (int64_t d : dims) count *= d;
  g->AddInitializer(graph::Tensor::FromFloats(
      name, dims, Values(static_cast<size_t>(count), seed)));
}

Node ConvNode(const std::string& name, std::vector<std::string> inputs,
              const std::string& y, std::vector<int64_t> pads,
              int64_t stride = 1) {
  Node conv("Conv", std::move(inputs), {y}, name);
  if (!pads.empty()) conv.SetAttribute(Attribute::Ints("pads", pads));
  conv.SetAttribute(Attribute::Ints("strides", {stride, stride}));
  return conv;
}

// x (N, 3, 8, 8) through:
//  - conv_a and conv_b sharing W1 and B1 (shared weights);
//  - conv_same: SAME_UPPER pads, built per input shape from its own copy
//    of W2 (kept);
//  - their sum (a residual Add fused into the Conv that runs last);
//  - conv_out reading w_out, which is also a graph output (kept);
//  - conv_fold reading w_scaled = w_fold * 2, computed at load (w_fold,
//    read by that node, kept; w_scaled released);
//  - conv_dead reading w_dead, which an unused Identity also reads (kept);
//  - ConvTranspose (wt), Flatten, Gemm (wg, transB, cg), MatMul (wm).
graph::Model ReleaseModel() {
  graph::Graph g;
  g.mutable_inputs()->push_back(graph::ValueInfo::ForTensor(
      "x", graph::DataType::kFloat,
      std::vector<Dim>{Dim::Symbolic("N"), Dim::Known(3), Dim::Known(8),
                       Dim::Known(8)}));
  AddWeight(&g, "W1", {4, 3, 3, 3}, 1);
  AddWeight(&g, "B1", {4}, 2);
  AddWeight(&g, "W2", {4, 4, 3, 3}, 3);
  AddWeight(&g, "w_out", {4, 4, 1, 1}, 4);
  AddWeight(&g, "w_fold", {4, 4, 1, 1}, 5);
  g.AddInitializer(graph::Tensor::FromFloats("two", {}, {2.0f}));
  AddWeight(&g, "w_dead", {4, 4, 1, 1}, 6);
  AddWeight(&g, "wt", {4, 2, 2, 2}, 7);
  AddWeight(&g, "wg", {16, 128}, 8);
  AddWeight(&g, "cg", {16}, 9);
  AddWeight(&g, "wm", {16, 5}, 10);

  g.AddNode(ConvNode("conv_a", {"x", "W1", "B1"}, "a", {1, 1, 1, 1}));
  g.AddNode(ConvNode("conv_b", {"x", "W1", "B1"}, "b", {1, 1, 1, 1}, 2));
  g.AddNode(Node("Relu", {"a"}, {"a_relu"}, "relu_a"));
  Node same("Conv", {"a_relu", "W2"}, {"s"}, "conv_same");
  same.SetAttribute(Attribute::String("auto_pad", "SAME_UPPER"));
  same.SetAttribute(Attribute::Ints("strides", {2, 2}));
  g.AddNode(std::move(same));
  g.AddNode(Node("Add", {"s", "b"}, {"sum"}, "add"));
  g.AddNode(ConvNode("conv_out", {"sum", "w_out"}, "o", {}));
  g.AddNode(Node("Mul", {"w_fold", "two"}, {"w_scaled"}, "scale_weights"));
  g.AddNode(ConvNode("conv_fold", {"o", "w_scaled"}, "f", {}));
  g.AddNode(ConvNode("conv_dead", {"f", "w_dead"}, "d", {}));
  g.AddNode(Node("Identity", {"w_dead"}, {"unused"}, "unused_identity"));
  Node convt("ConvTranspose", {"d", "wt"}, {"t"}, "convt");
  convt.SetAttribute(Attribute::Ints("strides", {2, 2}));
  g.AddNode(std::move(convt));                             // (N, 2, 8, 8)
  g.AddNode(Node("Flatten", {"t"}, {"flat"}, "flatten"));  // (N, 128)
  Node gemm("Gemm", {"flat", "wg", "cg"}, {"g"}, "gemm");
  gemm.SetAttribute(Attribute::Int("transB", 1));
  g.AddNode(std::move(gemm));                               // (N, 16)
  g.AddNode(Node("MatMul", {"g", "wm"}, {"y"}, "matmul"));  // (N, 5)
  for (const char* out : {"y", "w_out"}) {
    g.mutable_outputs()->push_back(graph::ValueInfo::ForTensor(
        out, graph::DataType::kFloat, std::nullopt));
  }
  graph::Model model;
  model.opset_imports.push_back({"", 13});
  model.graph = std::move(g);
  model.source = "constant_release.onnx";
  return model;
}

// By value name: true where the program still holds a constant, false for
// the model's weights it released (or never had).
std::map<std::string, bool> ConstantsKept(const Program& program) {
  std::map<std::string, bool> kept;
  for (const ProgramValue& value : program.values) {
    if (value.constant != nullptr) kept[value.name] = true;
  }
  for (const char* name : {"W1", "B1", "W2", "w_out", "w_fold", "w_scaled",
                           "w_dead", "wt", "wg", "cg", "wm"}) {
    kept.emplace(name, false);
  }
  return kept;
}

TEST(ConstantReleaseTest, OptimizedKernelsLetGoOfWhatTheyPacked) {
  const std::unique_ptr<Program> program =
      CompileProgram(ReleaseModel(), CompileOptions{});
  const std::map<std::string, bool> kept = ConstantsKept(*program);
  for (const char* name : {"W1", "B1", "w_scaled", "wt", "wg", "cg", "wm"}) {
    EXPECT_FALSE(kept.at(name)) << name << " is still held";
  }
  for (const char* name : {"W2", "w_out", "w_fold", "w_dead"}) {
    EXPECT_TRUE(kept.at(name)) << name << " was released";
  }
  // The released entries are emptied, the others untouched.
  size_t empty = 0;
  for (const Tensor& constant : program->constants) {
    empty += constant.NumElements() == 0 ? 1 : 0;
  }
  EXPECT_EQ(empty, 7u);
  // No step reads a released value.
  for (const ProgramStep& step : program->steps) {
    for (int id : step.inputs) {
      if (id < 0) continue;
      const std::string& name = program->values[id].name;
      EXPECT_FALSE(kept.count(name) != 0 && !kept.at(name))
          << step.node << " reads released '" << name << "'";
    }
  }
}

TEST(ConstantReleaseTest, ReferenceKernelsKeepEveryConstant) {
  CompileOptions options;
  options.kernels.reference_kernels = true;
  const std::unique_ptr<Program> program =
      CompileProgram(ReleaseModel(), options);
  for (const auto& [name, held] : ConstantsKept(*program)) {
    // w_fold * 2 is computed at load, w_fold kept for its reader.
    EXPECT_TRUE(held) << name << " was released";
  }
  for (const Tensor& constant : program->constants) {
    EXPECT_GT(constant.NumElements(), 0);
  }
}

TEST(ConstantReleaseTest, OutputsAreUnchanged) {
  const graph::Model model = ReleaseModel();
  using Layouts = SessionOptions::Layouts;
  const SessionVariant variants[] = {
      {false, 1, Layouts::kAuto},   {false, 2, Layouts::kAuto},
      {true, 1, Layouts::kAuto},    {false, 1, Layouts::kPlain},
      {false, 1, Layouts::kNhwc},   {false, 2, Layouts::kNChw8c},
      {false, 1, Layouts::kNChw16c}};
  for (const SessionVariant& variant : variants) {
    SCOPED_TRACE(foldrt::testing::Describe(variant));
    const std::unique_ptr<Session> session =
        Session::FromModel(model, foldrt::testing::OptionsOf(variant));
    // Batch 2 first (packing the weights and freeing the plain copies),
    // then batch sizes planned afterwards, then batch 2 again, all on one
    // Session (ExpectSessionMatchesReference runs each Session once).
    for (int64_t batch : {2, 1, 3, 2}) {
      SCOPED_TRACE(batch);
      const std::map<std::string, Tensor> inputs = {
          {"x", Tensor::FromFloats({batch, 3, 8, 8},
                                   Values(static_cast<size_t>(batch * 192),
                                          static_cast<uint32_t>(batch)))}};
      const std::map<std::string, Tensor> got = session->Run(inputs);
      ASSERT_NO_FATAL_FAILURE(ExpectOutputsMatch(
          got, runtime::EvaluateReference(model, inputs), 1e-4));
      EXPECT_EQ(got.at("w_out").ToVector<float>(), Values(16, 4));
    }
  }
}

}  // namespace
}  // namespace foldrt::runtime
