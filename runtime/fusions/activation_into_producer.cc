// Fusion "activation_into_producer": a ReLU, Clip or Sigmoid applied by the
// kernel before it (a oneDNN post-op, or ApplyActivation on the reference
// path) instead of a pass of its own over the tensor.
//
// Pattern: P -> y -> A, A a ReLU / Clip with constant bounds / Sigmoid
// (FusibleActivation), matched on P.
// Preconditions: P's output y may be fused (OutputMayBeFused) and has
// exactly one reader, A, reading it as input 0; A is needed and has an
// output 0; P's kernel applies A's kind (KernelFusesActivation: Conv,
// ConvTranspose, Gemm, MatMul any kind, BatchNormalization ReLU and Clip).
// An Add as the one reader is conv_residual_add's, never this fusion's.
// Produces: an epilogue step "<P>+<A>" ("Conv+Relu") writing A's output.
#include "runtime/fusions/fusion.h"

namespace foldrt::runtime {
namespace {

std::optional<FusedStep> Match(const graph::Node& node, FusionContext& ctx) {
  const std::vector<graph::Use>* readers = FusibleOutputUses(node, ctx.graph());
  if (readers == nullptr || readers->size() != 1) return std::nullopt;
  const graph::Use& use = readers->front();
  if (use.node->op_type() == "Add" || use.input_index != 0) return std::nullopt;
  const graph::Node* consumer = use.node;
  ops::Activation activation;
  if (!FusibleActivationAfter(node, *consumer, ctx, &activation)) {
    return std::nullopt;
  }
  return EpilogueStep(node.op_type() + "+" + consumer->op_type(), activation,
                      {consumer});
}

}  // namespace

std::unique_ptr<const RuntimeFusion> NewActivationIntoProducerFusion() {
  return MakeFusion("activation_into_producer", Match);
}

}  // namespace foldrt::runtime
