// Patterns (BN into the FOLLOWING Gemm or MatMul; always exact):
//   X -> BatchNormalization -> y -> Gemm(y, B[, C]; alpha, beta, transB) -> Z
// becomes
//   X -> Gemm(X, B', C'; alpha, beta = 1, transB) -> Z
// and
//   X -> BatchNormalization -> y -> MatMul(y, W) -> Z
// becomes
//   X -> MatMul(X, W') -> t -> Add(t, c) -> Z
// For X of shape (M, K), the BN is y = X diag(a) + 1 b^T, so for Y = y W:
//   W'[k, :] = a[k] W[k, :]         c = b^T W    (a row of N)
// and for Gemm, with W = op(B):
//   op(B)'[k, :] = a[k] op(B)[k, :]  (column k of B when transB = 1)
//   C'[.., n] = beta * C[.., n] + alpha * sum_k b[k] op(B)[k, n]
// broadcast like the backward Gemm fold (see FoldedBiasShape); C = 0 when
// absent. Sums run in double over the original weights.
//
// Preconditions: y is read by this node only, as its first input, and is
// not a graph output, the BN passed AnalyzeBatchNorm (both checked by the
// driver). Gemm: transA = 0 (with transA = 1 the BN's channel axis would be
// Gemm's M axis: a per-row scale no weight can absorb); B a float32 2-D
// constant whose op(B) has K == the BN's channel count rows; C a float32
// constant broadcasting to (M, N). MatMul: W a float32 2-D constant (K, N)
// with K == channels, and X provably 2-D (for a 3-D X the BN's axis 1 is not
// the contracted axis).
#include <string>
#include <vector>

#include "graph/passes/fold_passes.h"

namespace foldrt::graph {

FoldDecision FoldBatchNormIntoFollowingGemm(Graph& graph,
                                            const FoldableBatchNorm& bn,
                                            Node* gemm, FoldEditCounts* counts,
                                            Node** target) {
  if (gemm->GetInt("transA", 0) != 0) {
    return FoldDecision::Refused(
        FoldReason::kUnsupportedAttribute,
        Describe(*gemm) +
            " has transA=1: the BN's channels would be Gemm's rows (M), a "
            "per-row scale no weight can absorb");
  }
  FoldDecision check = CheckFloatConstantInput(graph, *gemm, 1, "B");
  if (!check.folded()) return check;
  const bool has_c = gemm->has_input(2);
  if (has_c) {
    check = CheckFloatConstantInput(graph, *gemm, 2, "C");
    if (!check.folded()) return check;
  }
  const bool trans_b = gemm->GetInt("transB", 0) != 0;
  const Tensor& b_tensor = *graph.GetConstant(gemm->input(1));
  const std::vector<int64_t> b_dims = b_tensor.dims();
  if (b_dims.size() != 2 || b_dims[trans_b ? 1 : 0] != bn.channels) {
    return FoldDecision::Refused(
        FoldReason::kShapeMismatch,
        "B '" + gemm->input(1) + "' of " + Describe(*gemm) +
            " must be 2-D with K=" + std::to_string(bn.channels) +
            " input rows (transB=" + (trans_b ? "1" : "0") + ")");
  }
  const int64_t inner = bn.channels;
  const int64_t columns = b_dims[trans_b ? 0 : 1];
  std::vector<float> c;
  std::vector<int64_t> c_dims;
  std::vector<int64_t> folded_c_dims = {columns};
  if (has_c) {
    const Tensor& c_tensor = *graph.GetConstant(gemm->input(2));
    c_dims = c_tensor.dims();
    const auto folded = FoldedBiasShape(c_dims, columns);
    if (!folded) {
      return FoldDecision::Refused(
          FoldReason::kShapeMismatch,
          "C '" + gemm->input(2) + "' of " + Describe(*gemm) +
              " does not broadcast to (M, " + std::to_string(columns) + ")");
    }
    folded_c_dims = *folded;
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
  *target = gemm;
  return FoldDecision::Folded();
}

FoldDecision FoldBatchNormIntoFollowingMatMul(Graph& graph,
                                              const FoldableBatchNorm& bn,
                                              Node* matmul,
                                              FoldEditCounts* counts,
                                              Node** target) {
  FoldDecision check = CheckFloatConstantInput(graph, *matmul, 1, "weight");
  if (!check.folded()) return check;
  const Tensor& weight = *graph.GetConstant(matmul->input(1));
  const std::vector<int64_t> dims = weight.dims();
  if (dims.size() != 2 || dims[0] != bn.channels) {
    return FoldDecision::Refused(
        FoldReason::kShapeMismatch,
        "weight '" + matmul->input(1) + "' of " + Describe(*matmul) +
            " must be 2-D (K=" + std::to_string(bn.channels) + ", N)");
  }
  const std::optional<size_t> rank = KnownRank(graph, bn.input);
  if (!rank) {
    return FoldDecision::Refused(
        FoldReason::kUnknownRank,
        "the rank of '" + bn.input +
            "' is unknown; only for a 2-D input is the BN's channel axis "
            "the contracted axis");
  }
  if (*rank != 2) {
    return FoldDecision::Refused(
        FoldReason::kShapeMismatch,
        "'" + bn.input + "' has rank " + std::to_string(*rank) +
            ": the BN normalizes axis 1, not the contracted axis");
  }

  const std::vector<double>& a = bn.affine.scale;
  const std::vector<double>& b = bn.affine.shift;
  const int64_t inner = dims[0];
  const int64_t columns = dims[1];
  std::vector<float> w = weight.ToFloats();
  std::vector<double> bias(static_cast<size_t>(columns), 0.0);
  for (int64_t k = 0; k < inner; ++k) {
    for (int64_t n = 0; n < columns; ++n) {
      float& value = w[static_cast<size_t>(k * columns + n)];
      const double original = value;
      bias[static_cast<size_t>(n)] += b[static_cast<size_t>(k)] * original;
      value = static_cast<float>(a[static_cast<size_t>(k)] * original);
    }
  }

  ReplaceConstantInput(graph, matmul, 1, dims, w, counts);
  const std::string bias_name = AddFloatInitializer(
      graph, matmul->input(1) + "_bias", {columns}, RoundToFloat(bias));
  const std::string input = bn.input;
  graph.RemoveNode(bn.node);
  matmul->SetInput(0, input);
  // The Add takes over the MatMul's output name, which may be a graph
  // output; the product gets a fresh one.
  const std::string output = matmul->output(0);
  const std::string product = graph.UniqueValueName(output + "_unbiased");
  matmul->SetOutput(0, product);
  graph.AddNode(Node(
      "Add", {product, bias_name}, {output},
      graph.UniqueNodeName((matmul->name().empty() ? output : matmul->name()) +
                           "/bn_bias_add")));
  ++counts->nodes_inserted;
  *target = matmul;
  return FoldDecision::Folded();
}

}  // namespace foldrt::graph
