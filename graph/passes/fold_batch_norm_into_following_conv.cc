// Pattern (BN into the FOLLOWING Conv, when that is exact):
//   X -> BatchNormalization(X, ...) -> y -> Conv(y, W[, B]) -> Z
// becomes
//   X -> Conv(X, W', B') -> Z
// W is (Cout, Cin/group, k...); output channel o belongs to group
// g = o / (Cout/group) and reads input channels c = g * (Cin/group) + i, so
//   W'[o, i, ...] = W[o, i, ...] * a[c]
//   B'[o] = B[o] + sum over i, k of W[o, i, k] * b[c]     (B = 0 if absent)
// with the sum accumulated in double over the original weights.
//
// This is exact only when every output sees real input pixels alone: zero
// padding is added after the BN, so a padded border would see 0 where the
// folded Conv assumes b. Hence: pads all 0 with auto_pad NOTSET, or
// auto_pad VALID, or SAME_* with a kernel of extent 1 in every dimension
// (which pads nothing). Anything else is refused as inexact, never folded.
//
// Preconditions: y is read by this Conv only, as its data input, and is not
// a graph output, the BN passed AnalyzeBatchNorm (both checked by the BN
// fold pass); W and B are float32 constants; W has rank >= 3, Cout is a
// multiple of group and (Cin/group) * group == the BN's channel count.
#include <memory>
#include <string>
#include <vector>

#include "graph/passes/fold_passes.h"
#include "graph/passes/fold_refusals.h"

namespace foldrt::graph {
namespace {

std::string IntsText(const std::vector<int64_t>& values) {
  std::string text = "[";
  for (size_t i = 0; i < values.size(); ++i) {
    text += (i ? ", " : "") + std::to_string(values[i]);
  }
  return text + "]";
}

class FoldBatchNormIntoFollowingConv final : public BatchNormFold {
 public:
  using BatchNormFold::BatchNormFold;

  FoldDecision MatchOperands(const Graph& graph, const FoldableBatchNorm& bn,
                             const Node& conv) const override {
    const int64_t group = conv.GetInt("group", 1);
    const std::vector<int64_t>& dims = graph.GetConstant(conv.input(1))->dims();
    if (!ConvWeightLayout(dims, group).Fits(ChannelSide::kInput, bn.channels)) {
      return RefuseInputShape(conv, 1, "weight",
                              "(group=" + std::to_string(group) +
                                  ") must be (Cout, Cin/group, k...) with "
                                  "Cin = " +
                                  std::to_string(bn.channels));
    }

    const std::string auto_pad = conv.GetString("auto_pad", "NOTSET");
    if (auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER") {
      for (size_t d = 2; d < dims.size(); ++d) {
        if (dims[d] != 1) {
          return RefusePaddingAfterBatchNorm(conv, "auto_pad=" + auto_pad);
        }
      }
    } else if (auto_pad == "NOTSET") {
      const std::vector<int64_t> pads = conv.GetInts("pads");
      for (int64_t pad : pads) {
        if (pad != 0) {
          return RefusePaddingAfterBatchNorm(conv, "pads " + IntsText(pads));
        }
      }
    } else if (auto_pad != "VALID") {
      return FoldDecision::Refused(
          FoldReason::kUnsupportedAttribute,
          Describe(conv) + " has unknown auto_pad '" + auto_pad + "'");
    }

    return CheckBiasLength(graph, conv, dims[0]);
  }

  Node* Apply(Graph& graph, const FoldableBatchNorm& bn, Node* conv,
              FoldEditCounts* counts) const override {
    const Tensor& weight = *graph.GetConstant(conv->input(1));
    const WeightLayout layout =
        ConvWeightLayout(weight.dims(), conv->GetInt("group", 1));
    // B'[o] starts from B[o] (0 when absent) and takes W b on top.
    std::vector<double> bias(
        static_cast<size_t>(layout.Channels(ChannelSide::kOutput)), 0.0);
    if (conv->has_input(2)) {
      const std::vector<float> values =
          graph.GetConstant(conv->input(2))->ToFloats();
      bias.assign(values.begin(), values.end());
    }
    std::vector<float> w = weight.ToFloats();
    bias = FoldIntoInputChannels(layout, bn.affine, std::move(bias), &w);

    ReplaceConstantInput(graph, conv, 1, weight.dims(), w, counts);
    SetBiasInput(graph, conv, {layout.Channels(ChannelSide::kOutput)},
                 RoundToFloat(bias), counts);
    RemoveBatchNormBefore(graph, bn, conv);
    return conv;
  }
};

}  // namespace

std::unique_ptr<BatchNormFold> MakeFoldBatchNormIntoFollowingConv() {
  return std::make_unique<FoldBatchNormIntoFollowingConv>(
      "fold_batch_norm_into_following_conv", "Conv", FoldDirection::kForward,
      FoldInputs{"weight", "bias"});
}

}  // namespace foldrt::graph
