// Folding trained BatchNormalization into neighbouring linear ops: the entry
// point that runs the graph passes of pass_list.cc, offline for `foldrt fold`
// and at load time for the runtime (the math is core/batch_norm_affine.h's).
//
// For each BN of the main graph, in topological order:
//   1. backward: into the preceding Conv, ConvTranspose, Gemm, or MatMul
//      with a constant 2-D weight (optionally followed by a constant bias
//      Add), when the value between them feeds only the BN and is not a
//      graph output;
//   2. forward (unless disabled): into the following Gemm, MatMul or
//      Conv, only where that is exact (no padding for Conv);
//   3. otherwise the BN stays, and the report says why.
// Before: constant Transposes feeding MatMul weights become initializers.
// After: parameter initializers and Identity/Constant chains the folds
// orphaned are removed. Every fold computes the BN affine in double
// (ComputeBatchNormAffineF64) and rounds each new weight and bias value to
// float once; a constant read by anything else is copied, never scaled in
// place. The BN's output name survives (the producer takes it over).
#ifndef FOLDRT_GRAPH_PASSES_BATCH_NORM_FOLD_H_
#define FOLDRT_GRAPH_PASSES_BATCH_NORM_FOLD_H_

#include "graph/graph.h"
#include "graph/passes/fold_report.h"

namespace foldrt::graph {

struct FoldOptions {
  // Also fold a BN into the op after it (BN -> Conv/Gemm/MatMul).
  bool forward = true;
};

// Runs the graph passes (pass_list.cc) on `model`'s main graph in place and
// reports the fate of every BN, those inside subgraphs included (they are
// not visited). The model's ai.onnx opset decides the BN semantics (7:
// spatial; 14+: training_mode). Throws FormatError (with model.source) if
// the graph is inconsistent before or after: a cycle, an undefined value.
FoldReport FoldBatchNormalization(Model& model,
                                  const FoldOptions& options = {});

}  // namespace foldrt::graph

#endif  // FOLDRT_GRAPH_PASSES_BATCH_NORM_FOLD_H_
