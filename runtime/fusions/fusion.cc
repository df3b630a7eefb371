#include "runtime/fusions/fusion.h"

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace foldrt::runtime {
namespace {

class FunctionFusion : public RuntimeFusion {
 public:
  FunctionFusion(const char* name, FusionMatch match)
      : name_(name), match_(match) {}
  const char* name() const override { return name_; }
  std::optional<FusedStep> Match(const graph::Node& node,
                                 FusionContext& ctx) const override {
    return match_(node, ctx);
  }

 private:
  const char* name_;
  FusionMatch match_;
};

}  // namespace

std::unique_ptr<const RuntimeFusion> MakeFusion(const char* name,
                                                FusionMatch match) {
  return std::make_unique<FunctionFusion>(name, match);
}

bool OutputMayBeFused(const graph::Node& producer, const graph::Graph& graph) {
  return graph::IsDefaultDomain(producer.domain()) &&
         producer.num_outputs() != 0 && !producer.output(0).empty() &&
         !graph.IsGraphOutput(producer.output(0));
}

const std::vector<graph::Use>* FusibleOutputUses(const graph::Node& producer,
                                                 const graph::Graph& graph) {
  if (!OutputMayBeFused(producer, graph)) return nullptr;
  return &graph.Uses(producer.output(0));
}

bool FusibleActivationAfter(const graph::Node& producer,
                            const graph::Node& reader, FusionContext& ctx,
                            ops::Activation* activation) {
  return ctx.Needed(reader) && reader.num_outputs() != 0 &&
         !reader.output(0).empty() &&
         FusibleActivation(reader, ctx.opset(), ctx.InputConstants(reader),
                           activation) &&
         KernelFusesActivation(producer.op_type(), activation->kind);
}

FusedStep EpilogueStep(std::string op, ops::Activation activation,
                       std::vector<const graph::Node*> absorbed) {
  FusedStep fused;
  fused.op = std::move(op);
  fused.activation = activation;
  fused.output_node = absorbed.back();
  fused.absorbed = std::move(absorbed);
  return fused;
}

const graph::Node* SwishMul(const graph::Node& sigmoid, FusionContext& ctx) {
  if (sigmoid.op_type() != "Sigmoid" ||
      !graph::IsDefaultDomain(sigmoid.domain()) || sigmoid.num_inputs() != 1 ||
      !sigmoid.has_input(0) || sigmoid.num_outputs() != 1 ||
      sigmoid.output(0).empty() || !ctx.Needed(sigmoid)) {
    return nullptr;
  }
  const graph::Graph& graph = ctx.graph();
  const std::string& x = sigmoid.input(0);
  const std::string& s = sigmoid.output(0);
  if (graph.IsGraphOutput(s)) return nullptr;
  const std::vector<graph::Use>& uses = graph.Uses(s);
  if (uses.size() != 1 || uses[0].input_index < 0) return nullptr;
  const graph::Node* mul = uses[0].node;
  if (mul->op_type() != "Mul" || !graph::IsDefaultDomain(mul->domain()) ||
      mul->num_inputs() != 2 || mul->num_outputs() != 1 ||
      mul->output(0).empty() || !ctx.Needed(*mul)) {
    return nullptr;
  }
  const int other = 1 - uses[0].input_index;
  if (!mul->has_input(other) || mul->input(other) != x) return nullptr;
  return mul;
}

}  // namespace foldrt::runtime
