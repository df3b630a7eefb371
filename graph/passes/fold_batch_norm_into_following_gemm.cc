// Pattern (BN into the FOLLOWING Gemm; always exact):
//   X -> BatchNormalization -> y -> Gemm(y, B[, C]; alpha, beta, transB) -> Z
// becomes
//   X -> Gemm(X, B', C'; alpha, beta = 1, transB) -> Z
// For X of shape (M, K), the BN is y = X diag(a) + 1 b^T, so for
// Y = y op(B):
//   op(B)'[k, :] = a[k] op(B)[k, :]  (column k of B when transB = 1)
//   C'[.., n] = beta * C[.., n] + alpha * sum_k b[k] op(B)[k, n]
// broadcast like the backward Gemm fold (see FoldedBiasShape); C = 0 when
// absent. Sums run in double over the original weights. The MatMul
// counterpart is fold_batch_norm_into_following_matmul.cc.
//
// Preconditions: y is read by this node only, as its first input, and is
// not a graph output, the BN passed AnalyzeBatchNorm (both checked by the BN
// fold pass); transA = 0 (with transA = 1 the BN's channel axis would be
// Gemm's M axis: a per-row scale no weight can absorb); B a float32 2-D
// constant whose op(B) has K == the BN's channel count rows; C a float32
// constant broadcasting to (M, N).
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "graph/passes/fold_passes.h"
#include "graph/passes/fold_refusals.h"

namespace foldrt::graph {
namespace {

class FoldBatchNormIntoFollowingGemm final : public BatchNormFold {
 public:
  using BatchNormFold::BatchNormFold;

  FoldDecision CheckAttributes(const Node& gemm) const override {
    if (gemm.GetInt("transA", 0) != 0) {
      return FoldDecision::Refused(
          FoldReason::kUnsupportedAttribute,
          Describe(gemm) +
              " has transA=1: the BN's channels would be Gemm's rows (M), a "
              "per-row scale no weight can absorb");
    }
    return FoldDecision::Folded();
  }

  FoldDecision MatchOperands(const Graph& graph, const FoldableBatchNorm& bn,
                             const Node& gemm) const override {
    const bool trans_b = gemm.GetInt("transB", 0) != 0;
    const WeightLayout layout =
        GemmWeightLayout(graph.GetConstant(gemm.input(1))->dims(), trans_b);
    if (!layout.Fits(ChannelSide::kInput, bn.channels)) {
      return RefuseInputShape(
          gemm, 1, "B",
          "must be 2-D with K=" + std::to_string(bn.channels) +
              " input rows (transB=" + (trans_b ? "1" : "0") + ")");
    }
    return CheckBiasBroadcast(graph, gemm, 2, "C",
                              layout.Channels(ChannelSide::kOutput));
  }

  Node* Apply(Graph& graph, const FoldableBatchNorm& bn, Node* gemm,
              FoldEditCounts* counts) const override {
    const Tensor& b_tensor = *graph.GetConstant(gemm->input(1));
    const WeightLayout layout =
        GemmWeightLayout(b_tensor.dims(), gemm->GetInt("transB", 0) != 0);
    const int64_t columns = layout.Channels(ChannelSide::kOutput);
    std::vector<float> c;
    std::vector<int64_t> c_dims;
    std::vector<int64_t> folded_c_dims = {columns};
    if (gemm->has_input(2)) {
      const Tensor& c_tensor = *graph.GetConstant(gemm->input(2));
      c_dims = c_tensor.dims();
      folded_c_dims = *FoldedBiasShape(c_dims, columns);
      c = c_tensor.ToFloats();
    }

    std::vector<float> weight = b_tensor.ToFloats();
    std::vector<double> shift = FoldIntoInputChannels(
        layout, bn.affine, std::vector<double>(static_cast<size_t>(columns)),
        &weight);
    const double alpha = gemm->GetFloat("alpha", 1.0f);
    for (double& value : shift) value *= alpha;
    const std::vector<double> c_scale(static_cast<size_t>(columns),
                                      gemm->GetFloat("beta", 1.0f));
    const std::vector<float> folded_c =
        RoundToFloat(FoldBiasColumns(c, c_dims, folded_c_dims, c_scale, shift));

    ReplaceConstantInput(graph, gemm, 1, b_tensor.dims(), weight, counts);
    SetBiasInput(graph, gemm, folded_c_dims, folded_c, counts);
    if (gemm->HasAttribute("beta")) {
      gemm->SetAttribute(Attribute::Float("beta", 1.0f));
    }
    RemoveBatchNormBefore(graph, bn, gemm);
    return gemm;
  }
};

}  // namespace

std::unique_ptr<BatchNormFold> MakeFoldBatchNormIntoFollowingGemm() {
  return std::make_unique<FoldBatchNormIntoFollowingGemm>(
      "fold_batch_norm_into_following_gemm", "Gemm", FoldDirection::kForward,
      FoldInputs{"B", "C"});
}

}  // namespace foldrt::graph
