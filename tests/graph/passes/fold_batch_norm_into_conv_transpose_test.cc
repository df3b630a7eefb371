// BN into the preceding ConvTranspose
// (graph/passes/fold_batch_norm_into_conv_transpose.cc). Groups > 1 is the
// case that breaks a fold which scales W's axis 1 by a[j] alone.
#include <gtest/gtest.h>

#include <ostream>
#include <string>
#include <vector>

#include "graph/passes/batch_norm_fold.h"
#include "tests/graph/passes/fold_test_util.h"

namespace foldrt::graph::testing {
namespace {

struct ConvTransposeCase {
  std::string name;
  int64_t in_channels;
  int64_t out_per_group;
  int64_t group;
  int64_t stride;
  bool bias;
};

// Names the case in gtest's failure messages instead of dumping bytes.
void PrintTo(const ConvTransposeCase& c, std::ostream* os) { *os << c.name; }

class FoldIntoConvTransposeTest
    : public ::testing::TestWithParam<ConvTransposeCase> {};

TEST_P(FoldIntoConvTransposeTest, FoldsAndMatchesUnfolded) {
  const ConvTransposeCase& c = GetParam();
  const int64_t out_channels = c.out_per_group * c.group;
  ModelBuilder b(13);
  b.Input("x", {-1, c.in_channels, 4, 5});
  b.RandomInitializer("w", {c.in_channels, c.out_per_group, 3, 3});
  std::vector<std::string> inputs = {"x", "w"};
  if (c.bias) {
    b.RandomInitializer("w.bias", {out_channels});
    inputs.push_back("w.bias");
  }
  b.AddNode("ConvTranspose", inputs, {"t"}, "deconv",
            {Attribute::Int("group", c.group),
             Attribute::Ints("strides", {c.stride, c.stride}),
             Attribute::Ints("pads", {1, 1, 1, 1}),
             Attribute::Ints("output_padding", {c.stride - 1, c.stride - 1})});
  b.BatchNorm("bn", "t", "y", out_channels);
  b.AddNode("Relu", {"y"}, {"out"}, "relu");
  b.Output("out");
  const auto result = FoldAndVerify(b.model());
  const BatchNormFoldRecord* record = FindRecord(result.report, "bn");
  ASSERT_NE(record, nullptr);
  EXPECT_EQ(FoldCategory(*record), "backward:ConvTranspose");
  const Node* deconv = result.folded.graph.Producer("y");
  ASSERT_NE(deconv, nullptr);
  EXPECT_EQ(deconv->op_type(), "ConvTranspose");
  EXPECT_EQ(deconv->num_inputs(), 3u);
}

INSTANTIATE_TEST_SUITE_P(
    Groups, FoldIntoConvTransposeTest,
    ::testing::Values(
        ConvTransposeCase{"group1", 4, 6, 1, 1, true},
        ConvTransposeCase{"group2_stride2", 4, 3, 2, 2, true},
        ConvTransposeCase{"group2_stride2_nobias", 6, 2, 2, 2, false},
        // Cin/group != Cout/group, so rows and columns cannot be confused.
        ConvTransposeCase{"group3_uneven", 9, 2, 3, 2, true},
        ConvTransposeCase{"depthwise", 4, 1, 4, 2, true}),
    [](const auto& info) { return info.param.name; });

TEST(FoldIntoConvTransposeSharingTest, SharedWeightIsCopied) {
  ModelBuilder b(13);
  b.Input("x", {-1, 4, 3, 3});
  b.RandomInitializer("w", {4, 3, 2, 2});
  const std::vector<Attribute> attributes = {
      Attribute::Int("group", 2), Attribute::Ints("strides", {2, 2})};
  b.AddNode("ConvTranspose", {"x", "w"}, {"t1"}, "deconv1", attributes);
  b.AddNode("ConvTranspose", {"x", "w"}, {"t2"}, "deconv2", attributes);
  b.BatchNorm("bn1", "t1", "y1", 6);
  b.BatchNorm("bn2", "t2", "y2", 6);
  b.Output("y1");
  b.Output("y2");
  const auto result = FoldAndVerify(b.model());
  EXPECT_EQ(FoldCategory(*FindRecord(result.report, "bn1")),
            "backward:ConvTranspose");
  EXPECT_EQ(FoldCategory(*FindRecord(result.report, "bn2")),
            "backward:ConvTranspose");
  EXPECT_EQ(result.report.cleanup.weights_copied, 1u);
}

// W (5, 3, ...) with group=2 is not a valid grouping; refuse, never guess.
Model UndividedGroups() {
  ModelBuilder b(13);
  b.Input("x", {-1, 5, 3, 3});
  b.RandomInitializer("w", {5, 3, 2, 2});
  b.AddNode("ConvTranspose", {"x", "w"}, {"t"}, "deconv",
            {Attribute::Int("group", 2)});
  b.BatchNorm("bn", "t", "y", 6);
  b.Output("y");
  return b.model();
}

INSTANTIATE_TEST_SUITE_P(IntoConvTranspose, FoldRefusalTest,
                         ::testing::Values(ShapeMismatchCase(
                             "GroupsThatDoNotDivideStay", UndividedGroups)),
                         RefusalCaseName);

}  // namespace
}  // namespace foldrt::graph::testing
