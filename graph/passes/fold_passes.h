// The interface of one BatchNormalization fold: BN into one kind of
// neighbouring op, in one direction. Each fold is one file
// (fold_batch_norm_into_*.cc) stating its pattern and preconditions on top;
// the BN fold pass (batch_norm_fold.cc) tries them in the order of the list
// in pass_list.cc. Internal to the passes; batch_norm_fold.h is the API.
#ifndef FOLDRT_GRAPH_PASSES_FOLD_PASSES_H_
#define FOLDRT_GRAPH_PASSES_FOLD_PASSES_H_

#include <memory>
#include <vector>

#include "graph/graph.h"
#include "graph/passes/fold_report.h"
#include "graph/passes/fold_util.h"
#include "graph/passes/fold_weights.h"

namespace foldrt::graph {

enum class FoldDirection {
  kBackward,  // into the producer of the BN's input
  kForward,   // into the only reader of the BN's output
};

// The constant inputs a fold needs of its neighbour, as its refusals name
// them: the weight (input 1) and, where the neighbour has one, the bias
// (input 2). Null for none.
struct FoldInputs {
  const char* weight = nullptr;
  const char* bias = nullptr;
};

// A fold's class states its preconditions (MatchOperands, and
// CheckAttributes where an attribute rules it out before its constants are
// looked at) and its edit (Apply); its Make function (pass_list.cc) gives
// the constructor its name, op, direction and constant inputs.
class BatchNormFold {
 public:
  // `name`: a stable snake_case id, e.g. "fold_batch_norm_into_conv";
  // `op_type`: the op that absorbs the BN, as refusals name it ("only Conv,
  // ... can"). Both are string literals.
  BatchNormFold(const char* name, const char* op_type, FoldDirection direction,
                FoldInputs inputs = {})
      : name_(name),
        op_type_(op_type),
        direction_(direction),
        inputs_(inputs) {}
  virtual ~BatchNormFold() = default;

  const char* name() const { return name_; }
  const char* op_type() const { return op_type_; }
  FoldDirection direction() const { return direction_; }

  // Whether `neighbour` is this fold's kind of op: by default, an op of
  // type op_type(). The BN fold pass has already checked the default domain
  // and what every fold of the direction needs (single reader, not a graph
  // output, not an activation); the first fold of the list that claims a
  // neighbour decides the BN's fate.
  virtual bool Claims(const Node& neighbour) const {
    return neighbour.op_type() == op_type_;
  }

  // The preconditions stated on top of the fold's file: Folded() when Apply
  // may run, else the first refusal of CheckAttributes, the constant inputs
  // (float32 constants, CheckConstantWeightAndBias) and MatchOperands.
  // Changes nothing.
  FoldDecision Match(const Graph& graph, const FoldableBatchNorm& bn,
                     const Node& neighbour) const {
    FoldDecision check = CheckAttributes(neighbour);
    if (check.folded() && inputs_.weight != nullptr) {
      check =
          inputs_.bias != nullptr
              ? CheckConstantWeightAndBias(graph, neighbour, inputs_.weight,
                                           inputs_.bias)
              : CheckFloatConstantInput(graph, neighbour, 1, inputs_.weight);
    }
    if (!check.folded()) return check;
    return MatchOperands(graph, bn, neighbour);
  }

  // Folds `bn` into `neighbour` once Match agreed and returns the node that
  // absorbed it. Afterwards the BN node is gone.
  virtual Node* Apply(Graph& graph, const FoldableBatchNorm& bn,
                      Node* neighbour, FoldEditCounts* counts) const = 0;

 protected:
  // Attribute preconditions that come before the constant inputs (none by
  // default).
  virtual FoldDecision CheckAttributes(const Node& neighbour) const {
    return FoldDecision::Folded();
  }
  // The other preconditions, once the constant inputs are known to be there.
  virtual FoldDecision MatchOperands(const Graph& graph,
                                     const FoldableBatchNorm& bn,
                                     const Node& neighbour) const = 0;

 private:
  const char* name_;
  const char* op_type_;
  FoldDirection direction_;
  FoldInputs inputs_;
};

// The BN folds in the order they are tried (pass_list.cc).
std::vector<std::unique_ptr<BatchNormFold>> MakeBatchNormFolds();

}  // namespace foldrt::graph

#endif  // FOLDRT_GRAPH_PASSES_FOLD_PASSES_H_
