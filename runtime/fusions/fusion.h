// Runtime fusions: the second, later pass phase. Graph passes (graph/passes/)
// rewrite the ONNX graph; these run while CompileProgram turns what is left
// into steps, and produce steps that are not ONNX nodes: a Conv applying the
// ReLU after it, a Conv adding a residual as oneDNN's sum post-op, a
// Sigmoid -> Mul pair as one Swish, a channel shuffle as one permutation.
//
// Each fusion is one file in this folder: its pattern and preconditions in a
// comment on top, one Match function that looks at the node being compiled
// (MakeFusion makes it a RuntimeFusion). runtime/fusions/fusion_list.cc orders
// them; the compiler tries them on every node some output depends on, in that
// order, and the first that matches wins.
#ifndef FOLDRT_RUNTIME_FUSIONS_FUSION_H_
#define FOLDRT_RUNTIME_FUSIONS_FUSION_H_

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/tensor.h"
#include "graph/graph.h"
#include "ops/activation.h"
#include "runtime/kernels/kernel.h"

namespace foldrt::runtime {

// What the compiler shows a fusion of the model it compiles.
class FusionContext {
 public:
  virtual ~FusionContext() = default;

  virtual const graph::Graph& graph() const = 0;
  virtual int64_t opset() const = 0;  // of the default domain
  virtual const std::string& file() const = 0;
  // Some graph output depends on `node`: only such nodes get steps, so only
  // they may be absorbed.
  virtual bool Needed(const graph::Node& node) const = 0;
  // A step added before the one being compiled (or the caller) computes
  // `value`: what that step may read.
  virtual bool Computed(const std::string& value) const = 0;
  // The load-time constant behind `value` (initializer or folded node
  // output), or null. `reader` names the node for conversion errors.
  virtual const Tensor* Constant(const std::string& value,
                                 const ErrorContext& reader) = 0;
  // Constant() of each input of `node` (null for absent ones).
  virtual std::vector<const Tensor*> InputConstants(
      const graph::Node& node) = 0;
  // What CreateKernel reads about `node`, without a fused activation.
  virtual KernelBuildContext BuildContext(const graph::Node& node) = 0;
  // CreateKernel(ctx), its errors naming ctx.node() and the file.
  virtual std::unique_ptr<Kernel> Create(const KernelBuildContext& ctx) = 0;
};

// The step a fusion makes of the node being compiled (the matched node) and
// of the nodes it absorbs. One of two kinds:
//  - an epilogue (own_kernel unset): the matched node's own kernel, built
//    with `activation` (KernelBuildContext::fused_activation) and, for a
//    residual, a fourth input (KernelBuildContext::fused_residual). It reads
//    the matched node's inputs, writes its outputs except that output 0 is
//    output_node's output 0, and counts in Program::fused_activations;
//  - a kernel of its own (own_kernel set): see OwnKernel.
struct FusedStep {
  // A step whose kernel is no single node's. It takes the place of node
  // `at` (the matched node or one after it, where every input is computed:
  // the matched node gets no step), reads `inputs` and writes `outputs`
  // (value names); `create` builds its kernel when the compiler gets there.
  struct OwnKernel {
    const graph::Node* at = nullptr;
    std::vector<std::string> inputs;
    std::vector<std::string> outputs;
    std::function<std::unique_ptr<Kernel>(FusionContext&)> create;
  };

  // ProgramStep::op: "Conv+Relu", "Conv+Add+Relu", "Swish",
  // "Reshape+Transpose+Reshape".
  std::string op;
  // Nodes that get no step of their own besides the matched node (and
  // OwnKernel::at).
  std::vector<const graph::Node*> absorbed;
  // Epilogue.
  ops::Activation activation;
  std::string residual;  // the residual's value name, read as input 3
  const graph::Node* output_node = nullptr;
  std::optional<OwnKernel> own_kernel;
};

class RuntimeFusion {
 public:
  virtual ~RuntimeFusion() = default;
  // For messages and the list: "conv_residual_add".
  virtual const char* name() const = 0;
  // The step `node` and the nodes after it become, or nullopt when the
  // pattern does not start at `node`. Called once per needed node, in
  // topological order; may throw a kernel's error for a node it absorbs.
  virtual std::optional<FusedStep> Match(const graph::Node& node,
                                         FusionContext& ctx) const = 0;
};

// A fusion's Match: the step `node` and the nodes after it become, as
// RuntimeFusion::Match.
using FusionMatch = std::optional<FusedStep> (*)(const graph::Node& node,
                                                 FusionContext& ctx);
// The RuntimeFusion named `name` (for messages and the list) whose Match is
// `match`: what each fusion file's New<Name>Fusion returns.
std::unique_ptr<const RuntimeFusion> MakeFusion(const char* name,
                                                FusionMatch match);

// The fusions in the order the compiler tries them (fusion_list.cc).
const std::vector<std::unique_ptr<const RuntimeFusion>>& RuntimeFusions();

// --- Pattern pieces several fusions share (fusion.cc).

// Whether `producer` may hand its output 0 to a fused consumer at all: a
// default-domain node whose output 0 exists and is no graph output (the
// caller would miss the value the fused step never writes).
bool OutputMayBeFused(const graph::Node& producer, const graph::Graph& graph);
// The uses of `producer`'s output 0 when OutputMayBeFused, else null.
const std::vector<graph::Use>* FusibleOutputUses(const graph::Node& producer,
                                                 const graph::Graph& graph);

// Whether `reader`, a reader of `producer`'s output, is an activation the
// producer's kernel can apply as its epilogue: needed, with an output 0, a
// ReLU / Clip with constant bounds / Sigmoid (FusibleActivation) of a kind
// KernelFusesActivation allows for the producer's op. Sets *activation.
bool FusibleActivationAfter(const graph::Node& producer,
                            const graph::Node& reader, FusionContext& ctx,
                            ops::Activation* activation);

// An epilogue step `op` applying `activation`, absorbing `absorbed` (in
// order; the last one's output 0 is what the step writes).
FusedStep EpilogueStep(std::string op, ops::Activation activation,
                       std::vector<const graph::Node*> absorbed);

// The Mul of SiLU written as Sigmoid -> Mul: `sigmoid` reads x as its only
// input, and its output s (not a graph output) has exactly one reader, a
// Mul of {x, s} in either order. The Mul, or null.
const graph::Node* SwishMul(const graph::Node& sigmoid, FusionContext& ctx);

}  // namespace foldrt::runtime

#endif  // FOLDRT_RUNTIME_FUSIONS_FUSION_H_
