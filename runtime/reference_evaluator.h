// A scalar reference evaluator for ONNX graphs: runs every node of a graph in
// topological order on host tensors with the plain-loop references of
// ops/ref (double accumulation, one rounding to float per op). It is the
// ground truth the BN folding passes (folded and unfolded graphs must agree),
// `foldrt fold --verify` and the optimized runtime are tested against.
// Correctness and clear errors come before speed.
#ifndef FOLDRT_RUNTIME_REFERENCE_EVALUATOR_H_
#define FOLDRT_RUNTIME_REFERENCE_EVALUATOR_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "graph/graph.h"
#include "graph/tensor.h"

namespace foldrt::runtime {

// A host tensor: float32 activations, or int64 for the shape arithmetic
// exporters emit (Shape, Gather, Concat, Reshape targets). Exactly one of f32
// / i64 holds the elements, in C order, as dtype says.
struct RefTensor {
  static RefTensor Float(std::vector<int64_t> shape, std::vector<float> data);
  static RefTensor Int64(std::vector<int64_t> shape, std::vector<int64_t> data);

  // Product of the dims (1 for a scalar).
  int64_t NumElements() const;

  graph::DataType dtype = graph::DataType::kFloat;  // kFloat or kInt64
  std::vector<int64_t> shape;
  std::vector<float> f32;
  std::vector<int64_t> i64;
};

// The ops EvaluateReference implements, in alphabetical order (default ONNX
// domain, opsets graph::kMinOpsetVersion..kMaxOpsetVersion).
const std::vector<std::string>& ReferenceEvaluatorOps();

// Evaluates `graph`, whose default-domain nodes follow ONNX opset `opset`
// (it decides Softmax's axis semantics), on `inputs`: one tensor per real
// graph input (Graph::inputs(); initializers, also those old exporters list
// as inputs, are constants). Returns every graph output by name.
//
// Throws InvalidArgumentError for a missing or unknown input, or one whose
// dtype or shape contradicts the graph's declaration (a symbolic dim must
// take the same value everywhere); UnsupportedError naming node and op for an
// op, attribute value or dtype it does not implement; InvalidArgumentError
// naming node and op when the tensors reaching a node do not fit it.
std::map<std::string, RefTensor> EvaluateReference(
    const graph::Graph& graph, int64_t opset,
    const std::map<std::string, RefTensor>& inputs);

// The same for a whole model: the opset is the model's default-domain
// import, and error messages name model.source.
std::map<std::string, RefTensor> EvaluateReference(
    const graph::Model& model, const std::map<std::string, RefTensor>& inputs);

}  // namespace foldrt::runtime

#endif  // FOLDRT_RUNTIME_REFERENCE_EVALUATOR_H_
