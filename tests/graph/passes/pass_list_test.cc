// The pass list (graph/passes/pass_list.cc): the order the graph passes and
// the BN folds run in, and that every entry has a distinct name.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

#include "graph/passes/fold_passes.h"
#include "graph/passes/graph_pass.h"

namespace foldrt::graph {
namespace {

using ::testing::ElementsAre;

TEST(PassListTest, GraphPassesRunInListOrder) {
  std::vector<std::string> names;
  for (const auto& pass : MakeGraphPasses()) names.push_back(pass->name());
  EXPECT_THAT(
      names, ElementsAre("fold_constant_transposes", "fold_batch_normalization",
                         "remove_orphaned_constants"));
}

TEST(PassListTest, BackwardFoldsComeBeforeForwardOnes) {
  std::vector<std::string> names;
  std::set<std::string> distinct;
  bool seen_forward = false;
  for (const auto& fold : MakeBatchNormFolds()) {
    names.push_back(fold->name());
    distinct.insert(fold->name());
    if (fold->direction() == FoldDirection::kForward) seen_forward = true;
    if (seen_forward) {
      EXPECT_EQ(fold->direction(), FoldDirection::kForward) << fold->name();
    }
  }
  EXPECT_EQ(distinct.size(), names.size());
  EXPECT_THAT(names, ElementsAre("fold_batch_norm_into_conv",
                                 "fold_batch_norm_into_conv_transpose",
                                 "fold_batch_norm_into_gemm",
                                 "fold_batch_norm_into_matmul",
                                 "fold_batch_norm_into_following_conv",
                                 "fold_batch_norm_into_following_gemm",
                                 "fold_batch_norm_into_following_matmul"));
}

}  // namespace
}  // namespace foldrt::graph
