// Planning decisions of runtime/plan.cc that outputs alone would not show:
// Concats sharing one buffer along a chain (DenseNet's dense blocks), and
// the ops that keep a convolution's layout instead of converting (Identity,
// a Pad of zeros). Every model is also run through Session in each layout
// policy against the reference evaluator, so sharing that computes the
// wrong thing fails as well as sharing that does not happen.
#include "runtime/program.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/tensor.h"
#include "graph/graph.h"
#include "graph/tensor.h"
#include "ops/layout.h"
#include "runtime/session.h"
#include "tests/runtime/session_test_util.h"

namespace foldrt::runtime {
namespace {

using foldrt::testing::SeededValues;
using graph::Attribute;
using graph::Node;

// Graphs on (batch, C, 5, 5) inputs.
class ModelBuilder : public foldrt::testing::GraphBuilderBase<ModelBuilder> {
 public:
  explicit ModelBuilder(int64_t batch) : batch_(batch) {}

  ModelBuilder& Input(const std::string& name, int64_t channels) {
    return GraphBuilderBase::Input(name, {batch_, channels, 5, 5});
  }
  // 3x3 Conv, pad 1, `in` -> `out` channels. Weights in +-0.15 keep the
  // activations O(1) through four convolutions in a row, so that the
  // reference comparison's tolerance (1e-5 relative to 1 + |ref|) measures
  // rounding, not cancellation of large intermediate values.
  ModelBuilder& Conv(const std::string& x, const std::string& y, int64_t in,
                     int64_t out) {
    Constant(y + "_w", {out, in, 3, 3}, -0.15f, 0.15f);
    Constant(y + "_b", {out}, -1.0f, 1.0f);
    Node conv("Conv", {x, y + "_w", y + "_b"}, {y}, y);
    conv.SetAttribute(Attribute::Ints("pads", {1, 1, 1, 1}));
    return Add(std::move(conv));
  }
  // Inference BN with non-trivial statistics, then Relu.
  ModelBuilder& BatchNormRelu(const std::string& x, const std::string& y,
                              int64_t channels) {
    Constant(y + "_scale", {channels}, 0.5f, 1.5f);
    Constant(y + "_bias", {channels}, -0.5f, 0.5f);
    Constant(y + "_mean", {channels}, -0.3f, 0.3f);
    Constant(y + "_var", {channels}, 0.5f, 2.0f);
    Add(Node("BatchNormalization",
             {x, y + "_scale", y + "_bias", y + "_mean", y + "_var"},
             {y + "_bn"}, y + "_bn"));
    return Add(Node("Relu", {y + "_bn"}, {y}, y + "_relu"));
  }
  ModelBuilder& Concat(const std::vector<std::string>& xs,
                       const std::string& y) {
    Node concat("Concat", xs, {y}, y);
    concat.SetAttribute(Attribute::Int("axis", 1));
    return Add(std::move(concat));
  }
  graph::Model Build() { return GraphBuilderBase::Build("program_test.onnx"); }

