// Pattern (BN into the preceding MatMul with a constant 2-D weight):
//   MatMul(X, W) -> y -> BatchNormalization(y, ...) -> Y
// becomes
//   MatMul(X, W') -> y -> Add(y, b) -> Y          (a bias Add is inserted)
// and, with a bias the exporter wrote as a separate Add,
//   MatMul(X, W) -> t -> Add(t, c) -> y -> BatchNormalization -> Y
// becomes
//   MatMul(X, W') -> t -> Add(t, c') -> Y
// where W is (K, N), W'[k, n] = a[n] * W[k, n] and c'[.., n] = a[n] * c[.., n]
// + b[n] (c a scalar, (1), (N), (R, 1) or (R, N); see FoldedBiasShape).
// torch exports Linear(bias=False) as MatMul(X, Transpose(W)) at some
// opsets; FoldConstantTransposesIntoMatMulWeights has made that Transpose
// an initializer before this pass runs.
//
// Preconditions: y is read by the BN only and is not a graph output, the BN
// passed AnalyzeBatchNorm (both checked by the BN fold pass); W is a float32
// 2-D constant with N == the BN's channel count; y is provably 2-D (N, C),
// since only then is the BN's channel axis 1 the weight's output axis (for a
// 3-D (B, T, N) product it would be T); with an Add, t is read by that Add only
// and c is a float32 constant.
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "graph/passes/fold_passes.h"
#include "graph/passes/fold_refusals.h"

namespace foldrt::graph {
namespace {

bool IsMatMul(const Node* node) {
  return node != nullptr && IsDefaultDomain(node->domain()) &&
         node->op_type() == "MatMul";
}

// The MatMul the BN's producer is or adds a constant bias to. For an Add,
// also the Add and the index of its constant operand; `matmul` stays null
// when the Add is not MatMul + constant. Const and mutable alike.
template <typename GraphType, typename NodeType>
struct BiasedMatMul {
  NodeType* matmul = nullptr;
  NodeType* bias_add = nullptr;
  size_t bias_index = 0;

  BiasedMatMul(GraphType& graph, NodeType* producer) {
    if (producer->op_type() != "Add") {
      matmul = producer;
      return;
    }
    bias_add = producer;
    for (size_t i = 0; i < 2 && matmul == nullptr; ++i) {
      if (!producer->has_input(i) || !producer->has_input(1 - i)) continue;
      NodeType* candidate = graph.Producer(producer->input(i));
      if (IsMatMul(candidate) &&
          graph.GetConstant(producer->input(1 - i)) != nullptr) {
        matmul = candidate;
        bias_index = 1 - i;
      }
    }
  }
};

class FoldBatchNormIntoMatMul final : public BatchNormFold {
 public:
  const char* name() const override { return "fold_batch_norm_into_matmul"; }
  const char* op_type() const override { return "MatMul"; }
  FoldDirection direction() const override { return FoldDirection::kBackward; }
  // The MatMul itself or an Add of the MatMul's output and a constant bias.
  bool Claims(const Node& producer) const override {
    return producer.op_type() == "MatMul" || producer.op_type() == "Add";
  }

