// Fusion "conv_residual_add": a residual Add (and the activation after it)
// run as the convolution's sum post-op, so that y = Conv(x) never exists.
//
// Pattern: Conv -> y -> Add(y, r) (either order) -> optionally ReLU / Clip
// with constant bounds / Sigmoid, matched on the Conv.
// Preconditions: the Conv's kernel fuses activations
// (KernelFusesActivation) and y is no graph output; y's one reader is the
// Add, a needed default-domain node with two inputs and one output; r is
// not y, not a constant (a constant Add is a bias; folding it belongs to a
// graph pass) and already computed when the Conv runs, since the step takes
// the Conv's place. The activation is taken only when the sum is no graph
// output and its one reader is that needed activation, as input 0, which
// the Conv's kernel can apply. The Add's result must not be larger than y
// (checked when planning).
// Produces: an epilogue step "Conv+Add" / "Conv+Add+Relu" reading r as
// input 3 and writing the Add's (or the activation's) output.
#include "runtime/fusions/fusion.h"

namespace foldrt::runtime {
namespace {

std::optional<FusedStep> Match(const graph::Node& conv, FusionContext& ctx) {
  const graph::Graph& graph = ctx.graph();
  const std::vector<graph::Use>* readers = FusibleOutputUses(conv, graph);
  if (readers == nullptr || readers->size() != 1 ||
      (*readers)[0].node->op_type() != "Add") {
    return std::nullopt;
  }
  const std::vector<graph::Use>& uses = *readers;
  const std::string& y = conv.output(0);
  if (conv.op_type() != "Conv" ||
      !KernelFusesActivation(conv.op_type(), ops::Activation::Kind::kRelu)) {
    return std::nullopt;
  }
  if (uses[0].input_index < 0) return std::nullopt;
  const graph::Node* add = uses[0].node;
  if (add->op_type() != "Add" || !graph::IsDefaultDomain(add->domain()) ||
      add->num_inputs() != 2 || !add->has_input(0) || !add->has_input(1) ||
      add->num_outputs() != 1 || add->output(0).empty() || !ctx.Needed(*add)) {
    return std::nullopt;
  }
  const std::string& r = add->input(1 - uses[0].input_index);
  const ErrorContext context = graph::NodeErrorContext(*add, ctx.file());
  if (r == y || ctx.Constant(r, context) != nullptr || !ctx.Computed(r)) {
    return std::nullopt;
  }
  FusedStep fused =
      EpilogueStep(conv.op_type() + "+Add", ops::Activation::None(), {add});
  fused.residual = r;
  // An activation after the Add, unless the sum is itself read elsewhere.
  const std::string& sum = add->output(0);
  const std::vector<graph::Use>& sum_uses = graph.Uses(sum);
  if (graph.IsGraphOutput(sum) || sum_uses.size() != 1 ||
      sum_uses[0].input_index != 0) {
    return fused;
  }
  const graph::Node* act = sum_uses[0].node;
  ops::Activation activation;
  if (!FusibleActivationAfter(conv, *act, ctx, &activation)) return fused;
  fused.activation = activation;
  fused.absorbed.push_back(act);
  fused.output_node = act;
  fused.op += "+" + act->op_type();
  return fused;
}

}  // namespace

std::unique_ptr<const RuntimeFusion> NewConvResidualAddFusion() {
  return MakeFusion("conv_residual_add", Match);
}

}  // namespace foldrt::runtime
