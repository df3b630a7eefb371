// Refusals that more than one BN fold gives, each spelled once. The reason
// codes themselves are FoldReason (fold_report.h); these build the one
// human sentence (FoldDecision::detail) that goes with them.
#ifndef FOLDRT_GRAPH_PASSES_FOLD_REFUSALS_H_
#define FOLDRT_GRAPH_PASSES_FOLD_REFUSALS_H_

#include <cstddef>
#include <cstdint>
#include <string>

#include "graph/graph.h"
#include "graph/passes/fold_report.h"

namespace foldrt::graph {

// "weight 'w' of Conv '/conv/Conv'": input `index` of `node`, called `what`.
std::string DescribeInput(const Node& node, size_t index,
                          const std::string& what);

// kShapeMismatch: "<what> '<value>' of <node> <requirement>".
FoldDecision RefuseInputShape(const Node& node, size_t index,
                              const std::string& what,
                              const std::string& requirement);

// Folded() when `node` has no bias (input 2) or a constant one that is 1-D
// of `length`; else kShapeMismatch.
FoldDecision CheckBiasLength(const Graph& graph, const Node& node,
                             int64_t length);

// Folded() when `node` has no input `index` or a constant there (called
// `what`) that broadcasts to (M, columns) as FoldedBiasShape allows; else
// kShapeMismatch.
FoldDecision CheckBiasBroadcast(const Graph& graph, const Node& node,
                                size_t index, const std::string& what,
                                int64_t columns);

// kForwardInexact: `conv` pads (`setting`, e.g. "pads [1, 1, 1, 1]") after
// the BN, so a forward fold would change its border outputs.
FoldDecision RefusePaddingAfterBatchNorm(const Node& conv,
                                         const std::string& setting);

// Folded() when `value` is provably 2-D; else kUnknownRank ("only for a 2-D
// <operand> is the BN's channel axis <axis>") or kShapeMismatch ("the BN
// normalizes axis 1, not <other_axis>").
FoldDecision CheckTwoDimensional(const Graph& graph, const std::string& value,
                                 const std::string& operand,
                                 const std::string& axis,
                                 const std::string& other_axis);

}  // namespace foldrt::graph

#endif  // FOLDRT_GRAPH_PASSES_FOLD_REFUSALS_H_
