// BN into the FOLLOWING Conv / Gemm / MatMul
// (graph/passes/fold_batch_norm_into_following_conv.cc and
// fold_batch_norm_into_following_gemm.cc): exact folds are checked
// numerically; padded convolutions must be refused.
#include <gtest/gtest.h>

#include <cctype>
#include <ostream>
#include <string>
#include <tuple>
#include <vector>

#include "graph/passes/batch_norm_fold.h"
#include "tests/graph/passes/fold_test_util.h"

namespace foldrt::graph::testing {
namespace {

// x -> BN -> n -> <op>(n, w of `weight` dims) -> out, the op node named
// after its type in lower case ("matmul").
Model BatchNormThen(const std::string& op, const std::vector<int64_t>& x,
                    const std::vector<int64_t>& weight,
                    const std::vector<Attribute>& attributes = {}) {
  ModelBuilder b(13);
  b.Input("x", x);
  b.BatchNorm("bn", "x", "n", x[1]);
  b.RandomInitializer("w", weight);
  std::string name = op;
  for (char& c : name) c = static_cast<char>(std::tolower(c));
  b.AddNode(op, {"n", "w"}, {"out"}, name, attributes);
  b.Output("out");
  return b.model();
}

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

TEST(FoldIntoFollowingMatMulTest, FoldsWithABiasAddAndKeepsTheOutputName) {
  const auto result = FoldAndVerify(BatchNormThen("MatMul", {-1, 5}, {5, 3}));
  EXPECT_EQ(FoldCategory(*FindRecord(result.report, "bn")), "forward:MatMul");
  const Node* add = result.folded.graph.Producer("out");
  ASSERT_NE(add, nullptr);
  EXPECT_EQ(add->op_type(), "Add");
  EXPECT_EQ(result.folded.graph.Producer(add->input(0))->op_type(), "MatMul");
}

// A padded Conv after the BN would see zeros where the folded one assumes
// the BN's shift.
RefusalCase PaddedConv(const std::string& name, const Attribute& padding) {
  return {name,
          [padding] {
            return BatchNormThenConv(4, 1, {3, 3}, true, {padding});
          },
          std::nullopt, FoldReason::kForwardInexact};
}

INSTANTIATE_TEST_SUITE_P(
    IntoFollowing, FoldRefusalTest,
    ::testing::Values(
        PaddedConv("Pads", Attribute::Ints("pads", {1, 1, 1, 1})),
        PaddedConv("OneSidedPad", Attribute::Ints("pads", {0, 0, 1, 0})),
        PaddedConv("SameUpper", Attribute::String("auto_pad", "SAME_UPPER")),
        PaddedConv("SameLower", Attribute::String("auto_pad", "SAME_LOWER")),
        RefusalCase{"BatchNormOutputWithTwoReadersStays",
                    [] {
                      ModelBuilder b(13);
                      b.Input("x", {-1, 4, 5, 5});
                      b.BatchNorm("bn", "x", "n", 4);
                      b.RandomInitializer("w", {4, 4, 1, 1});
                      b.AddNode("Conv", {"n", "w"}, {"c"}, "conv");
                      b.AddNode("Add", {"c", "n"}, {"out"}, "residual");
                      b.Output("out");
                      return b.model();
                    },
                    std::nullopt, FoldReason::kMultipleConsumers},
        // x is read as A^T: (M=3, K=5); the BN's channels are M.
        RefusalCase{"GemmTransAStays",
                    [] {
                      return BatchNormThen("Gemm", {5, 3}, {5, 4},
                                           {Attribute::Int("transA", 1)});
                    },
                    std::nullopt, FoldReason::kUnsupportedAttribute},
        RefusalCase{"MatMulThreeDimensionalInputStays",
                    [] {
                      return BatchNormThen("MatMul", {-1, 5, 5}, {5, 3});
                    },
                    std::nullopt, FoldReason::kShapeMismatch},
        RefusalCase{"ReluAfterBatchNormStays",
                    [] {
                      ModelBuilder b(13);
                      b.Input("x", {-1, 4, 5, 5});
                      b.BatchNorm("bn", "x", "n", 4);
                      b.AddNode("Relu", {"n"}, {"r"}, "relu");
                      b.RandomInitializer("w", {4, 4, 1, 1});
                      b.AddNode("Conv", {"r", "w"}, {"out"}, "conv");
                      b.Output("out");
                      return b.model();
                    },
                    FoldReason::kGraphInput, FoldReason::kActivationBetween}),
    RefusalCaseName);

}  // namespace
}  // namespace foldrt::graph::testing
