// BN into the preceding MatMul (graph/passes/fold_batch_norm_into_matmul.cc)
// and the constant-Transpose folding that exposes torch's Linear weights
// (graph/passes/fold_constant_transpose.cc).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "graph/passes/batch_norm_fold.h"
#include "tests/graph/passes/fold_test_util.h"

namespace foldrt::graph {
namespace {

using testing::CountOps;
using testing::FindRecord;
using testing::FoldAndVerify;
using testing::ModelBuilder;

constexpr int64_t kK = 5;
constexpr int64_t kN = 4;

TEST(FoldIntoMatMulTest, WithoutBiasInsertsAnAdd) {
  ModelBuilder b(13);
  b.Input("x", {-1, kK});
  b.RandomInitializer("w", {kK, kN});
  b.AddNode("MatMul", {"x", "w"}, {"m"}, "matmul");
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
    ModelBuilder b(13);
    b.Input("x", {-1, kK});
    b.RandomInitializer("w", {kK, kN});
    b.RandomInitializer("bias", GetParam());
    b.AddNode("MatMul", {"x", "w"}, {"m"}, "matmul");
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

// torch's Linear(bias=False) at opset 13: MatMul(x, Transpose(W)).
TEST(FoldIntoMatMulTest, WeightBehindConstantTransposeFolds) {
  ModelBuilder b(13);
  b.Input("x", {-1, kK});
  b.RandomInitializer("fc.weight", {kN, kK});
  b.AddNode("Transpose", {"fc.weight"}, {"wt"}, "transpose",
            {Attribute::Ints("perm", {1, 0})});
  b.AddNode("MatMul", {"x", "wt"}, {"m"}, "matmul");
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
  ModelBuilder b(13);
  b.Input("x", {-1, kK});
  b.RandomInitializer("fc.weight", {kN, kK});
  b.AddNode("Transpose", {"fc.weight"}, {"wt"}, "transpose");
  b.AddNode("MatMul", {"x", "wt"}, {"m"}, "matmul");
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
  ModelBuilder b(13);
  b.Input("x", {-1, kK});
  b.RandomInitializer("fc.weight", {kN, kK});
  b.AddNode("Transpose", {"fc.weight"}, {"wt"}, "transpose");
  b.AddNode("MatMul", {"x", "wt"}, {"m"}, "matmul");
  b.AddNode("Relu", {"m"}, {"out"}, "relu");
  b.Output("out");
  const auto result = FoldAndVerify(b.model());
  EXPECT_EQ(result.report.cleanup.transposes_folded, 0u);
  EXPECT_EQ(CountOps(result.folded.graph, "Transpose"), 1u);
}

TEST(FoldIntoMatMulTest, ThreeDimensionalProductStays) {
  // (B, T, K) x (K, N): the BN's axis 1 is T, not the weight's N.
  ModelBuilder b(13);
  b.Input("x", {-1, kN, kK});
  b.RandomInitializer("w", {kK, kN});
  b.AddNode("MatMul", {"x", "w"}, {"m"}, "matmul");
  b.BatchNorm("bn", "m", "y", kN);
  b.Output("y");
  const auto result = FoldAndVerify(b.model());
  const BatchNormFoldRecord* record = FindRecord(result.report, "bn");
  EXPECT_EQ(record->backward.reason, FoldReason::kShapeMismatch);
  EXPECT_NE(record->backward.detail.find("rank 3"), std::string::npos);
  EXPECT_EQ(CountOps(result.folded.graph, "BatchNormalization"), 1u);
}

TEST(FoldIntoMatMulTest, UnknownRankStays) {
  ModelBuilder b(13);
  b.graph().mutable_inputs()->push_back(
      ValueInfo::ForTensor("x", DataType::kFloat, std::nullopt));
  b.RandomInitializer("w", {kK, kN});
  b.AddNode("MatMul", {"x", "w"}, {"m"}, "matmul");
  b.BatchNorm("bn", "m", "y", kN);
  b.Output("y", 2);
  Model model = b.model();
  const FoldReport report = FoldBatchNormalization(model);
  EXPECT_EQ(report.batch_norms[0].backward.reason, FoldReason::kUnknownRank);
}

TEST(FoldIntoMatMulTest, AddOfTwoComputedValuesStays) {
  ModelBuilder b(13);
  b.Input("x", {-1, kN});
  b.Input("z", {-1, kN});
  b.AddNode("Add", {"x", "z"}, {"a"}, "add");
  b.BatchNorm("bn", "a", "y", kN);
  b.Output("y");
  const auto result = FoldAndVerify(b.model());
  EXPECT_EQ(FindRecord(result.report, "bn")->backward.reason,
            FoldReason::kUnsupportedProducer);
}

}  // namespace
}  // namespace foldrt::graph
