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
  const char* name() const override { return "fold_batch_norm_into_conv"; }
  const char* op_type() const override { return "Conv"; }
  FoldDirection direction() const override { return FoldDirection::kBackward; }
  bool Claims(const Node& producer) const override {
    return producer.op_type() == "Conv";
  }

  FoldDecision Match(const Graph& graph, const FoldableBatchNorm& bn,
                     const Node& conv) const override {
    FoldDecision check = CheckFloatConstantInput(graph, conv, 1, "weight");
    if (!check.folded()) return check;
    if (conv.has_input(2)) {
      check = CheckFloatConstantInput(graph, conv, 2, "bias");
      if (!check.folded()) return check;
    }
    const std::vector<int64_t>& dims = graph.GetConstant(conv.input(1))->dims();
    if (dims.size() < 3 || dims[0] != bn.channels) {
      return RefuseInputShape(conv, 1, "weight",
                              "must be (Cout=" + std::to_string(bn.channels) +
                                  ", Cin/group, k...) to take the BN's "
                                  "channels");
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
    const Tensor& weight = *graph.GetConstant(conv->input(1));
    const std::vector<int64_t> dims = weight.dims();
    const int64_t out_channels = dims[0];
    std::vector<float> bias(static_cast<size_t>(out_channels), 0.0f);
    if (has_bias) bias = graph.GetConstant(conv->input(2))->ToFloats();

    const std::vector<double>& a = bn.affine.scale;
    const std::vector<double>& b = bn.affine.shift;
    std::vector<float> w = weight.ToFloats();
    const size_t per_channel = w.size() / static_cast<size_t>(out_channels);
    for (size_t o = 0; o < static_cast<size_t>(out_channels); ++o) {
      float* row = w.data() + o * per_channel;
      for (size_t k = 0; k < per_channel; ++k) {
        row[k] = static_cast<float>(a[o] * static_cast<double>(row[k]));
      }
    }
    std::vector<float> folded_bias(bias.size());
    for (size_t o = 0; o < bias.size(); ++o) {
      folded_bias[o] =
          static_cast<float>(a[o] * static_cast<double>(bias[o]) + b[o]);
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
    RemoveBatchNormAfter(graph, bn, conv, 0);
    return conv;
  }
};

}  // namespace

std::unique_ptr<BatchNormFold> MakeFoldBatchNormIntoConv() {
  return std::make_unique<FoldBatchNormIntoConv>();
}

}  // namespace foldrt::graph
