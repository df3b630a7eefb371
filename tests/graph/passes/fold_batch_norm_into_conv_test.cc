// BN into the preceding Conv (graph/passes/fold_batch_norm_into_conv.cc),
// checked numerically against the unfolded model with the reference
// evaluator, and the refusals around it.
#include <gtest/gtest.h>

#include <ostream>
#include <string>
#include <vector>

#include "graph/passes/batch_norm_fold.h"
#include "tests/graph/passes/fold_test_util.h"

namespace foldrt::graph::testing {
namespace {

struct ConvCase {
  std::string name;
  std::vector<int64_t> input;   // (N, Cin, spatial...)
  std::vector<int64_t> weight;  // (Cout, Cin/group, k...)
  int64_t group;
  bool bias;
};

// Names the case in gtest's failure messages instead of dumping bytes.
void PrintTo(const ConvCase& c, std::ostream* os) { *os << c.name; }

class FoldIntoConvTest : public ::testing::TestWithParam<ConvCase> {};

TEST_P(FoldIntoConvTest, FoldsAndMatchesUnfolded) {
  const ConvCase& c = GetParam();
  ModelBuilder b(13);
  b.Input("x", c.input);
  b.RandomInitializer("w", c.weight);
  std::vector<std::string> inputs = {"x", "w"};
  if (c.bias) {
    b.RandomInitializer("w.bias", {c.weight[0]});
    inputs.push_back("w.bias");
  }
  const std::vector<int64_t> pads(2 * (c.weight.size() - 2), 1);
  b.AddNode("Conv", inputs, {"c"}, "conv",
            {Attribute::Int("group", c.group), Attribute::Ints("pads", pads)});
  b.BatchNorm("bn", "c", "y", c.weight[0]);
  b.Output("y");
  const auto result = FoldAndVerify(b.model());
  const BatchNormFoldRecord* record = FindRecord(result.report, "bn");
  ASSERT_NE(record, nullptr);
  EXPECT_EQ(FoldCategory(*record), "backward:Conv");
  EXPECT_EQ(record->target_node, "conv");
  const Graph& g = result.folded.graph;
  ASSERT_EQ(g.num_nodes(), 1u);
  // The BN's output name is the one that survives.
  EXPECT_EQ(g.node(0).output(0), "y");
  ASSERT_EQ(g.node(0).num_inputs(), 3u);
  // Weight and bias rewritten in place: no copies, BN params gone.
  EXPECT_EQ(g.node(0).input(1), "w");
  EXPECT_EQ(g.num_initializers(), 2u);
  EXPECT_EQ(result.report.cleanup.weights_copied, 0u);
}

INSTANTIATE_TEST_SUITE_P(
    Shapes, FoldIntoConvTest,
    ::testing::Values(
        ConvCase{"conv1d", {-1, 3, 9}, {5, 3, 3}, 1, true},
        ConvCase{"conv2d", {-1, 3, 6, 7}, {4, 3, 3, 3}, 1, true},
        ConvCase{"conv2d_nobias", {-1, 3, 6, 6}, {4, 3, 3, 3}, 1, false},
        ConvCase{"conv3d", {-1, 2, 4, 4, 4}, {3, 2, 3, 3, 3}, 1, true},
        ConvCase{"groups", {-1, 6, 5, 5}, {9, 2, 3, 3}, 3, true},
        ConvCase{"depthwise", {-1, 4, 5, 5}, {4, 1, 3, 3}, 4, false},
        ConvCase{"depthwise_multiplier", {-1, 3, 5, 5}, {6, 1, 3, 3}, 3, true}),
    [](const auto& info) { return info.param.name; });

// Two Conv+BN pairs reading one weight: the first fold must not scale the
// weight the second conv still reads.
TEST(FoldIntoConvSharingTest, SharedWeightIsCopiedAndBothFold) {
  ModelBuilder b(13);
  b.Input("x", {-1, 3, 5, 5});
  b.RandomInitializer("w", {4, 3, 3, 3});
  b.RandomInitializer("shared.bias", {4});
  b.AddNode("Conv", {"x", "w", "shared.bias"}, {"c1"}, "conv1");
  b.AddNode("Conv", {"x", "w", "shared.bias"}, {"c2"}, "conv2");
  b.BatchNorm("bn1", "c1", "y1", 4);
  b.BatchNorm("bn2", "c2", "y2", 4, 1e-3f);
  b.Output("y1");
  b.Output("y2");
  const auto result = FoldAndVerify(b.model());
  EXPECT_EQ(FoldCategory(*FindRecord(result.report, "bn1")), "backward:Conv");
  EXPECT_EQ(FoldCategory(*FindRecord(result.report, "bn2")), "backward:Conv");
  // conv1 got copies of weight and bias; conv2, then the only reader,
  // rewrote the originals.
  EXPECT_EQ(result.report.cleanup.weights_copied, 2u);
  const Graph& g = result.folded.graph;
  const Node* conv1 = g.Producer("y1");
  const Node* conv2 = g.Producer("y2");
  ASSERT_NE(conv1, nullptr);
  ASSERT_NE(conv2, nullptr);
  EXPECT_NE(conv1->input(1), conv2->input(1));
  EXPECT_NE(conv1->input(2), conv2->input(2));
  EXPECT_EQ(g.num_initializers(), 4u);
}

// A weight that reaches the Conv through an Identity is copied (the
// Identity's source may have other readers) and the chain cleaned up.
TEST(FoldIntoConvSharingTest, WeightBehindIdentityIsCopiedAndChainRemoved) {
  ModelBuilder b(13);
  b.Input("x", {-1, 3, 5, 5});
  b.RandomInitializer("w", {4, 3, 3, 3});
  b.AddNode("Identity", {"w"}, {"w_id"}, "weight_identity");
  b.AddNode("Conv", {"x", "w_id"}, {"c"}, "conv");
  b.BatchNorm("bn", "c", "y", 4);
  b.Output("y");
  const auto result = FoldAndVerify(b.model());
  const Graph& g = result.folded.graph;
  EXPECT_EQ(CountOps(g, "Identity"), 0u);
  EXPECT_EQ(g.FindInitializer("w"), nullptr);
  EXPECT_EQ(g.num_initializers(), 2u);  // folded weight + new bias
}

// x -> Conv(x, w) -> c, where the refusal models start; w is (cout, 3, 1, 1),
// a graph input when `weight_is_input`.
ModelBuilder ConvOfX(int64_t cout = 3, bool weight_is_input = false) {
  ModelBuilder b(13);
  b.Input("x", {-1, 3, 5, 5});
  if (weight_is_input) {
    b.Input("w", {cout, 3, 1, 1});
  } else {
    b.RandomInitializer("w", {cout, 3, 1, 1});
  }
  b.AddNode("Conv", {"x", "w"}, {"c"}, "conv");
  return b;
}

INSTANTIATE_TEST_SUITE_P(
    IntoConv, FoldRefusalTest,
    ::testing::Values(
        RefusalCase{"ProducerWithTwoReadersStays",
                    [] {
                      ModelBuilder b = ConvOfX();
                      b.BatchNorm("bn", "c", "y", 3);
                      b.AddNode("Add", {"y", "c"}, {"out"}, "residual");
                      b.Output("out");
                      return b.model();
                    },
                    FoldReason::kMultipleConsumers, std::nullopt,
                    "Add 'residual'"},
        RefusalCase{"ProducerOutputThatIsAGraphOutputStays",
                    [] {
                      ModelBuilder b = ConvOfX();
                      b.BatchNorm("bn", "c", "y", 3);
                      b.Output("c");
                      b.Output("y");
                      return b.model();
                    },
                    FoldReason::kGraphOutput, FoldReason::kGraphOutput},
        RefusalCase{"ReluBetweenConvAndBatchNormStays",
                    [] {
                      ModelBuilder b = ConvOfX();
                      b.AddNode("Relu", {"c"}, {"r"}, "relu");
                      b.BatchNorm("bn", "r", "y", 3);
                      b.Output("y");
                      return b.model();
                    },
                    FoldReason::kActivationBetween, std::nullopt,
                    "Relu 'relu'"},
        RefusalCase{"WeightComputedAtRunTimeStays",
                    [] {
                      ModelBuilder b = ConvOfX(3, /*weight_is_input=*/true);
                      b.BatchNorm("bn", "c", "y", 3);
                      b.AddNode("Relu", {"y"}, {"out"}, "relu");
                      b.Output("out");
                      return b.model();
                    },
                    FoldReason::kWeightsNotConstant, std::nullopt,
                    "graph input"},
        // A BN over 2 channels after a 4-channel conv cannot be valid; the
        // pass must refuse rather than index out of bounds.
        ShapeMismatchCase("ChannelCountMismatchStays",
                          [] {
                            ModelBuilder b = ConvOfX(4);
                            b.BatchNorm("bn", "c", "y", 2);
                            b.Output("y");
                            return b.model();
                          })),
    RefusalCaseName);

}  // namespace
}  // namespace foldrt::graph::testing
