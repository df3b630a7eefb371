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
  const char* name() const override {
    return "fold_batch_norm_into_conv_transpose";
  }
  const char* op_type() const override { return "ConvTranspose"; }
  FoldDirection direction() const override { return FoldDirection::kBackward; }
  bool Claims(const Node& producer) const override {
    return producer.op_type() == "ConvTranspose";
  }

  FoldDecision Match(const Graph& graph, const FoldableBatchNorm& bn,
                     const Node& node) const override {
    FoldDecision check = CheckFloatConstantInput(graph, node, 1, "weight");
    if (!check.folded()) return check;
    if (node.has_input(2)) {
      check = CheckFloatConstantInput(graph, node, 2, "bias");
      if (!check.folded()) return check;
    }
    const int64_t group = node.GetInt("group", 1);
    const std::vector<int64_t>& dims = graph.GetConstant(node.input(1))->dims();
    if (group < 1 || dims.size() < 3 || dims[0] <= 0 || dims[0] % group != 0 ||
        dims[1] * group != bn.channels) {
      return RefuseInputShape(
          node, 1, "weight",
          "(group=" + std::to_string(group) +
              ") must be (Cin, Cout/group, k...) with Cout = " +
              std::to_string(bn.channels) + " and Cin a multiple of group");
    }
    const int64_t out_channels = dims[1] * group;
    if (node.has_input(2) && graph.GetConstant(node.input(2))->dims() !=
                                 std::vector<int64_t>{out_channels}) {
      return RefuseBiasLength(node, 2, out_channels);
    }
    return FoldDecision::Folded();
  }

  Node* Apply(Graph& graph, const FoldableBatchNorm& bn, Node* node,
              FoldEditCounts* counts) const override {
    const bool has_bias = node->has_input(2);
    const int64_t group = node->GetInt("group", 1);
    const Tensor& weight = *graph.GetConstant(node->input(1));
    const std::vector<int64_t> dims = weight.dims();
    const int64_t in_channels = dims[0];
    const int64_t out_per_group = dims[1];
    const int64_t in_per_group = in_channels / group;
    const int64_t out_channels = out_per_group * group;
    std::vector<float> bias(static_cast<size_t>(out_channels), 0.0f);
    if (has_bias) bias = graph.GetConstant(node->input(2))->ToFloats();

    const std::vector<double>& a = bn.affine.scale;
    const std::vector<double>& b = bn.affine.shift;
    std::vector<float> w = weight.ToFloats();
    const size_t kernel =
        w.size() / static_cast<size_t>(in_channels * out_per_group);
    for (int64_t i = 0; i < in_channels; ++i) {
      const int64_t g = i / in_per_group;
      for (int64_t j = 0; j < out_per_group; ++j) {
        const double scale = a[static_cast<size_t>(g * out_per_group + j)];
        float* block =
            w.data() + static_cast<size_t>(i * out_per_group + j) * kernel;
        for (size_t k = 0; k < kernel; ++k) {
          block[k] = static_cast<float>(scale * static_cast<double>(block[k]));
        }
      }
    }
    std::vector<float> folded_bias(bias.size());
    for (size_t o = 0; o < bias.size(); ++o) {
      folded_bias[o] =
          static_cast<float>(a[o] * static_cast<double>(bias[o]) + b[o]);
    }

    ReplaceConstantInput(graph, node, 1, dims, w, counts);
    if (has_bias) {
      ReplaceConstantInput(graph, node, 2, {out_channels}, folded_bias, counts);
    } else {
      const std::string name = AddFloatInitializer(
          graph, node->input(1) + "_bias", {out_channels}, folded_bias);
      std::vector<std::string> inputs = node->inputs();
      inputs.resize(3);
      inputs[2] = name;
      node->SetInputs(std::move(inputs));
    }
    RemoveBatchNormAfter(graph, bn, node, 0);
    return node;
  }
};

}  // namespace

std::unique_ptr<BatchNormFold> MakeFoldBatchNormIntoConvTranspose() {
  return std::make_unique<FoldBatchNormIntoConvTranspose>();
}

}  // namespace foldrt::graph
