// Pattern (BN into the preceding Conv):
//   Conv(X, W[, B]) -> y -> BatchNormalization(y, scale, bias, mean, var) -> Y
// becomes
//   Conv(X, W', B') -> Y
// with a, b = ComputeBatchNormAffineF64(...) and, for every output channel o,
//   W'[o, ...] = a[o] * W[o, ...]        B'[o] = a[o] * B[o] + b[o]
// (B = 0 when absent). W is (Cout, Cin/group, k...) for 1-D, 2-D and 3-D
// convolutions and for any group count, depthwise included: output channel
// o is always W's row o, so groups need no special case.
//
// Preconditions: y is read by the BN only and is not a graph output, the BN
// passed AnalyzeBatchNorm (both checked by the BN fold pass); W and B are
// float32 constants; W has rank >= 3 and Cout == the BN's channel count; B is
// 1-D of length Cout. New values are computed in double and rounded to float
// once.
#include <memory>
#include <string>
#include <vector>

#include "graph/passes/fold_passes.h"
#include "graph/passes/fold_refusals.h"

namespace foldrt::graph {
namespace {

class FoldBatchNormIntoConv final : public BatchNormFold {
 public:
  using BatchNormFold::BatchNormFold;

  FoldDecision MatchOperands(const Graph& graph, const FoldableBatchNorm& bn,
                             const Node& conv) const override {
    const std::vector<int64_t>& dims = graph.GetConstant(conv.input(1))->dims();
    // Output channel o is W's row o whatever the group count, so the group
    // needs no check here.
    const WeightLayout layout = ConvWeightLayout(dims, conv.GetInt("group", 1));
    if (!layout.Fits(ChannelSide::kOutput, bn.channels)) {
      return RefuseInputShape(conv, 1, "weight",
                              "must be (Cout=" + std::to_string(bn.channels) +
                                  ", Cin/group, k...) to take the BN's "
                                  "channels");
    }
    return CheckBiasLength(graph, conv, dims[0]);
  }

  Node* Apply(Graph& graph, const FoldableBatchNorm& bn, Node* conv,
              FoldEditCounts* counts) const override {
    const std::vector<int64_t>& dims =
        graph.GetConstant(conv->input(1))->dims();
    return FoldIntoWeightAndBias(
        graph, bn, conv, ConvWeightLayout(dims, conv->GetInt("group", 1)),
        /*bias_scale=*/1.0, counts);
  }
};

}  // namespace

std::unique_ptr<BatchNormFold> MakeFoldBatchNormIntoConv() {
  return std::make_unique<FoldBatchNormIntoConv>(
      "fold_batch_norm_into_conv", "Conv", FoldDirection::kBackward,
      FoldInputs{"weight", "bias"});
}

}  // namespace foldrt::graph
