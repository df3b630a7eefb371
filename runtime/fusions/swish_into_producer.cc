// Fusion "swish_into_producer": SiLU written as y -> Sigmoid(y) -> Mul(y, s)
// applied by the kernel that computes y, as one Swish activation.
//
// Pattern: a node P whose output y has exactly two readers, Sigmoid(y) and
// the Mul(y, Sigmoid(y)) of SwishMul (fusion.h), matched on P.
// Preconditions: P's output y may be fused (OutputMayBeFused); the Sigmoid
// reads y as input 0 and is a distinct node from the Mul; P's kernel
// applies a fused Swish (KernelFusesActivation(P, kSwish)).
// Produces: an epilogue step "<P>+Swish" writing the Mul's output.
#include "runtime/fusions/fusion.h"

namespace foldrt::runtime {
namespace {

std::optional<FusedStep> Match(const graph::Node& node, FusionContext& ctx) {
  const std::vector<graph::Use>* readers = FusibleOutputUses(node, ctx.graph());
  if (readers == nullptr || readers->size() != 2) return std::nullopt;
  const std::vector<graph::Use>& uses = *readers;
  for (size_t i = 0; i < 2; ++i) {
    const graph::Node* sigmoid = uses[i].node;
    const graph::Node* mul = uses[1 - i].node;
    if (uses[i].input_index != 0 || mul == sigmoid ||
        SwishMul(*sigmoid, ctx) != mul ||
        !KernelFusesActivation(node.op_type(), ops::Activation::Kind::kSwish)) {
      continue;
    }
    return EpilogueStep(node.op_type() + "+Swish", ops::Activation::Swish(),
                        {sigmoid, mul});
  }
  return std::nullopt;
}

}  // namespace

std::unique_ptr<const RuntimeFusion> NewSwishIntoProducerFusion() {
  return MakeFusion("swish_into_producer", Match);
}

}  // namespace foldrt::runtime
