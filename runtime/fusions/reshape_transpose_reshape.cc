// Fusion "reshape_transpose_reshape": ShuffleNet's channel shuffle as one
// step (CreateReshapeTransposeReshape), which can stay channels-last where
// the three ops would need two layout conversions.
//
// Pattern: Reshape(x, shape1) -> Transpose -> Reshape(., shape2), matched on
// the first Reshape.
// Preconditions: both Reshapes have their shape input; the Transpose and
// the second Reshape are default-domain, needed, have one output and read
// the value before them as input 0, and neither middle value is a graph
// output or read by anyone else. Each of the three nodes is built alone
// first, so that one the runtime cannot run fails as it would unfused.
// Produces: a "Reshape+Transpose+Reshape" step reading (x, shape1, shape2)
// and writing the second Reshape's output, in the second Reshape's place,
// where its shape input (computed from Shape ops after the first) is ready.
#include "runtime/fusions/fusion.h"

namespace foldrt::runtime {
namespace {

// The only reader of `node`'s output 0 when it is a `op_type` node
// reading it as input 0, needed, and the output is no graph output.
const graph::Node* SoleReader(const graph::Node& node,
                              const std::string& op_type, FusionContext& ctx) {
  const graph::Graph& graph = ctx.graph();
  if (node.num_outputs() != 1 || node.output(0).empty() ||
      graph.IsGraphOutput(node.output(0))) {
    return nullptr;
  }
  const std::vector<graph::Use>& uses = graph.Uses(node.output(0));
  if (uses.size() != 1 || uses[0].input_index != 0) return nullptr;
  const graph::Node* reader = uses[0].node;
  if (reader->op_type() != op_type ||
      !graph::IsDefaultDomain(reader->domain()) || !ctx.Needed(*reader) ||
      reader->num_outputs() != 1 || reader->output(0).empty()) {
    return nullptr;
  }
  return reader;
}

std::optional<FusedStep> Match(const graph::Node& first, FusionContext& ctx) {
  if (first.op_type() != "Reshape" || !graph::IsDefaultDomain(first.domain()) ||
      first.num_inputs() < 2 || !first.has_input(1)) {
    return std::nullopt;
  }
  const graph::Node* transpose = SoleReader(first, "Transpose", ctx);
  const graph::Node* second =
      transpose != nullptr ? SoleReader(*transpose, "Reshape", ctx) : nullptr;
  if (second == nullptr || second->num_inputs() < 2 || !second->has_input(1)) {
    return std::nullopt;
  }
  // Each node checked as it would be alone.
  ctx.Create(ctx.BuildContext(first));
  ctx.Create(ctx.BuildContext(*transpose));
  ctx.Create(ctx.BuildContext(*second));
  FusedStep fused;
  fused.op = "Reshape+Transpose+Reshape";
  fused.absorbed = {transpose};
  FusedStep::OwnKernel& own = fused.own_kernel.emplace();
  own.at = second;
  own.inputs = {first.input(0), first.input(1), second->input(1)};
  own.outputs = {second->output(0)};
  own.create = [&first, transpose, second](FusionContext& at) {
    const KernelBuildContext first_context = at.BuildContext(first);
    const KernelBuildContext second_context = at.BuildContext(*second);
    return CreateReshapeTransposeReshape(first_context, *transpose,
                                         second_context);
  };
  return fused;
}

}  // namespace

std::unique_ptr<const RuntimeFusion> NewReshapeTransposeReshapeFusion() {
  return MakeFusion("reshape_transpose_reshape", Match);
}

}  // namespace foldrt::runtime
