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
  using BatchNormFold::BatchNormFold;

  // The MatMul itself or an Add of the MatMul's output and a constant bias.
  bool Claims(const Node& producer) const override {
    return producer.op_type() == "MatMul" || producer.op_type() == "Add";
  }

  FoldDecision MatchOperands(const Graph& graph, const FoldableBatchNorm& bn,
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
    if (!MatMulWeightLayout(graph.GetConstant(matmul->input(1))->dims())
             .Fits(ChannelSide::kOutput, bn.channels)) {
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
      return CheckBiasBroadcast(graph, *bias_add, bias_index, "bias",
                                bn.channels);
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
    const Tensor* bias = bias_add != nullptr
                             ? graph.GetConstant(bias_add->input(bias_index))
                             : nullptr;
    FoldedWeights folded =
        FoldIntoOutputChannels(weight, MatMulWeightLayout(weight.dims()), bias,
                               /*bias_scale=*/1.0, bn.affine);

    ReplaceConstantInput(graph, matmul, 1, weight.dims(), folded.weight,
                         counts);
    if (bias_add != nullptr) {
      ReplaceConstantInput(graph, bias_add, bias_index,
                           std::move(folded.bias_dims), folded.bias, counts);
      RemoveBatchNormAfter(graph, bn, bias_add, 0);
    } else {
      const std::string bias_name =
          AddFloatInitializer(graph, matmul->input(1) + "_bias",
                              std::move(folded.bias_dims), folded.bias);
      const std::string product = matmul->output(0);
      const std::string output = bn.output;
      const std::string add_name = BiasAddName(graph, *matmul, output);
      graph.RemoveNode(bn.node);
      graph.AddNode(Node("Add", {product, bias_name}, {output}, add_name));
      ++counts->nodes_inserted;
    }
    return matmul;
  }
};

}  // namespace

std::unique_ptr<BatchNormFold> MakeFoldBatchNormIntoMatMul() {
  return std::make_unique<FoldBatchNormIntoMatMul>(
      "fold_batch_norm_into_matmul", "MatMul", FoldDirection::kBackward);
}

}  // namespace foldrt::graph
