#include "graph/passes/fold_refusals.h"

#include <optional>
#include <vector>

#include "graph/passes/fold_util.h"
#include "graph/passes/fold_weights.h"

namespace foldrt::graph {

std::string DescribeInput(const Node& node, size_t index,
                          const std::string& what) {
  return what + " '" + node.input(index) + "' of " + Describe(node);
}

FoldDecision RefuseInputShape(const Node& node, size_t index,
                              const std::string& what,
                              const std::string& requirement) {
  return FoldDecision::Refused(
      FoldReason::kShapeMismatch,
      DescribeInput(node, index, what) + " " + requirement);
}

FoldDecision CheckBiasLength(const Graph& graph, const Node& node,
                             int64_t length) {
  if (!node.has_input(2) || graph.GetConstant(node.input(2))->dims() ==
                                std::vector<int64_t>{length}) {
    return FoldDecision::Folded();
  }
  return RefuseInputShape(node, 2, "bias",
                          "is not 1-D of length " + std::to_string(length));
}

FoldDecision CheckBiasBroadcast(const Graph& graph, const Node& node,
                                size_t index, const std::string& what,
                                int64_t columns) {
  if (!node.has_input(index) ||
      FoldedBiasShape(graph.GetConstant(node.input(index))->dims(), columns)) {
    return FoldDecision::Folded();
  }
  return RefuseInputShape(
      node, index, what,
      "does not broadcast to (M, " + std::to_string(columns) + ")");
}

FoldDecision RefusePaddingAfterBatchNorm(const Node& conv,
                                         const std::string& setting) {
  return FoldDecision::Refused(
      FoldReason::kForwardInexact,
      Describe(conv) + " has " + setting +
          ": its zero padding comes after the BN, so border outputs would "
          "change");
}

FoldDecision CheckTwoDimensional(const Graph& graph, const std::string& value,
                                 const std::string& operand,
                                 const std::string& axis,
                                 const std::string& other_axis) {
  const std::optional<size_t> rank = KnownRank(graph, value);
  if (!rank) {
    return FoldDecision::Refused(FoldReason::kUnknownRank,
                                 "the rank of '" + value +
                                     "' is unknown; only for a 2-D " + operand +
                                     " is the BN's channel axis " + axis);
  }
  if (*rank != 2) {
    return FoldDecision::Refused(
        FoldReason::kShapeMismatch,
        "'" + value + "' has rank " + std::to_string(*rank) +
            ": the BN normalizes axis 1, not " + other_axis);
  }
  return FoldDecision::Folded();
}

}  // namespace foldrt::graph
