// BN into the FOLLOWING Conv / Gemm / MatMul
// (graph/passes/fold_batch_norm_into_following_conv.cc and
// fold_batch_norm_into_following_gemm.cc): exact folds are checked
// numerically; padded convolutions must be refused.
#include <gtest/gtest.h>

#include <ostream>
#include <string>
#include <tuple>
#include <vector>

#include "graph/passes/batch_norm_fold.h"
#include "tests/graph/passes/fold_test_util.h"

namespace foldrt::graph {
namespace {

using testing::CountOps;
using testing::FindRecord;
using testing::FoldAndVerify;
using testing::ModelBuilder;

// x -> BN -> Conv(attributes) -> out, with C input channels.
Model BatchNormThenConv(int64_t channels, int64_t group,
                        const std::vector<int64_t>& kernel, bool bias,
                        const std::vector<Attribute>& attributes) {
  ModelBuilder b(13);
  b.Input("x", {-1, channels, 7, 6});
  b.BatchNorm("bn", "x", "n", channels);
  std::vector<int64_t> weight = {6, channels / group};
  weight.insert(weight.end(), kernel.begin(), kernel.end());
  b.RandomInitializer("w", weight);
  std::vector<std::string> inputs = {"n", "w"};
  if (bias) {
    b.RandomInitializer("w.bias", {6});
    inputs.push_back("w.bias");
  }
  std::vector<Attribute> all = attributes;
  all.push_back(Attribute::Int("group", group));
  b.AddNode("Conv", inputs, {"out"}, "conv", all);
  b.Output("out");
  return b.model();
}

struct FollowingConvCase {
  std::string name;
  int64_t channels;
  int64_t group;
  std::vector<int64_t> kernel;
  bool bias;
  std::vector<Attribute> attributes;
};

// Names the case in gtest's failure messages instead of dumping bytes.
void PrintTo(const FollowingConvCase& c, std::ostream* os) { *os << c.name; }

class FoldIntoFollowingConvTest
    : public ::testing::TestWithParam<FollowingConvCase> {};

TEST_P(FoldIntoFollowingConvTest, ExactCasesFold) {
  const FollowingConvCase& c = GetParam();
  const auto result = FoldAndVerify(
      BatchNormThenConv(c.channels, c.group, c.kernel, c.bias, c.attributes));
  const BatchNormFoldRecord* record = FindRecord(result.report, "bn");
  ASSERT_NE(record, nullptr);
  EXPECT_EQ(FoldCategory(*record), "forward:Conv");
  EXPECT_EQ(record->backward.reason, FoldReason::kGraphInput);
  const Node* conv = result.folded.graph.Producer("out");
  ASSERT_NE(conv, nullptr);
  EXPECT_EQ(conv->input(0), "x");
  EXPECT_EQ(CountOps(result.folded.graph, "BatchNormalization"), 0u);
}

INSTANTIATE_TEST_SUITE_P(
    Exact, FoldIntoFollowingConvTest,
    ::testing::Values(
        FollowingConvCase{"plain", 4, 1, {3, 3}, true, {}},
        FollowingConvCase{"zero_pads_no_bias",
                          4,
                          1,
                          {3, 2},
                          false,
                          {Attribute::Ints("pads", {0, 0, 0, 0}),
                           Attribute::Ints("strides", {2, 1})}},
        FollowingConvCase{"groups", 4, 2, {3, 3}, true, {}},
        FollowingConvCase{"depthwise_dilated",
                          6,
                          6,
                          {2, 2},
                          true,
                          {Attribute::Ints("dilations", {2, 2})}},
        FollowingConvCase{"valid",
                          4,
                          1,
                          {3, 3},
                          true,
                          {Attribute::String("auto_pad", "VALID")}},
        FollowingConvCase{"same_with_1x1_kernel",
                          4,
                          1,
                          {1, 1},
                          true,
                          {Attribute::String("auto_pad", "SAME_UPPER"),
                           Attribute::Ints("strides", {2, 2})}}),
    [](const auto& info) { return info.param.name; });

TEST(FoldIntoFollowingConvRefusalTest, PaddingIsInexactAndStays) {
  for (const auto& attributes : std::vector<std::vector<Attribute>>{
           {Attribute::Ints("pads", {1, 1, 1, 1})},
           {Attribute::Ints("pads", {0, 0, 1, 0})},
           {Attribute::String("auto_pad", "SAME_UPPER")},
           {Attribute::String("auto_pad", "SAME_LOWER")}}) {
    const auto result =
        FoldAndVerify(BatchNormThenConv(4, 1, {3, 3}, true, attributes));
    const BatchNormFoldRecord* record = FindRecord(result.report, "bn");
    ASSERT_NE(record, nullptr);
    EXPECT_EQ(FoldCategory(*record), "none");
    EXPECT_EQ(record->forward.reason, FoldReason::kForwardInexact);
    EXPECT_EQ(CountOps(result.folded.graph, "BatchNormalization"), 1u);
  }
}

TEST(FoldIntoFollowingConvRefusalTest, BatchNormOutputWithTwoReadersStays) {
  ModelBuilder b(13);
  b.Input("x", {-1, 4, 5, 5});
  b.BatchNorm("bn", "x", "n", 4);
  b.RandomInitializer("w", {4, 4, 1, 1});
  b.AddNode("Conv", {"n", "w"}, {"c"}, "conv");
  b.AddNode("Add", {"c", "n"}, {"out"}, "residual");
  b.Output("out");
  const auto result = FoldAndVerify(b.model());
  EXPECT_EQ(FindRecord(result.report, "bn")->forward.reason,
            FoldReason::kMultipleConsumers);
}

using GemmForwardParam = std::tuple<bool, std::vector<int64_t>>;

class FoldIntoFollowingGemmTest
    : public ::testing::TestWithParam<GemmForwardParam> {};

TEST_P(FoldIntoFollowingGemmTest, FoldsAndMatchesUnfolded) {
  const auto& [trans_b, c_dims] = GetParam();
  constexpr int64_t kM = 3, kK = 5, kN = 4;
  ModelBuilder b(13);
  b.Input("x", {kM, kK});
  b.BatchNorm("bn", "x", "n", kK);
  b.RandomInitializer("B", trans_b ? std::vector<int64_t>{kN, kK}
                                   : std::vector<int64_t>{kK, kN});
  std::vector<std::string> inputs = {"n", "B"};
  // {-1} marks "no C".
  if (c_dims != std::vector<int64_t>{-1}) {
    b.RandomInitializer("C", c_dims);
    inputs.push_back("C");
  }
  b.AddNode("Gemm", inputs, {"out"}, "gemm",
            {Attribute::Float("alpha", 1.25f), Attribute::Float("beta", 0.5f),
             Attribute::Int("transB", trans_b ? 1 : 0)});
  b.Output("out");
  const auto result = FoldAndVerify(b.model());
  EXPECT_EQ(FoldCategory(*FindRecord(result.report, "bn")), "forward:Gemm");
  const Node* gemm = result.folded.graph.Producer("out");
  EXPECT_EQ(gemm->input(0), "x");
  EXPECT_EQ(gemm->GetFloat("beta", 1.0f), 1.0f);
}

INSTANTIATE_TEST_SUITE_P(
    Layouts, FoldIntoFollowingGemmTest,
    ::testing::Combine(::testing::Bool(),
                       ::testing::Values(std::vector<int64_t>{-1},
                                         std::vector<int64_t>{},
                                         std::vector<int64_t>{4},
                                         std::vector<int64_t>{1, 4},
                                         std::vector<int64_t>{3, 4},
                                         std::vector<int64_t>{3, 1})));

TEST(FoldIntoFollowingGemmRefusalTest, TransAStays) {
  ModelBuilder b(13);
  b.Input("x", {5, 3});  // read as A^T: (M=3, K=5); the BN's channels are M
  b.BatchNorm("bn", "x", "n", 3);
  b.RandomInitializer("B", {5, 4});
  b.AddNode("Gemm", {"n", "B"}, {"out"}, "gemm", {Attribute::Int("transA", 1)});
  b.Output("out");
  const auto result = FoldAndVerify(b.model());
  EXPECT_EQ(FindRecord(result.report, "bn")->forward.reason,
            FoldReason::kUnsupportedAttribute);
}

TEST(FoldIntoFollowingMatMulTest, FoldsWithABiasAddAndKeepsTheOutputName) {
  ModelBuilder b(13);
  b.Input("x", {-1, 5});
  b.BatchNorm("bn", "x", "n", 5);
  b.RandomInitializer("w", {5, 3});
  b.AddNode("MatMul", {"n", "w"}, {"out"}, "matmul");
  b.Output("out");
  const auto result = FoldAndVerify(b.model());
  EXPECT_EQ(FoldCategory(*FindRecord(result.report, "bn")), "forward:MatMul");
  const Node* add = result.folded.graph.Producer("out");
  ASSERT_NE(add, nullptr);
  EXPECT_EQ(add->op_type(), "Add");
  EXPECT_EQ(result.folded.graph.Producer(add->input(0))->op_type(), "MatMul");
}

TEST(FoldIntoFollowingMatMulTest, ThreeDimensionalInputStays) {
  ModelBuilder b(13);
  b.Input("x", {-1, 5, 5});
  b.BatchNorm("bn", "x", "n", 5);
  b.RandomInitializer("w", {5, 3});
  b.AddNode("MatMul", {"n", "w"}, {"out"}, "matmul");
  b.Output("out");
  const auto result = FoldAndVerify(b.model());
  EXPECT_EQ(FindRecord(result.report, "bn")->forward.reason,
            FoldReason::kShapeMismatch);
}

TEST(FoldIntoFollowingTest, ReluAfterBatchNormStays) {
  ModelBuilder b(13);
  b.Input("x", {-1, 4, 5, 5});
  b.BatchNorm("bn", "x", "n", 4);
  b.AddNode("Relu", {"n"}, {"r"}, "relu");
  b.RandomInitializer("w", {4, 4, 1, 1});
  b.AddNode("Conv", {"r", "w"}, {"out"}, "conv");
  b.Output("out");
  const auto result = FoldAndVerify(b.model());
  const BatchNormFoldRecord* record = FindRecord(result.report, "bn");
  EXPECT_EQ(record->backward.reason, FoldReason::kGraphInput);
  EXPECT_EQ(record->forward.reason, FoldReason::kActivationBetween);
}

}  // namespace
}  // namespace foldrt::graph