 private:
  int64_t batch_;
};

// A dense block of three layers on 16 channels, growth 8:
// c1 = Concat(x0), c2 = Concat(x0, f1), c3 = Concat(x0, f1, f2), each read
// by BN + ReLU + Conv; the block ends in a BN + ReLU + Conv on c3.
ModelBuilder DenseBlock(int64_t batch) {
  ModelBuilder b(batch);
  b.Input("x", 16).Conv("x", "x0", 16, 16);
  b.Concat({"x0"}, "c1").BatchNormRelu("c1", "r1", 16).Conv("r1", "f1", 16, 8);
  b.Concat({"x0", "f1"}, "c2").BatchNormRelu("c2", "r2", 24);
  b.Conv("r2", "f2", 24, 8);
  b.Concat({"x0", "f1", "f2"}, "c3").BatchNormRelu("c3", "r3", 32);
  b.Conv("r3", "y", 32, 4).Output("y");
  return b;
}

struct PlanFacts {
  size_t shared_concats = 0;
  size_t layout_conversions = 0;
  size_t arena_bytes = 0;
};

// Plans `model` for its declared input shape with convolutions forced to
// `conv_layout`.
PlanFacts PlanModel(const graph::Model& model, int64_t batch,
                    ops::Layout conv_layout) {
  CompileOptions options;
  options.kernels.conv_layout = conv_layout;
  const std::unique_ptr<Program> program = CompileProgram(model, options);
  const std::unique_ptr<const Plan> plan =
      BuildPlan(*program, {{batch, 16, 5, 5}}, PlanOptions{});
  return {plan->shared_concats, plan->layout_conversions, plan->arena_bytes};
}

std::map<std::string, Tensor> Input(int64_t batch) {
  return {
      {"x", Tensor::FromFloats(
                {batch, 16, 5, 5},
                SeededValues(static_cast<size_t>(batch * 16 * 25), 7, -2, 2))}};
}

TEST(ConcatChainTest, DenseBlockSharesOneBufferInEveryLayout) {
  for (const int64_t batch : {1, 2}) {
    const graph::Model model = DenseBlock(batch).Build();
    for (const ops::Layout layout :
         {ops::Layout::kNchw, ops::Layout::kNhwc, ops::Layout::kNChw8c}) {
      SCOPED_TRACE(::testing::Message()
                   << "batch " << batch << ", " << ops::LayoutName(layout));
      // c1 and c2 live inside c3's buffer: c1 copies x0, c2 f1, c3 f2.
      EXPECT_EQ(PlanModel(model, batch, layout).shared_concats, 2u);
    }
    testing::ExpectSessionMatchesReference(model, Input(batch));
  }
}

TEST(ConcatChainTest, SharingShrinksTheArena) {
  // Without sharing, c2 (24 channels) and c3 (32) are separate buffers
  // alive at once with x0 and f1; with it, one 32-channel buffer.
  ModelBuilder shared = DenseBlock(2);
  ModelBuilder unshared(2);
  unshared.Input("x", 16).Conv("x", "x0", 16, 16);
  unshared.Concat({"x0"}, "c1").BatchNormRelu("c1", "r1", 16);
  unshared.Conv("r1", "f1", 16, 8);
  // f1 first: no Concat's inputs begin with another's.
  unshared.Concat({"f1", "x0"}, "c2").BatchNormRelu("c2", "r2", 24);
  unshared.Conv("r2", "f2", 24, 8);
  unshared.Concat({"x0", "f1", "f2"}, "c3").BatchNormRelu("c3", "r3", 32);
  unshared.Conv("r3", "y", 32, 4).Output("y");
  const graph::Model unshared_model = unshared.Build();
  const PlanFacts with = PlanModel(shared.Build(), 2, ops::Layout::kNhwc);
  const PlanFacts without = PlanModel(unshared_model, 2, ops::Layout::kNhwc);
  EXPECT_EQ(with.shared_concats, 2u);
  // c1 = Concat(x0) is still a prefix of c3 = Concat(x0, f1, f2).
  EXPECT_EQ(without.shared_concats, 1u);
  EXPECT_LT(with.arena_bytes, without.arena_bytes);
  testing::ExpectSessionMatchesReference(unshared_model, Input(2));
}

// A Conv reads its input dense: a Concat it reads may share a buffer only
// where its channels are one contiguous run (batch 1, plain or blocked),
// never in channels-last or at batch 2.
TEST(ConcatChainTest, DoesNotShareWhereAReaderNeedsDenseChannels) {
  for (const int64_t batch : {1, 2}) {
    ModelBuilder b(batch);
    b.Input("x", 16).Conv("x", "x0", 16, 16);
    b.Concat({"x0"}, "c1").Conv("c1", "f1", 16, 8);
    b.Concat({"x0", "f1"}, "c2").BatchNormRelu("c2", "y", 24).Output("y");
    const graph::Model model = b.Build();
    SCOPED_TRACE(::testing::Message() << "batch " << batch);
    EXPECT_EQ(PlanModel(model, batch, ops::Layout::kNhwc).shared_concats, 0u);
    EXPECT_EQ(PlanModel(model, batch, ops::Layout::kNChw8c).shared_concats,
              batch == 1 ? 1u : 0u);
    EXPECT_EQ(PlanModel(model, batch, ops::Layout::kNchw).shared_concats,
              batch == 1 ? 1u : 0u);
    testing::ExpectSessionMatchesReference(model, Input(batch));
  }
}

TEST(ConcatChainTest, DoesNotShareGraphOutputsOrViewedConcats) {
  // c1 is a graph output (its own buffer, handed to the caller); c2 is
  // reshaped (a view reads it as if dense).
  ModelBuilder b(2);
  b.Input("x", 16).Conv("x", "x0", 16, 16);
  b.Concat({"x0"}, "c1").Output("c1");
  b.BatchNormRelu("c1", "r1", 16).Conv("r1", "f1", 16, 8);
  b.Concat({"x0", "f1"}, "c2").BatchNormRelu("c2", "r2", 24);
  b.Conv("r2", "f2", 24, 8);
  b.Concat({"x0", "f1", "f2"}, "c3").BatchNormRelu("c3", "y", 32).Output("y");
  b.Add(Node("Flatten", {"c2"}, {"c2_flat"}, "flatten"));
  b.Add(Node("Relu", {"c2_flat"}, {"z"}, "relu_z")).Output("z");
  const graph::Model model = b.Build();
  for (const ops::Layout layout : {ops::Layout::kNchw, ops::Layout::kNhwc}) {
    SCOPED_TRACE(ops::LayoutName(layout));
    EXPECT_EQ(PlanModel(model, 2, layout).shared_concats, 0u);
  }
  testing::ExpectSessionMatchesReference(model, Input(2));
}

// Identity and a Pad of zeros (torch.onnx emits one before DenseNet's
// transition pools) hand a channels-last or blocked tensor on as it is: the
// only conversions left are the graph input's and the output's. The
// outputs equal the reference evaluator's on the graph without the two
// (it has no Pad).
TEST(LayoutPassThroughTest, IdentityAndZeroPadKeepTheConvLayout) {
  const auto build = [](bool pass_through) {
    ModelBuilder b(2);
    b.Input("x", 16).Conv("x", "y1", 16, 16);
    std::string last = "y1";
    if (pass_through) {
      b.Add(Node("Identity", {"y1"}, {"i1"}, "identity"));
      b.Int64Constant("pads", std::vector<int64_t>(8, 0));
      b.Add(Node("Pad", {"i1", "pads"}, {"p1"}, "pad"));
      last = "p1";
    }
    b.Conv(last, "y", 16, 4).Output("y");
    return b.Build();
  };
  const graph::Model model = build(true);
  EXPECT_EQ(PlanModel(model, 2, ops::Layout::kNhwc).layout_conversions, 2u);
  EXPECT_EQ(PlanModel(model, 2, ops::Layout::kNChw8c).layout_conversions, 2u);
  const auto want = runtime::EvaluateReference(build(false), Input(2));
  for (const testing::SessionVariant& variant : testing::AllSessionVariants()) {
    SCOPED_TRACE(testing::Describe(variant));
    testing::ExpectOutputsMatch(
        Session::FromModel(model, testing::OptionsOf(variant))->Run(Input(2)),
        want, 1e-5);
  }
}

}  // namespace
}  // namespace foldrt::runtime
