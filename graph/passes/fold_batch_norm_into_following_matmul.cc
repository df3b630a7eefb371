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
  const char* name() const override {
    return "fold_batch_norm_into_following_matmul";
  }
  const char* op_type() const override { return "MatMul"; }
  FoldDirection direction() const override { return FoldDirection::kForward; }
  bool Claims(const Node& consumer) const override {
    return consumer.op_type() == "MatMul";
  }

  FoldDecision Match(const Graph& graph, const FoldableBatchNorm& bn,
                     const Node& matmul) const override {
    FoldDecision check = CheckFloatConstantInput(graph, matmul, 1, "weight");
    if (!check.folded()) return check;
    const std::vector<int64_t>& dims =
        graph.GetConstant(matmul.input(1))->dims();
    if (dims.size() != 2 || dims[0] != bn.channels) {
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
    const std::vector<int64_t> dims = weight.dims();
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
    graph.AddNode(Node("Add", {product, bias_name}, {output},
                       graph.UniqueNodeName(
                           (matmul->name().empty() ? output : matmul->name()) +
                           "/bn_bias_add")));
    ++counts->nodes_inserted;
    return matmul;
  }
};

}  // namespace

std::unique_ptr<BatchNormFold> MakeFoldBatchNormIntoFollowingMatMul() {
  return std::make_unique<FoldBatchNormIntoFollowingMatMul>();
}

}  // namespace foldrt::graph
