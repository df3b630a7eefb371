// Fusion "sigmoid_mul_swish": SiLU written as Sigmoid -> Mul whose input
// could not take it as a fused activation (swish_into_producer did not
// match) still runs as one step: x * sigmoid(x) in one pass.
//
// Pattern: Sigmoid(x) -> s -> Mul(x, s) (either order), matched on the
// Sigmoid (SwishMul in fusion.h).
// Preconditions: those of SwishMul: the Sigmoid reads x as its only input,
// s is no graph output and its one reader is that Mul, both needed and
// default-domain.
// Produces: an epilogue step "Swish": the Sigmoid's kernel built with a
// Swish activation (KernelBuildContext::fused_activation), writing the
// Mul's output.
#include "runtime/fusions/fusion.h"

namespace foldrt::runtime {
namespace {

std::optional<FusedStep> Match(const graph::Node& node, FusionContext& ctx) {
  const graph::Node* mul = SwishMul(node, ctx);
  if (mul == nullptr) return std::nullopt;
  return EpilogueStep("Swish", ops::Activation::Swish(), {mul});
}

}  // namespace

std::unique_ptr<const RuntimeFusion> NewSigmoidMulSwishFusion() {
  return MakeFusion("sigmoid_mul_swish", Match);
}

}  // namespace foldrt::runtime
