// Pattern (BN into the preceding Gemm):
//   Gemm(A, B[, C]; alpha, beta, transA, transB) -> y -> BatchNormalization ->
//   Y
// with y = alpha * op(A) op(B) + beta * C of shape (M, N), BN channel = column
// n. Since a[n] * y[m, n] + b[n] = alpha * op(A) (op(B) diag(a)) +
// (a[n] * beta * C[m, n] + b[n]), it becomes
//   Gemm(A, B', C'; alpha, beta = 1, transA, transB) -> Y
// where B' scales column n of op(B) by a[n] (row n of B when transB = 1) and
//   C'[.., n] = a[n] * beta * C[.., n] + b[n]
// broadcast to (N) when C is a scalar, (1) or (N), to (R, N) when C is
// (R, 1) or (R, N) (R = 1 or M), and C' = b when C is absent. alpha and
// transA stay as they are: they act on the left of op(B).
//
// Preconditions: y is read by the BN only and is not a graph output, the BN
// passed AnalyzeBatchNorm (both checked by the BN fold pass); B (2-D) and C are
// float32 constants; op(B) has N == the BN's channel count columns; C
// broadcasts to (M, N) in one of the shapes above.
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "graph/passes/fold_passes.h"
#include "graph/passes/fold_refusals.h"

namespace foldrt::graph {
namespace {

class FoldBatchNormIntoGemm final : public BatchNormFold {
 public:
  using BatchNormFold::BatchNormFold;

  FoldDecision MatchOperands(const Graph& graph, const FoldableBatchNorm& bn,
                             const Node& gemm) const override {
    const bool trans_b = gemm.GetInt("transB", 0) != 0;
    if (!GemmWeightLayout(graph.GetConstant(gemm.input(1))->dims(), trans_b)
             .Fits(ChannelSide::kOutput, bn.channels)) {
      return RefuseInputShape(
          gemm, 1, "B",
          "must be 2-D with N=" + std::to_string(bn.channels) +
              " output columns (transB=" + (trans_b ? "1" : "0") + ")");
    }
    return CheckBiasBroadcast(graph, gemm, 2, "C", bn.channels);
  }

  Node* Apply(Graph& graph, const FoldableBatchNorm& bn, Node* gemm,
              FoldEditCounts* counts) const override {
    const std::vector<int64_t>& dims =
        graph.GetConstant(gemm->input(1))->dims();
    const WeightLayout layout =
        GemmWeightLayout(dims, gemm->GetInt("transB", 0) != 0);
    const double beta = gemm->GetFloat("beta", 1.0f);
    // beta now lives in C'.
    if (gemm->HasAttribute("beta")) {
      gemm->SetAttribute(Attribute::Float("beta", 1.0f));
    }
    return FoldIntoWeightAndBias(graph, bn, gemm, layout, beta, counts);
  }
};

}  // namespace

std::unique_ptr<BatchNormFold> MakeFoldBatchNormIntoGemm() {
  return std::make_unique<FoldBatchNormIntoGemm>(
      "fold_batch_norm_into_gemm", "Gemm", FoldDirection::kBackward,
      FoldInputs{"B", "C"});
}

}  // namespace foldrt::graph
