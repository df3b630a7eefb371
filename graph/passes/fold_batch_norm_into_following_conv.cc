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
  const char* name() const override {
    return "fold_batch_norm_into_following_conv";
  }
  const char* op_type() const override { return "Conv"; }
  FoldDirection direction() const override { return FoldDirection::kForward; }
  bool Claims(const Node& consumer) const override {
    return consumer.op_type() == "Conv";
  }

  FoldDecision Match(const Graph& graph, const FoldableBatchNorm& bn,
                     const Node& conv) const override {
    FoldDecision check = CheckFloatConstantInput(graph, conv, 1, "weight");
    if (!check.folded()) return check;
    if (conv.has_input(2)) {
      check = CheckFloatConstantInput(graph, conv, 2, "bias");
      if (!check.folded()) return check;
    }
    const int64_t group = conv.GetInt("group", 1);
    const std::vector<int64_t>& dims = graph.GetConstant(conv.input(1))->dims();
    if (group < 1 || dims.size() < 3 || dims[0] <= 0 || dims[0] % group != 0 ||
        dims[1] * group != bn.channels) {
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

    if (conv.has_input(2) && graph.GetConstant(conv.input(2))->dims() !=
                                 std::vector<int64_t>{dims[0]}) {
      return RefuseBiasLength(conv, 2, dims[0]);
    }
    return FoldDecision::Folded();
  }

  Node* Apply(Graph& graph, const FoldableBatchNorm& bn, Node* conv,
              FoldEditCounts* counts) const override {
    const bool has_bias = conv->has_input(2);
    const int64_t group = conv->GetInt("group", 1);
    const Tensor& weight = *graph.GetConstant(conv->input(1));
    const std::vector<int64_t> dims = weight.dims();
    const int64_t out_channels = dims[0];
    std::vector<float> bias(static_cast<size_t>(out_channels), 0.0f);
    if (has_bias) bias = graph.GetConstant(conv->input(2))->ToFloats();

    const std::vector<double>& a = bn.affine.scale;
    const std::vector<double>& b = bn.affine.shift;
    const int64_t in_per_group = dims[1];
    const int64_t out_per_group = out_channels / group;
    std::vector<float> w = weight.ToFloats();
    const size_t kernel =
        w.size() / static_cast<size_t>(out_channels * in_per_group);
    std::vector<float> folded_bias(bias.size());
    for (int64_t o = 0; o < out_channels; ++o) {
      const int64_t first_channel = (o / out_per_group) * in_per_group;
      double sum = bias[static_cast<size_t>(o)];
      for (int64_t i = 0; i < in_per_group; ++i) {
        const size_t c = static_cast<size_t>(first_channel + i);
        float* block =
            w.data() + static_cast<size_t>(o * in_per_group + i) * kernel;
        for (size_t k = 0; k < kernel; ++k) {
          const double original = block[k];
          sum += original * b[c];
          block[k] = static_cast<float>(original * a[c]);
        }
      }
      folded_bias[static_cast<size_t>(o)] = static_cast<float>(sum);
    }

    ReplaceConstantInput(graph, conv, 1, dims, w, counts);
    if (has_bias) {
      ReplaceConstantInput(graph, conv, 2, {out_channels}, folded_bias, counts);
    } else {
      const std::string name = AddFloatInitializer(
          graph, conv->input(1) + "_bias", {out_channels}, folded_bias);
      std::vector<std::string> inputs = conv->inputs();
      inputs.resize(3);
      inputs[2] = name;
      conv->SetInputs(std::move(inputs));
    }
    const std::string input = bn.input;
    graph.RemoveNode(bn.node);
    conv->SetInput(0, input);
    return conv;
  }
};

}  // namespace

std::unique_ptr<BatchNormFold> MakeFoldBatchNormIntoFollowingConv() {
  return std::make_unique<FoldBatchNormIntoFollowingConv>();
}

}  // namespace foldrt::graph