  FoldDecision Match(const Graph& graph, const FoldableBatchNorm& bn,
                     const Node& producer) const override {
    const BiasedMatMul<const Graph, const Node> found(graph, &producer);
    const Node* matmul = found.matmul;
    const Node* bias_add = found.bias_add;
    const size_t bias_index = found.bias_index;
    if (bias_add != nullptr) {
      if (matmul == nullptr) {
        return FoldDecision::Refused(
            FoldReason::kUnsupportedProducer,
            Describe(producer) +
                " is not MatMul + constant bias; an Add of two computed "
                "values cannot absorb a per-channel affine");
      }
      if (!OnlyReadBy(graph, matmul->output(0), bias_add, 1 - bias_index)) {
        return FoldDecision::Refused(
            FoldReason::kMultipleConsumers,
            "output '" + matmul->output(0) + "' of " + Describe(*matmul) +
                " is read by more than the bias " + Describe(*bias_add));
      }
    }

    FoldDecision check = CheckFloatConstantInput(graph, *matmul, 1, "weight");
    if (!check.folded()) return check;
    const std::vector<int64_t>& dims =
        graph.GetConstant(matmul->input(1))->dims();
    if (dims.size() != 2 || dims[1] != bn.channels) {
      return RefuseInputShape(
          *matmul, 1, "weight",
          "must be 2-D (K, N=" + std::to_string(bn.channels) + ")");
    }
    check = CheckTwoDimensional(graph, bn.input, "product",
                                "the weight's output axis",
                                "the MatMul's output axis");
    if (!check.folded()) return check;
    if (bias_add != nullptr) {
      check = CheckFloatConstantInput(graph, *bias_add, bias_index, "bias");
      if (!check.folded()) return check;
      if (!FoldedBiasShape(
              graph.GetConstant(bias_add->input(bias_index))->dims(),
              bn.channels)) {
        return RefuseBiasBroadcast(*bias_add, bias_index, "bias", bn.channels);
      }
    }
    return FoldDecision::Folded();
  }

  Node* Apply(Graph& graph, const FoldableBatchNorm& bn, Node* producer,
              FoldEditCounts* counts) const override {
    const BiasedMatMul<Graph, Node> found(graph, producer);
    Node* matmul = found.matmul;
    Node* bias_add = found.bias_add;
    const size_t bias_index = found.bias_index;
    const Tensor& weight = *graph.GetConstant(matmul->input(1));
    const std::vector<int64_t> dims = weight.dims();
    const int64_t columns = bn.channels;
    std::vector<float> bias;
    std::vector<int64_t> bias_dims;
    std::vector<int64_t> folded_bias_dims = {columns};
    if (bias_add != nullptr) {
      const Tensor& bias_tensor =
          *graph.GetConstant(bias_add->input(bias_index));
      bias_dims = bias_tensor.dims();
      folded_bias_dims = *FoldedBiasShape(bias_dims, columns);
      bias = bias_tensor.ToFloats();
    }

    const std::vector<double>& a = bn.affine.scale;
    std::vector<float> w = weight.ToFloats();
    for (int64_t k = 0; k < dims[0]; ++k) {
      for (int64_t n = 0; n < columns; ++n) {
        float& value = w[static_cast<size_t>(k * columns + n)];
        value = static_cast<float>(a[static_cast<size_t>(n)] *
                                   static_cast<double>(value));
      }
    }
    const std::vector<float> folded_bias = RoundToFloat(
        FoldBiasColumns(bias, bias_dims, folded_bias_dims, a, bn.affine.shift));

    ReplaceConstantInput(graph, matmul, 1, dims, w, counts);
    if (bias_add != nullptr) {
      ReplaceConstantInput(graph, bias_add, bias_index, folded_bias_dims,
                           folded_bias, counts);
      RemoveBatchNormAfter(graph, bn, bias_add, 0);
    } else {
      const std::string bias_name = AddFloatInitializer(
          graph, matmul->input(1) + "_bias", folded_bias_dims, folded_bias);
      const std::string product = matmul->output(0);
      const std::string output = bn.output;
      const std::string add_name = graph.UniqueNodeName(
          (matmul->name().empty() ? output : matmul->name()) + "/bn_bias_add");
      graph.RemoveNode(bn.node);
      graph.AddNode(Node("Add", {product, bias_name}, {output}, add_name));
      ++counts->nodes_inserted;
    }
    return matmul;
  }
};

}  // namespace

std::unique_ptr<BatchNormFold> MakeFoldBatchNormIntoMatMul() {
  return std::make_unique<FoldBatchNormIntoMatMul>();
}

}  // namespace foldrt::graph
