// BN into the preceding MatMul (graph/passes/fold_batch_norm_into_matmul.cc)
// and the constant-Transpose folding that exposes torch's Linear weights
// (graph/passes/fold_constant_transpose.cc).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "graph/passes/batch_norm_fold.h"
#include "tests/graph/passes/fold_test_util.h"

namespace foldrt::graph::testing {
namespace {

constexpr int64_t kK = 5;
constexpr int64_t kN = 4;

// x -> MatMul(x, w) -> m with w (K, N).
ModelBuilder MatMulOf(const std::vector<int64_t>& x_dims) {
  ModelBuilder b(13);
  b.Input("x", x_dims);
  b.RandomInitializer("w", {kK, kN});
  b.AddNode("MatMul", {"x", "w"}, {"m"}, "matmul");
  return b;
}

// x -> MatMul(x, Transpose(fc.weight) = wt) -> m, torch's Linear(bias=False)
// at opset 13.
ModelBuilder MatMulOfTransposedWeight(
    const std::vector<Attribute>& transpose_attributes = {}) {
  ModelBuilder b(13);
  b.Input("x", {-1, kK});
  b.RandomInitializer("fc.weight", {kN, kK});
  b.AddNode("Transpose", {"fc.weight"}, {"wt"}, "transpose",
            transpose_attributes);
  b.AddNode("MatMul", {"x", "wt"}, {"m"}, "matmul");
  return b;
}

TEST(FoldIntoMatMulTest, WithoutBiasInsertsAnAdd) {
  ModelBuilder b = MatMulOf({-1, kK});
  b.BatchNorm("bn", "m", "y", kN);
  b.AddNode("Relu", {"y"}, {"out"}, "relu");
  b.Output("out");
  const auto result = FoldAndVerify(b.model());
  EXPECT_EQ(FoldCategory(*FindRecord(result.report, "bn")), "backward:MatMul");
  const Graph& g = result.folded.graph;
  const Node* add = g.Producer("y");
  ASSERT_NE(add, nullptr);
  EXPECT_EQ(add->op_type(), "Add");
  EXPECT_EQ(add->input(0), "m");
  EXPECT_EQ(result.report.cleanup.nodes_inserted, 1u);
}

class FoldIntoMatMulBiasTest
    : public ::testing::TestWithParam<std::vector<int64_t>> {};

TEST_P(FoldIntoMatMulBiasTest, FoldsIntoWeightAndExistingBias) {
  for (const bool bias_first : {false, true}) {
    SCOPED_TRACE(bias_first ? "Add(bias, product)" : "Add(product, bias)");
    ModelBuilder b = MatMulOf({-1, kK});
    b.RandomInitializer("bias", GetParam());
    b.AddNode("Add",
              bias_first ? std::vector<std::string>{"bias", "m"}
                         : std::vector<std::string>{"m", "bias"},
              {"a"}, "bias_add");
    b.BatchNorm("bn", "a", "y", kN);
    b.Output("y");
    const auto result = FoldAndVerify(b.model());
    EXPECT_EQ(FoldCategory(*FindRecord(result.report, "bn")),
              "backward:MatMul");
    EXPECT_EQ(CountOps(result.folded.graph, "Add"), 1u);
    EXPECT_EQ(result.report.cleanup.nodes_inserted, 0u);
    EXPECT_EQ(result.folded.graph.Producer("y")->name(), "bias_add");
  }
}

INSTANTIATE_TEST_SUITE_P(BiasShapes, FoldIntoMatMulBiasTest,
                         ::testing::Values(std::vector<int64_t>{kN},
                                           std::vector<int64_t>{1, kN},
                                           std::vector<int64_t>{1},
                                           std::vector<int64_t>{}));

TEST(FoldIntoMatMulTest, WeightBehindConstantTransposeFolds) {
  ModelBuilder b = MatMulOfTransposedWeight({Attribute::Ints("perm", {1, 0})});
  b.BatchNorm("bn", "m", "y", kN);
  b.Output("y");
  const auto result = FoldAndVerify(b.model());
  EXPECT_EQ(FoldCategory(*FindRecord(result.report, "bn")), "backward:MatMul");
  EXPECT_EQ(result.report.cleanup.transposes_folded, 1u);
  EXPECT_EQ(CountOps(result.folded.graph, "Transpose"), 0u);
  EXPECT_EQ(result.folded.graph.FindInitializer("fc.weight"), nullptr);
  const Tensor* weight = result.folded.graph.FindInitializer("wt");
  ASSERT_NE(weight, nullptr);
  EXPECT_EQ(weight->dims(), (std::vector<int64_t>{kK, kN}));
}

TEST(FoldIntoMatMulTest, TransposeReadByOtherOpsIsLeftAlone) {
  ModelBuilder b = MatMulOfTransposedWeight();
  b.AddNode("Identity", {"wt"}, {"wt_out"}, "expose");
  b.BatchNorm("bn", "m", "y", kN);
  b.Output("y");
  b.Output("wt_out");
  Model model = b.model();
  const FoldReport report = FoldBatchNormalization(model);
  EXPECT_EQ(report.cleanup.transposes_folded, 0u);
  EXPECT_EQ(report.batch_norms[0].backward.reason,
            FoldReason::kWeightsNotConstant);
}

TEST(FoldIntoMatMulTest, TransposeAwayFromBatchNormsIsLeftAlone) {
  ModelBuilder b = MatMulOfTransposedWeight();
  b.AddNode("Relu", {"m"}, {"out"}, "relu");
  b.Output("out");
  const auto result = FoldAndVerify(b.model());
  EXPECT_EQ(result.report.cleanup.transposes_folded, 0u);
  EXPECT_EQ(CountOps(result.folded.graph, "Transpose"), 1u);
}

INSTANTIATE_TEST_SUITE_P(
    IntoMatMul, FoldRefusalTest,
    ::testing::Values(
        // (B, T, K) x (K, N): the BN's axis 1 is T, not the weight's N.
        RefusalCase{"ThreeDimensionalProductStays",
                    [] {
                      ModelBuilder b = MatMulOf({-1, kN, kK});
                      b.BatchNorm("bn", "m", "y", kN);
                      b.Output("y");
                      return b.model();
                    },
                    FoldReason::kShapeMismatch, std::nullopt, "rank 3"},
        RefusalCase{"UnknownRankStays",
                    [] {
                      ModelBuilder b(13);
                      b.graph().mutable_inputs()->push_back(
                          ValueInfo::ForTensor("x", DataType::kFloat,
                                               std::nullopt));
                      b.RandomInitializer("w", {kK, kN});
                      b.AddNode("MatMul", {"x", "w"}, {"m"}, "matmul");
                      b.BatchNorm("bn", "m", "y", kN);
                      b.Output("y", 2);
                      return b.model();
                    },
                    FoldReason::kUnknownRank, std::nullopt, "",
                    /*verify=*/false},
        RefusalCase{"AddOfTwoComputedValuesStays",
                    [] {
                      ModelBuilder b(13);
                      b.Input("x", {-1, kN});
                      b.Input("z", {-1, kN});
                      b.AddNode("Add", {"x", "z"}, {"a"}, "add");
                      b.BatchNorm("bn", "a", "y", kN);
                      b.Output("y");
                      return b.model();
                    },
                    FoldReason::kUnsupportedProducer}),
    RefusalCaseName);

}  // namespace
}  // namespace foldrt::graph::testing
