// Shared pieces of the BatchNormalization folding passes (graph/passes/):
// reading a BN's constant parameters into the one affine form, the
// constant-input checks, changing a constant without touching other readers
// of it, rewiring around the removed BN, and the rank facts the MatMul folds
// need. The weight math is fold_weights.h's. Internal to the passes;
// batch_norm_fold.h is the API.
#ifndef FOLDRT_GRAPH_PASSES_FOLD_UTIL_H_
#define FOLDRT_GRAPH_PASSES_FOLD_UTIL_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/batch_norm_affine.h"
#include "graph/graph.h"
#include "graph/passes/fold_report.h"
#include "graph/tensor.h"

namespace foldrt::graph {

// A BN that passed the direction-independent checks, with its per-channel
// affine y = scale[c] * x + shift[c] in double (ComputeBatchNormAffineF64).
struct FoldableBatchNorm {
  Node* node = nullptr;
  std::string input;   // X
  std::string output;  // Y
  int64_t channels = 0;
  BatchNormAffineF64 affine;
  std::string note;  // see BatchNormFoldRecord::note
};

// Checks what every fold of `bn` needs, whatever the direction: constant
// float32 parameters of one length, spatial != 0 (opset 7), statistic
// outputs unused, finite statistics. `opset` is the model's ai.onnx opset.
// On success fills `out` (channels is set even on some refusals).
FoldDecision AnalyzeBatchNorm(const Graph& graph, Node* bn, int64_t opset,
                              FoldableBatchNorm* out);

// Counters the passes bump as they edit (see FoldCleanupCounts).
struct FoldEditCounts {
  size_t weights_copied = 0;
  size_t nodes_inserted = 0;
};

// Folded() when input `index` of `node` is a float32 constant, else why
// not. `what` names the input in the message.
FoldDecision CheckFloatConstantInput(const Graph& graph, const Node& node,
                                     size_t index, const std::string& what);

// Folded() when input 1 of `node` (its weight, called `weight`) is a float32
// constant and input 2 (its bias, called `bias`) is absent or one too; else
// the first refusal.
FoldDecision CheckConstantWeightAndBias(const Graph& graph, const Node& node,
                                        const std::string& weight,
                                        const std::string& bias);

// Replaces the constant that `node` reads at input `index` with `values`
// of shape `dims`. The initializer is changed in place only when `node` is
// its sole reader and it is not a graph output; otherwise (shared with
// another node, or reached through Identity/Constant) a new initializer
// with a unique name is added and `node` reads that instead. A copy of a
// listed initializer is listed among the graph inputs too. Declared shapes
// of the constant follow a change of dims.
void ReplaceConstantInput(Graph& graph, Node* node, size_t index,
                          std::vector<int64_t> dims,
                          const std::vector<float>& values,
                          FoldEditCounts* counts);

// Adds a new float32 initializer named after `base` (made unique) and
// returns its name. In a graph that lists every initializer among its
// inputs (old exporters, IR version 3) the new one is listed too.
std::string AddFloatInitializer(Graph& graph, const std::string& base,
                                std::vector<int64_t> dims,
                                const std::vector<float>& values);

// Rounds double values to float once.
std::vector<float> RoundToFloat(const std::vector<double>& values);

// The rank of `value` when the graph proves it: declared shapes, constants,
// and Gemm/MatMul/Add/Flatten and shape-preserving ops propagated from
// their inputs. nullopt when unknown.
std::optional<size_t> KnownRank(const Graph& graph, const std::string& value);

// True when `value` is read by `reader` only, exactly once, at input
// `index`, and is not a graph output.
bool OnlyReadBy(const Graph& graph, const std::string& value,
                const Node* reader, size_t index);

// Element-wise activations: a BN on the far side of one of these cannot be
// moved through it.
bool IsActivationOp(const Node& node);

// "Conv '/conv/Conv'".
std::string Describe(const Node& node);

// Removes the folded BN and makes `producer` write the BN's output value
// in place of its own output `producer_output` (the BN's output name is the
// one that survives, as it may be a graph output).
void RemoveBatchNormAfter(Graph& graph, const FoldableBatchNorm& bn,
                          Node* producer, size_t producer_output);

// Removes the folded BN and makes `consumer` read the BN's input in its
// place (as input 0, the only one a forward fold allows the BN to feed).
void RemoveBatchNormBefore(Graph& graph, const FoldableBatchNorm& bn,
                           Node* consumer);

// Makes input 2 of `node` (the bias of Conv, ConvTranspose and Gemm) read
// `values` of shape `dims`: the constant there is replaced as
// ReplaceConstantInput does, and when there is none a new initializer named
// after the weight (input 1) is added.
void SetBiasInput(Graph& graph, Node* node, std::vector<int64_t> dims,
                  const std::vector<float>& values, FoldEditCounts* counts);

// The name of the bias Add a MatMul fold inserts: "<matmul's name, or
// `output` when it has none>/bn_bias_add", made unique.
std::string BiasAddName(const Graph& graph, const Node& matmul,
                        const std::string& output);

}  // namespace foldrt::graph

#endif  // FOLDRT_GRAPH_PASSES_FOLD_UTIL_H_
