// Pattern (BN into the FOLLOWING MatMul; always exact):
//   X -> BatchNormalization -> y -> MatMul(y, W) -> Z
// becomes
//   X -> MatMul(X, W') -> t -> Add(t, c) -> Z       (a bias Add is inserted)
// For X of shape (M, K), the BN is y = X diag(a) + 1 b^T, so for Y = y W:
//   W'[k, :] = a[k] W[k, :]         c = b^T W    (a row of N)
// with the sum run in double over the original weights. The Gemm
// counterpart is fold_batch_norm_into_following_gemm.cc.
//
// Preconditions: y is read by this node only, as its first input, and is
// not a graph output, the BN passed AnalyzeBatchNorm (both checked by the BN
// fold pass); W a float32 2-D constant (K, N) with K == channels, and X
// provably 2-D (for a 3-D X the BN's axis 1 is not the contracted axis).
#include <memory>
#include <string>
#include <vector>

#include "graph/passes/fold_passes.h"
#include "graph/passes/fold_refusals.h"

namespace foldrt::graph {
namespace {

class FoldBatchNormIntoFollowingMatMul final : public BatchNormFold {
 public:
  using BatchNormFold::BatchNormFold;

  FoldDecision MatchOperands(const Graph& graph, const FoldableBatchNorm& bn,
                             const Node& matmul) const override {
    if (!MatMulWeightLayout(graph.GetConstant(matmul.input(1))->dims())
             .Fits(ChannelSide::kInput, bn.channels)) {
      return RefuseInputShape(
          matmul, 1, "weight",
          "must be 2-D (K=" + std::to_string(bn.channels) + ", N)");
    }
    return CheckTwoDimensional(graph, bn.input, "input", "the contracted axis",
                               "the contracted axis");
  }

  Node* Apply(Graph& graph, const FoldableBatchNorm& bn, Node* matmul,
              FoldEditCounts* counts) const override {
    const Tensor& weight = *graph.GetConstant(matmul->input(1));
    const WeightLayout layout = MatMulWeightLayout(weight.dims());
    const int64_t columns = layout.Channels(ChannelSide::kOutput);
    std::vector<float> w = weight.ToFloats();
    const std::vector<double> bias = FoldIntoInputChannels(
        layout, bn.affine, std::vector<double>(static_cast<size_t>(columns)),
        &w);

    ReplaceConstantInput(graph, matmul, 1, weight.dims(), w, counts);
    const std::string bias_name = AddFloatInitializer(
        graph, matmul->input(1) + "_bias", {columns}, RoundToFloat(bias));
    RemoveBatchNormBefore(graph, bn, matmul);
    // The Add takes over the MatMul's output name, which may be a graph
    // output; the product gets a fresh one.
    const std::string output = matmul->output(0);
    const std::string product = graph.UniqueValueName(output + "_unbiased");
    matmul->SetOutput(0, product);
    graph.AddNode(Node("Add", {product, bias_name}, {output},
                       BiasAddName(graph, *matmul, output)));
    ++counts->nodes_inserted;
    return matmul;
  }
};

}  // namespace

std::unique_ptr<BatchNormFold> MakeFoldBatchNormIntoFollowingMatMul() {
  return std::make_unique<FoldBatchNormIntoFollowingMatMul>(
      "fold_batch_norm_into_following_matmul", "MatMul",
      FoldDirection::kForward, FoldInputs{"weight"});
}

}  // namespace foldrt::graph
