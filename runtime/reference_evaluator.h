// A scalar reference evaluator for ONNX graphs: runs every node of a graph in
// topological order on host tensors with the plain-loop references of
// ops/ref (double accumulation, one rounding to float per op). Its tensors
// are foldrt::Tensor (core/tensor.h), the values Session::Run takes and
// returns, so the tests compare the two directly. It is the
// ground truth the BN folding passes (folded and unfolded graphs must agree),
// `foldrt fold --verify` and the optimized runtime are tested against.
// Correctness and clear errors come before speed.
#ifndef FOLDRT_RUNTIME_REFERENCE_EVALUATOR_H_
#define FOLDRT_RUNTIME_REFERENCE_EVALUATOR_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/tensor.h"
#include "graph/graph.h"

namespace foldrt::runtime {

// The ops EvaluateReference implements, in alphabetical order (default ONNX
// domain, opsets graph::kMinOpsetVersion..kMaxOpsetVersion).
const std::vector<std::string>& ReferenceEvaluatorOps();

// Evaluates `graph`, whose default-domain nodes follow ONNX opset `opset`
// (it decides Softmax's axis semantics), on `inputs`: one tensor per real
// graph input (Graph::inputs(); initializers, also those old exporters list
// as inputs, are constants), float32 or int64. Returns every graph output
// by name.
//
// Throws InvalidArgumentError for a missing or unknown input, or one whose
// dtype or shape contradicts the graph's declaration (a symbolic dim must
// take the same value everywhere); UnsupportedError naming node and op for an
// op, attribute value or dtype it does not implement; InvalidArgumentError
// naming node and op when the tensors reaching a node do not fit it.
std::map<std::string, Tensor> EvaluateReference(
    const graph::Graph& graph, int64_t opset,
    const std::map<std::string, Tensor>& inputs);

// The same for a whole model: the opset is the model's default-domain
// import, and error messages name model.source.
std::map<std::string, Tensor> EvaluateReference(
    const graph::Model& model, const std::map<std::string, Tensor>& inputs);

}  // namespace foldrt::runtime

#endif  // FOLDRT_RUNTIME_REFERENCE_EVALUATOR_H_
