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
  const char* name() const override {
    return "fold_batch_norm_into_following_gemm";
  }
  const char* op_type() const override { return "Gemm"; }
  FoldDirection direction() const override { return FoldDirection::kForward; }
  bool Claims(const Node& consumer) const override {
    return consumer.op_type() == "Gemm";
  }

  FoldDecision Match(const Graph& graph, const FoldableBatchNorm& bn,
                     const Node& gemm) const override {
    if (gemm.GetInt("transA", 0) != 0) {
      return FoldDecision::Refused(
          FoldReason::kUnsupportedAttribute,
          Describe(gemm) +
              " has transA=1: the BN's channels would be Gemm's rows (M), a "
              "per-row scale no weight can absorb");
    }
    FoldDecision check = CheckFloatConstantInput(graph, gemm, 1, "B");
    if (!check.folded()) return check;
    if (gemm.has_input(2)) {
      check = CheckFloatConstantInput(graph, gemm, 2, "C");
      if (!check.folded()) return check;
    }
    const bool trans_b = gemm.GetInt("transB", 0) != 0;
    const std::vector<int64_t>& b_dims =
        graph.GetConstant(gemm.input(1))->dims();
    if (b_dims.size() != 2 || b_dims[trans_b ? 1 : 0] != bn.channels) {
      return RefuseInputShape(
          gemm, 1, "B",
          "must be 2-D with K=" + std::to_string(bn.channels) +
              " input rows (transB=" + (trans_b ? "1" : "0") + ")");
    }
    const int64_t columns = b_dims[trans_b ? 0 : 1];
    if (gemm.has_input(2) &&
        !FoldedBiasShape(graph.GetConstant(gemm.input(2))->dims(), columns)) {
      return RefuseBiasBroadcast(gemm, 2, "C", columns);
    }
    return FoldDecision::Folded();
  }

  Node* Apply(Graph& graph, const FoldableBatchNorm& bn, Node* gemm,
              FoldEditCounts* counts) const override {
    const bool has_c = gemm->has_input(2);
    const bool trans_b = gemm->GetInt("transB", 0) != 0;
    const Tensor& b_tensor = *graph.GetConstant(gemm->input(1));
    const std::vector<int64_t> b_dims = b_tensor.dims();
    const int64_t inner = bn.channels;
    const int64_t columns = b_dims[trans_b ? 0 : 1];
    std::vector<float> c;
    std::vector<int64_t> c_dims;
    std::vector<int64_t> folded_c_dims = {columns};
    if (has_c) {
      const Tensor& c_tensor = *graph.GetConstant(gemm->input(2));
      c_dims = c_tensor.dims();
      folded_c_dims = *FoldedBiasShape(c_dims, columns);
      c = c_tensor.ToFloats();
    }

    const std::vector<double>& a = bn.affine.scale;
    const std::vector<double>& b = bn.affine.shift;
    const double alpha = gemm->GetFloat("alpha", 1.0f);
    const double beta = gemm->GetFloat("beta", 1.0f);
    std::vector<float> weight = b_tensor.ToFloats();
    std::vector<double> shift(static_cast<size_t>(columns), 0.0);
    for (int64_t k = 0; k < inner; ++k) {
      for (int64_t n = 0; n < columns; ++n) {
        float& value = weight[static_cast<size_t>(trans_b ? n * inner + k
                                                          : k * columns + n)];
        const double original = value;
        shift[static_cast<size_t>(n)] += b[static_cast<size_t>(k)] * original;
        value = static_cast<float>(a[static_cast<size_t>(k)] * original);
      }
    }
    for (double& value : shift) value *= alpha;
    const std::vector<double> c_scale(static_cast<size_t>(columns), beta);
    const std::vector<float> folded_c =
        RoundToFloat(FoldBiasColumns(c, c_dims, folded_c_dims, c_scale, shift));

    ReplaceConstantInput(graph, gemm, 1, b_dims, weight, counts);
    if (has_c) {
      ReplaceConstantInput(graph, gemm, 2, folded_c_dims, folded_c, counts);
    } else {
      const std::string name = AddFloatInitializer(
          graph, gemm->input(1) + "_bias", folded_c_dims, folded_c);
      std::vector<std::string> inputs = gemm->inputs();
      inputs.resize(3);
      inputs[2] = name;
      gemm->SetInputs(std::move(inputs));
    }
    if (gemm->HasAttribute("beta")) {
      gemm->SetAttribute(Attribute::Float("beta", 1.0f));
    }
    const std::string input = bn.input;
    graph.RemoveNode(bn.node);
    gemm->SetInput(0, input);
    return gemm;
  }
};

}  // namespace

std::unique_ptr<BatchNormFold> MakeFoldBatchNormIntoFollowingGemm() {
  return std::make_unique<FoldBatchNormIntoFollowingGemm>();
}

}  // namespace foldrt::graph
