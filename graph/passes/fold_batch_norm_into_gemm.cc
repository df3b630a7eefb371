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
  const char* name() const override { return "fold_batch_norm_into_gemm"; }
  const char* op_type() const override { return "Gemm"; }
  FoldDirection direction() const override { return FoldDirection::kBackward; }
  bool Claims(const Node& producer) const override {
    return producer.op_type() == "Gemm";
  }

  FoldDecision Match(const Graph& graph, const FoldableBatchNorm& bn,
                     const Node& gemm) const override {
    FoldDecision check = CheckFloatConstantInput(graph, gemm, 1, "B");
    if (!check.folded()) return check;
    if (gemm.has_input(2)) {
      check = CheckFloatConstantInput(graph, gemm, 2, "C");
      if (!check.folded()) return check;
    }
    const bool trans_b = gemm.GetInt("transB", 0) != 0;
    const std::vector<int64_t>& b_dims =
        graph.GetConstant(gemm.input(1))->dims();
    if (b_dims.size() != 2 || b_dims[trans_b ? 0 : 1] != bn.channels) {
      return RefuseInputShape(
          gemm, 1, "B",
          "must be 2-D with N=" + std::to_string(bn.channels) +
              " output columns (transB=" + (trans_b ? "1" : "0") + ")");
    }
    if (gemm.has_input(2) &&
        !FoldedBiasShape(graph.GetConstant(gemm.input(2))->dims(),
                         bn.channels)) {
      return RefuseBiasBroadcast(gemm, 2, "C", bn.channels);
    }
    return FoldDecision::Folded();
  }

  Node* Apply(Graph& graph, const FoldableBatchNorm& bn, Node* gemm,
              FoldEditCounts* counts) const override {
    const bool has_c = gemm->has_input(2);
    const bool trans_b = gemm->GetInt("transB", 0) != 0;
    const Tensor& b_tensor = *graph.GetConstant(gemm->input(1));
    const std::vector<int64_t> b_dims = b_tensor.dims();
    const int64_t columns = bn.channels;
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
    const double beta = gemm->GetFloat("beta", 1.0f);
    std::vector<float> weight = b_tensor.ToFloats();
    const int64_t rows = b_dims[0];
    const int64_t cols = b_dims[1];
    for (int64_t r = 0; r < rows; ++r) {
      for (int64_t k = 0; k < cols; ++k) {
        const double scale = a[static_cast<size_t>(trans_b ? r : k)];
        float& value = weight[static_cast<size_t>(r * cols + k)];
        value = static_cast<float>(scale * static_cast<double>(value));
      }
    }
    std::vector<double> c_scale(a.size());
    for (size_t n = 0; n < a.size(); ++n) c_scale[n] = a[n] * beta;
    const std::vector<float> folded_c = RoundToFloat(
        FoldBiasColumns(c, c_dims, folded_c_dims, c_scale, bn.affine.shift));

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
    // beta now lives in C'.
    if (gemm->HasAttribute("beta")) {
      gemm->SetAttribute(Attribute::Float("beta", 1.0f));
    }
    RemoveBatchNormAfter(graph, bn, gemm, 0);
    return gemm;
  }
};

}  // namespace

std::unique_ptr<BatchNormFold> MakeFoldBatchNormIntoGemm() {
  return std::make_unique<FoldBatchNormIntoGemm>();
}

}  // namespace foldrt::graph
