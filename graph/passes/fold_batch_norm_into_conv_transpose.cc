// Pattern (BN into the preceding ConvTranspose):
//   ConvTranspose(X, W[, B]) -> y -> BatchNormalization(y, ...) -> Y
// becomes
//   ConvTranspose(X, W', B') -> Y
// W is (Cin, Cout/group, k...): the output channels are on axis 1, and with
// groups > 1 each group's rows see only their own slice of them. Row i
// belongs to group g = i / (Cin/group), and its column j is output channel
//   o = g * (Cout/group) + j,
// so W'[i, j, ...] = a[o] * W[i, j, ...] and B'[o] = a[o] * B[o] + b[o]
// (B = 0 when absent). Scaling axis 1 by a[j] alone is right only for
// group = 1, the classic bug this pass exists to avoid.
//
// Preconditions: y is read by the BN only and is not a graph output, the BN
// passed AnalyzeBatchNorm (both checked by the BN fold pass); W and B are
// float32 constants; W has rank >= 3, Cin is a multiple of group and
// (Cout/group) * group == the BN's channel count; B is 1-D of length Cout.
#include <memory>
#include <string>
#include <vector>

#include "graph/passes/fold_passes.h"
#include "graph/passes/fold_refusals.h"

namespace foldrt::graph {
namespace {

class FoldBatchNormIntoConvTranspose final : public BatchNormFold {
 public:
  using BatchNormFold::BatchNormFold;

  FoldDecision MatchOperands(const Graph& graph, const FoldableBatchNorm& bn,
                             const Node& node) const override {
    const int64_t group = node.GetInt("group", 1);
    const WeightLayout layout = ConvTransposeWeightLayout(
        graph.GetConstant(node.input(1))->dims(), group);
    if (!layout.Fits(ChannelSide::kOutput, bn.channels)) {
      return RefuseInputShape(
          node, 1, "weight",
          "(group=" + std::to_string(group) +
              ") must be (Cin, Cout/group, k...) with Cout = " +
              std::to_string(bn.channels) + " and Cin a multiple of group");
    }
    return CheckBiasLength(graph, node, layout.Channels(ChannelSide::kOutput));
  }

  Node* Apply(Graph& graph, const FoldableBatchNorm& bn, Node* node,
              FoldEditCounts* counts) const override {
    const std::vector<int64_t>& dims =
        graph.GetConstant(node->input(1))->dims();
    return FoldIntoWeightAndBias(
        graph, bn, node,
        ConvTransposeWeightLayout(dims, node->GetInt("group", 1)),
        /*bias_scale=*/1.0, counts);
  }
};

}  // namespace

std::unique_ptr<BatchNormFold> MakeFoldBatchNormIntoConvTranspose() {
  return std::make_unique<FoldBatchNormIntoConvTranspose>(
      "fold_batch_norm_into_conv_transpose", "ConvTranspose",
      FoldDirection::kBackward, FoldInputs{"weight", "bias"});
}

}  // namespace foldrt::graph
