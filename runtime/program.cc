#include "runtime/program.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <new>
#include <set>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include "core/error.h"
#include "core/logging.h"
#include "runtime/kernels/kernel_util.h"
#include "runtime/memory_plan.h"

namespace foldrt::runtime {
namespace {

// Values computed from shapes while planning stay small (shape arithmetic);
// anything larger is left to the run, where it gets an arena buffer.
constexpr size_t kMaxPlanTimeBytes = 64 * 1024;

// Rethrows `error` as the same type with the missing parts of the context
// filled in: the file always, node and op unless it names a node already.
[[noreturn]] void RethrowWithContext(const Error& error,
                                     const std::string& file,
                                     const std::string& node,
                                     const std::string& op) {
  ErrorContext context = error.context();
  if (context.file.empty()) context.file = file;
  if (context.node.empty()) {
    context.node = node;
    context.op = op;
  }
  if (dynamic_cast<const UnsupportedError*>(&error)) {
    throw UnsupportedError(error.message(), context);
  }
  if (dynamic_cast<const FormatError*>(&error)) {
    throw FormatError(error.message(), context);
  }
  if (dynamic_cast<const IoError*>(&error)) {
    throw IoError(error.message(), context);
  }
  throw InvalidArgumentError(error.message(), context);
}

template <typename F>
auto InContext(const std::string& file, const std::string& node,
               const std::string& op, F&& f) -> decltype(f()) {
  try {
    return f();
  } catch (const Error& error) {
    RethrowWithContext(error, file, node, op);
  }
}

// Runs a planned kernel right away on known inputs; returns one tensor per
// node output (an empty tensor for omitted ones).
std::vector<Tensor> RunNow(const Kernel& kernel, const KernelPlan& plan,
                           const std::vector<const Tensor*>& inputs,
                           const std::vector<bool>& output_present,
                           int threads) {
  std::vector<Tensor> outputs(plan.outputs.size());
  KernelArgs args;
  args.inputs = inputs;
  args.state = plan.state.get();
  args.threads = threads;
  for (size_t k = 0; k < plan.outputs.size(); ++k) {
    if (k < output_present.size() && output_present[k]) {
      outputs[k] = Tensor::Zeros(plan.outputs[k].dtype, plan.outputs[k].shape);
      args.outputs.push_back(&outputs[k]);
    } else {
      args.outputs.push_back(nullptr);
    }
  }
  kernel.Run(args);
  return outputs;
}

DataType GraphInputDataType(const graph::ValueInfo& info,
                            const std::string& file) {
  const ErrorContext context{file, "", ""};
  if (!info.has_tensor_type) {
    throw UnsupportedError("graph input '" + info.name + "' is not a tensor",
                           context);
  }
  switch (info.dtype) {
    case graph::DataType::kFloat:
      return DataType::kFloat32;
    case graph::DataType::kInt64:
      return DataType::kInt64;
    default:
      throw UnsupportedError("graph input '" + info.name + "' is " +
                                 graph::DataTypeName(info.dtype) +
                                 "; foldrt runs float32 and int64 inputs",
                             context);
  }
}

// ToRuntimeTensor, with float32 and int64 bytes copied straight into the
// runtime tensor: one copy of a large weight instead of two.
Tensor ConstantTensor(const graph::Tensor& tensor, const std::string& what) {
  DataType dtype = DataType::kFloat32;
  if (tensor.dtype() == graph::DataType::kInt64) {
    dtype = DataType::kInt64;
  } else if (tensor.dtype() != graph::DataType::kFloat) {
    return ToRuntimeTensor(tensor, what);
  }
  Tensor converted = Tensor::Zeros(dtype, tensor.dims());
  if (converted.ByteSize() != tensor.bytes().size()) {
    return ToRuntimeTensor(tensor, what);  // its error
  }
  if (converted.ByteSize() > 0) {
    std::memcpy(converted.mutable_raw_data(), tensor.bytes().data(),
                converted.ByteSize());
  }
  return converted;
}

class Compiler {
 public:
  Compiler(const graph::Model& model, const CompileOptions& options)
      : model_(model),
        graph_(model.graph),
        options_(options),
        file_(model.source),
        program_(std::make_unique<Program>()) {
    program_->source = file_;
  }

  std::unique_ptr<Program> Compile() {
    opset_ = graph::OpsetVersion(model_, "");
    if (opset_ == 0) {
      throw UnsupportedError("the model imports no ai.onnx opset",
                             ErrorContext{file_, "", ""});
    }
    for (size_t i = 0; i < graph_.inputs().size(); ++i) {
      const graph::ValueInfo& info = graph_.inputs()[i];
      const int id = Id(info.name);
      program_->values[id].dtype = GraphInputDataType(info, file_);
      program_->values[id].graph_input = static_cast<int>(i);
      program_->input_values.push_back(id);
      computed_.insert(info.name);
    }
    const std::vector<const graph::Node*> order = graph_.TopologicalOrder();
    FindNeededNodes(order);
    // Constants first, so that the fusion decisions below see the constant
    // bounds of a Clip whose Constant nodes come after the Conv.
    for (const graph::Node* node : order) {
      if (needed_.count(node) != 0 && AllInputsConstant(*node)) {
        FoldConstantNode(*node);
      }
    }
    for (const graph::Node* node : order) {
      if (folded_.count(node) != 0 || absorbed_.count(node) != 0) continue;
      AddNode(*node);
    }
    for (const graph::ValueInfo& info : graph_.outputs()) {
      const int id = Id(info.name);
      Constant(info.name, ErrorContext{file_, "", ""});
      program_->output_names.push_back(info.name);
      program_->output_values.push_back(id);
    }
    ReleaseConstants();
    return std::move(program_);
  }

 private:
  int Id(const std::string& name) {
    const auto [it, inserted] =
        ids_.emplace(name, static_cast<int>(program_->values.size()));
    if (inserted) program_->values.push_back(ProgramValue{name});
    return it->second;
  }

  // The load-time constant behind `name` (an initializer, converted on
  // first use, or a folded node output), or null.
  const Tensor* Constant(const std::string& name, const ErrorContext& reader) {
    ProgramValue& value = program_->values[Id(name)];
    if (value.constant != nullptr || value.graph_input >= 0) {
      return value.constant;
    }
    const graph::Tensor* initializer = graph_.FindInitializer(name);
    if (initializer == nullptr) return nullptr;
    try {
      program_->constants.push_back(
          ConstantTensor(*initializer, "initializer '" + name + "'"));
    } catch (const Error& error) {
      RethrowWithContext(error, file_, reader.node, reader.op);
    }
    // Id() may have grown the vector: look the value up again.
    ProgramValue& stored = program_->values[Id(name)];
    stored.constant = &program_->constants.back();
    stored.dtype = stored.constant->dtype();
    return stored.constant;
  }

  std::vector<const Tensor*> InputConstants(const graph::Node& node) {
    std::vector<const Tensor*> constants;
    const ErrorContext context = graph::NodeErrorContext(node, file_);
    for (size_t i = 0; i < node.num_inputs(); ++i) {
      constants.push_back(node.has_input(i) ? Constant(node.input(i), context)
                                            : nullptr);
    }
    return constants;
  }

  bool AllInputsConstant(const graph::Node& node) {
    if (!node.implicit_inputs().empty()) return false;
    const std::vector<const Tensor*> constants = InputConstants(node);
    for (size_t i = 0; i < node.num_inputs(); ++i) {
      if (node.has_input(i) && constants[i] == nullptr) return false;
    }
    return true;
  }

  // Nodes some graph output depends on; the others are checked but not run.
  void FindNeededNodes(const std::vector<const graph::Node*>& order) {
    std::unordered_set<std::string> wanted;
    for (const graph::ValueInfo& info : graph_.outputs()) {
      wanted.insert(info.name);
      read_.insert(info.name);
    }
    for (auto it = order.rbegin(); it != order.rend(); ++it) {
      const graph::Node* node = *it;
      bool needed = false;
      for (const std::string& output : node->outputs()) {
        needed = needed || (!output.empty() && wanted.count(output) != 0);
      }
      if (!needed) continue;
      needed_.insert(node);
      for (const std::string& input : node->inputs()) {
        if (input.empty()) continue;
        wanted.insert(input);
        read_.insert(input);
      }
      for (const std::string& input : node->implicit_inputs()) {
        wanted.insert(input);
        read_.insert(input);
      }
    }
  }

  std::vector<bool> OutputsUsed(const graph::Node& node) const {
    std::vector<bool> used;
    for (const std::string& output : node.outputs()) {
      used.push_back(!output.empty() && read_.count(output) != 0);
    }
    return used;
  }

  KernelBuildContext Context(const graph::Node& node,
                             ops::Activation activation = {}) {
    return KernelBuildContext(node, opset_, InputConstants(node),
                              OutputsUsed(node), activation, options_.kernels);
  }

  std::unique_ptr<Kernel> Create(const KernelBuildContext& ctx) {
    const graph::Node& node = ctx.node();
    return InContext(file_, node.Label(), node.op_type(),
                     [&] { return CreateKernel(ctx); });
  }

  // Before a constant node's outputs are allocated (the caller adds the
  // node and op to the message).
  void CheckConstantSizes(const graph::Node& node, const KernelPlan& plan) {
    for (size_t k = 0; k < plan.outputs.size(); ++k) {
      const int64_t count = ShapeNumElements(plan.outputs[k].shape);
      if (count <= options_.max_tensor_elements) continue;
      const std::string name =
          k < node.num_outputs() ? node.output(k) : std::to_string(k);
      throw UnsupportedError(
          "constant output '" + name + "' " +
          ShapeToString(plan.outputs[k].shape) + " would have " +
          std::to_string(count) + " elements, over the limit of " +
          std::to_string(options_.max_tensor_elements) +
          " elements per tensor (SessionOptions::max_tensor_elements)");
    }
  }

  void FoldConstantNode(const graph::Node& node) {
    const KernelBuildContext ctx = Context(node);
    const std::unique_ptr<Kernel> kernel = Create(ctx);
    std::vector<Tensor> outputs =
        InContext(file_, node.Label(), node.op_type(), [&] {
          std::vector<PlanInput> plan_inputs(node.num_inputs());
          std::vector<const PlanInput*> pointers;
          std::vector<const Tensor*> tensors;
          for (size_t i = 0; i < node.num_inputs(); ++i) {
            const Tensor* value = ctx.constant(i);
            tensors.push_back(value);
            if (value == nullptr) {
              pointers.push_back(nullptr);
              continue;
            }
            plan_inputs[i] = {value->dtype(), value->shape(), value};
            pointers.push_back(&plan_inputs[i]);
          }
          KernelPlan plan = kernel->Plan(pointers);
          CheckConstantSizes(node, plan);
          if (!plan.values.empty()) return std::move(plan.values);
          std::vector<bool> present;
          for (const std::string& output : node.outputs()) {
            present.push_back(!output.empty());
          }
          return RunNow(*kernel, plan, tensors, present, options_.threads);
        });
    for (size_t k = 0; k < node.num_outputs() && k < outputs.size(); ++k) {
      if (node.output(k).empty()) continue;
      program_->constants.push_back(std::move(outputs[k]));
      ProgramValue& value = program_->values[Id(node.output(k))];
      value.constant = &program_->constants.back();
      value.dtype = value.constant->dtype();
    }
    folded_.insert(&node);
    ++program_->folded_constants;
  }

  // What AddNode folds into a node's step: the activation its kernel
  // applies, the nodes it replaces, and the node whose output 0 the step
  // writes instead of its own.
  struct Fusion {
    ops::Activation activation;
    std::vector<const graph::Node*> absorbed;
    const graph::Node* output_node = nullptr;  // null: no fusion
    std::string label;                         // "Relu", "Swish"
    // A residual Add fused into a Conv: the Add's other operand, which the
    // step reads as input 3 (KernelBuildContext::fused_residual).
    std::string residual;
  };

  // Conv -> Add(y, r) (either order) -> optionally ReLU / Clip / Sigmoid:
  // the Add runs as the convolution's sum post-op, y never exists. Only
  // when y's one reader is the Add, r is not y, not a constant (a constant
  // Add is a bias; folding it belongs to a graph pass) and already computed
  // when the Conv runs, since the step takes the Conv's place. The Add's
  // result must not be larger than y (checked when planning).
  Fusion ResidualAdd(const graph::Node& conv) {
    Fusion fusion;
    if (conv.op_type() != "Conv" ||
        !KernelFusesActivation(conv.op_type(), ops::Activation::Kind::kRelu)) {
      return fusion;
    }
    const std::string& y = conv.output(0);
    const std::vector<graph::Use>& uses = graph_.Uses(y);
    if (uses.size() != 1 || uses[0].input_index < 0) return fusion;
    const graph::Node* add = uses[0].node;
    if (add->op_type() != "Add" || !graph::IsDefaultDomain(add->domain()) ||
        add->num_inputs() != 2 || !add->has_input(0) || !add->has_input(1) ||
        add->num_outputs() != 1 || add->output(0).empty() ||
        needed_.count(add) == 0) {
      return fusion;
    }
    const std::string& r = add->input(1 - uses[0].input_index);
    const ErrorContext context = graph::NodeErrorContext(*add, file_);
    if (r == y || Constant(r, context) != nullptr || computed_.count(r) == 0) {
      return fusion;
    }
    fusion.absorbed = {add};
    fusion.output_node = add;
    fusion.label = "Add";
    fusion.residual = r;
    // An activation after the Add, unless the sum is itself read elsewhere.
    const std::string& sum = add->output(0);
    const std::vector<graph::Use>& sum_uses = graph_.Uses(sum);
    if (graph_.IsGraphOutput(sum) || sum_uses.size() != 1 ||
        sum_uses[0].input_index != 0) {
      return fusion;
    }
    const graph::Node* act = sum_uses[0].node;
    ops::Activation activation;
    if (needed_.count(act) == 0 || act->num_outputs() == 0 ||
        act->output(0).empty() ||
        !FusibleActivation(*act, opset_, InputConstants(*act), &activation) ||
        !KernelFusesActivation(conv.op_type(), activation.kind)) {
      return fusion;
    }
    fusion.activation = activation;
    fusion.absorbed.push_back(act);
    fusion.output_node = act;
    fusion.label = "Add+" + act->op_type();
    return fusion;
  }

  // The Mul of SiLU written as Sigmoid -> Mul: `sigmoid` reads x as its only
  // input, and its output s (not a graph output) has exactly one reader, a
  // Mul of {x, s} in either order. The Mul, or null.
  const graph::Node* SwishMul(const graph::Node& sigmoid) {
    if (sigmoid.op_type() != "Sigmoid" ||
        !graph::IsDefaultDomain(sigmoid.domain()) ||
        sigmoid.num_inputs() != 1 || !sigmoid.has_input(0) ||
        sigmoid.num_outputs() != 1 || sigmoid.output(0).empty() ||
        needed_.count(&sigmoid) == 0) {
      return nullptr;
    }
    const std::string& x = sigmoid.input(0);
    const std::string& s = sigmoid.output(0);
    if (graph_.IsGraphOutput(s)) return nullptr;
    const std::vector<graph::Use>& uses = graph_.Uses(s);
    if (uses.size() != 1 || uses[0].input_index < 0) return nullptr;
    const graph::Node* mul = uses[0].node;
    if (mul->op_type() != "Mul" || !graph::IsDefaultDomain(mul->domain()) ||
        mul->num_inputs() != 2 || mul->num_outputs() != 1 ||
        mul->output(0).empty() || needed_.count(mul) == 0) {
      return nullptr;
    }
    const int other = 1 - uses[0].input_index;
    if (!mul->has_input(other) || mul->input(other) != x) return nullptr;
    return mul;
  }

  // The node(s) to fuse into `node`, if its kernel can apply the activation
  // (KernelFusesActivation) and its output y is no graph output:
  //  - y's only reader is a ReLU / constant-bound Clip / Sigmoid: that node;
  //  - y has exactly two readers, Sigmoid(y) and the Mul(y, Sigmoid(y)) of
  //    SwishMul: both, as one Swish; the step writes the Mul's output.
  Fusion FusibleConsumer(const graph::Node& node) {
    Fusion fusion;
    if (!graph::IsDefaultDomain(node.domain()) || node.num_outputs() == 0 ||
        node.output(0).empty() || graph_.IsGraphOutput(node.output(0))) {
      return fusion;
    }
    const std::vector<graph::Use>& uses = graph_.Uses(node.output(0));
    if (uses.size() == 1 && uses[0].node->op_type() == "Add") {
      return ResidualAdd(node);
    }
    if (uses.size() == 2) {
      for (size_t i = 0; i < 2; ++i) {
        const graph::Node* sigmoid = uses[i].node;
        const graph::Node* mul = uses[1 - i].node;
        if (uses[i].input_index != 0 || mul == sigmoid ||
            SwishMul(*sigmoid) != mul ||
            !KernelFusesActivation(node.op_type(),
                                   ops::Activation::Kind::kSwish)) {
          continue;
        }
        fusion.activation = ops::Activation::Swish();
        fusion.absorbed = {sigmoid, mul};
        fusion.output_node = mul;
        fusion.label = "Swish";
        return fusion;
      }
      return fusion;
    }
    if (uses.size() != 1 || uses[0].input_index != 0) return fusion;
    const graph::Node* consumer = uses[0].node;
    if (needed_.count(consumer) == 0 || consumer->num_outputs() == 0 ||
        consumer->output(0).empty()) {
      return fusion;
    }
    ops::Activation activation;
    if (!FusibleActivation(*consumer, opset_, InputConstants(*consumer),
                           &activation) ||
        !KernelFusesActivation(node.op_type(), activation.kind)) {
      return fusion;
    }
    fusion.activation = activation;
    fusion.absorbed = {consumer};
    fusion.output_node = consumer;
    fusion.label = consumer->op_type();
    return fusion;
  }

  // The only reader of `node`'s output 0 when it is a `op_type` node
  // reading it as input 0, needed, and the output is no graph output.
  const graph::Node* SoleReader(const graph::Node& node,
                                const std::string& op_type) {
    if (node.num_outputs() != 1 || node.output(0).empty() ||
        graph_.IsGraphOutput(node.output(0))) {
      return nullptr;
    }
    const std::vector<graph::Use>& uses = graph_.Uses(node.output(0));
    if (uses.size() != 1 || uses[0].input_index != 0) return nullptr;
    const graph::Node* reader = uses[0].node;
    if (reader->op_type() != op_type ||
        !graph::IsDefaultDomain(reader->domain()) ||
        needed_.count(reader) == 0 || reader->num_outputs() != 1 ||
        reader->output(0).empty()) {
      return nullptr;
    }
    return reader;
  }

  // Reshape -> Transpose -> Reshape (ShuffleNet's channel shuffle) as one
  // step (CreateReshapeTransposeReshape): it can stay channels-last. Both
  // Reshapes need their shape input; the middle values are read by nobody
  // else. The step takes the second Reshape's place, where its shape input
  // (computed from Shape ops after the first) is ready: the first Reshape
  // is deferred to it. Returns whether `first` starts such a chain.
  bool DeferReshapeChain(const graph::Node& first) {
    if (first.op_type() != "Reshape" ||
        !graph::IsDefaultDomain(first.domain()) || first.num_inputs() < 2 ||
        !first.has_input(1)) {
      return false;
    }
    const graph::Node* transpose = SoleReader(first, "Transpose");
    const graph::Node* second =
        transpose != nullptr ? SoleReader(*transpose, "Reshape") : nullptr;
    if (second == nullptr || second->num_inputs() < 2 ||
        !second->has_input(1)) {
      return false;
    }
    // Each node checked as it would be alone.
    Create(Context(first));
    Create(Context(*transpose));
    Create(Context(*second));
    absorbed_.insert(transpose);
    deferred_chains_[second] = {&first, transpose};
    return true;
  }

  void AddReshapeChain(const graph::Node& second) {
    const auto [first, transpose] = deferred_chains_.at(&second);
    const KernelBuildContext first_context = Context(*first);
    const KernelBuildContext second_context = Context(second);
    ProgramStep step;
    step.node = first->Label();
    step.op = "Reshape+Transpose+Reshape";
    step.kernel = InContext(file_, first->Label(), first->op_type(), [&] {
      return CreateReshapeTransposeReshape(first_context, *transpose,
                                           second_context);
    });
    step.inputs = {Id(first->input(0)), Id(first->input(1)),
                   Id(second.input(1))};
    const int out = Id(second.output(0));
    program_->values[out].dtype = program_->values[step.inputs[0]].dtype;
    step.outputs = {out};
    computed_.insert(second.output(0));
    program_->steps.push_back(std::move(step));
  }

  void AddNode(const graph::Node& node) {
    const bool needed = needed_.count(&node) != 0;
    if (deferred_chains_.count(&node) != 0) {
      AddReshapeChain(node);
      return;
    }
    if (needed && DeferReshapeChain(node)) return;
    Fusion fused;
    if (needed) fused = FusibleConsumer(node);
    // A Sigmoid -> Mul pair whose input could not take it as a fused
    // activation still runs as one step: x * sigmoid(x) in one pass.
    bool standalone_swish = false;
    if (needed && fused.output_node == nullptr) {
      if (const graph::Node* mul = SwishMul(node)) {
        fused.activation = ops::Activation::Swish();
        fused.absorbed = {mul};
        fused.output_node = mul;
        standalone_swish = true;
      }
    }
    KernelBuildContext context = Context(node, fused.activation);
    context.set_fused_residual(!fused.residual.empty());
    std::unique_ptr<Kernel> kernel = Create(context);
    if (!needed) return;  // checked, never run
    ProgramStep step;
    step.node = node.Label();
    step.op = standalone_swish ? "Swish" : node.op_type();
    std::vector<DataType> input_dtypes;
    for (size_t i = 0; i < node.num_inputs(); ++i) {
      if (!node.has_input(i)) {
        step.inputs.push_back(-1);
        input_dtypes.push_back(DataType::kFloat32);
        continue;
      }
      const int id = Id(node.input(i));
      step.inputs.push_back(id);
      input_dtypes.push_back(program_->values[id].dtype);
    }
    if (!fused.residual.empty()) {
      // Input 3, after X, W and B (absent or not).
      step.inputs.resize(3, -1);
      input_dtypes.resize(3, DataType::kFloat32);
      const int id = Id(fused.residual);
      step.inputs.push_back(id);
      input_dtypes.push_back(program_->values[id].dtype);
    }
    const DataType dtype = kernel->OutputDataType(input_dtypes);
    for (size_t k = 0; k < node.num_outputs(); ++k) {
      std::string name = node.output(k);
      if (k == 0 && fused.output_node != nullptr) {
        name = fused.output_node->output(0);
      }
      if (name.empty()) {
        step.outputs.push_back(-1);
        continue;
      }
      const int id = Id(name);
      program_->values[id].dtype = dtype;
      step.outputs.push_back(id);
      computed_.insert(name);
    }
    if (fused.output_node != nullptr) {
      absorbed_.insert(fused.absorbed.begin(), fused.absorbed.end());
      if (!standalone_swish) step.op += "+" + fused.label;
      ++program_->fused_activations;
    }
    // Constant inputs the kernel is done with (packed into its oneDNN op):
    // the step no longer reads them, and ReleaseConstants frees each one
    // that no other reader needs.
    for (size_t i = 0; i < node.num_inputs() && i < step.inputs.size(); ++i) {
      const int id = step.inputs[i];
      if (id >= 0 && program_->values[id].constant != nullptr &&
          kernel->ReleasesConstantInput(i)) {
        released_reads_.emplace(&node, static_cast<int>(i));
        step.inputs[i] = -1;
      }
    }
    step.kernel = std::move(kernel);
    program_->steps.push_back(std::move(step));
  }

  // Frees the constants whose every reader is a step that let go of them
  // (above), so that the only copy left of a weight is the one its oneDNN
  // op holds until it packed it. Kept: graph outputs, and constants read by
  // anything else, a node evaluated at load, one fused into another's step
  // or one checked but not run included. The value stays, without its
  // constant: no step reads it any more.
  void ReleaseConstants() {
    std::unordered_map<const Tensor*, Tensor*> storage;
    for (Tensor& tensor : program_->constants) storage[&tensor] = &tensor;
    for (ProgramValue& value : program_->values) {
      if (value.constant == nullptr || graph_.IsGraphOutput(value.name)) {
        continue;
      }
      const std::vector<graph::Use>& uses = graph_.Uses(value.name);
      bool unread = !uses.empty();
      for (const graph::Use& use : uses) {
        unread = unread && released_reads_.count(std::make_pair(
                               static_cast<const graph::Node*>(use.node),
                               use.input_index)) != 0;
      }
      if (!unread) continue;
      *storage.at(value.constant) = Tensor();
      value.constant = nullptr;
    }
  }

  const graph::Model& model_;
  const graph::Graph& graph_;
  const CompileOptions& options_;
  const std::string& file_;
  int64_t opset_ = 0;
  std::unique_ptr<Program> program_;
  std::unordered_map<std::string, int> ids_;
  std::unordered_set<const graph::Node*> needed_;
  std::unordered_set<std::string> read_;  // by needed nodes or the caller
  std::unordered_set<const graph::Node*> folded_;
  std::unordered_set<const graph::Node*> absorbed_;
  // (node, input index) of the constant inputs the node's step let go of
  // (Kernel::ReleasesConstantInput).
  std::set<std::pair<const graph::Node*, int>> released_reads_;
  // Values the steps added so far (and graph inputs) compute: what a step
  // added now may read.
  std::unordered_set<std::string> computed_;
  // Second Reshape of a chain -> (first Reshape, Transpose).
  std::unordered_map<const graph::Node*,
                     std::pair<const graph::Node*, const graph::Node*>>
      deferred_chains_;
};

}  // namespace

std::unique_ptr<Program> CompileProgram(const graph::Model& model,
                                        const CompileOptions& options) {
  return Compiler(model, options).Compile();
}

// ------------------------------------------------------ planning

namespace {

// Concat chains, DenseNet's dense blocks: Concat(x0, f1), Concat(x0, f1, f2),
// ... each copy the growing feature maps again, quadratic in the block's
// depth.
//
// Pattern: planned Concat steps A before B along the channel axis
// (Kernel::ConcatenatesChannels) whose outputs are arena buffers in one
// layout and whose planned inputs (value ids, already in that layout)
// begin B's with all of A's.
// Preconditions on A's output: no view aliases it, no other Concat
// extends it, and every step reading it can: when channels [0, C_A) of
// B's buffer are one contiguous run (batch 1, plain or blocked) any step;
// otherwise only kernels that ReadsChannelSlice for that input, which are
// planned again with PlanInput::buffer_channels.
// Then A's output becomes channels [0, C_A) of B's buffer (a kAlias), A
// copies its inputs there and B only the inputs after A's (chains of any
// length share the last one's buffer). Returns the output value ids of
// every Concat in a chain: their buffers must not be written over in
// place.
std::unordered_set<int> ShareConcatBuffers(const Program& program, Plan* plan,
                                           int threads) {
  using Kind = PlannedValue::Kind;
  std::vector<PlannedValue>& values = plan->values;
  std::vector<PlannedStep>& steps = plan->steps;
  std::unordered_set<int> viewed;
  for (const PlannedValue& value : values) {
    if (value.kind == Kind::kAlias) viewed.insert(value.index);
  }
  // Value id -> (step position, input index) of each read.
  std::unordered_map<int, std::vector<std::pair<size_t, size_t>>> readers;
  for (size_t p = 0; p < steps.size(); ++p) {
    for (size_t i = 0; i < steps[p].inputs.size(); ++i) {
      if (steps[p].inputs[i] >= 0)
        readers[steps[p].inputs[i]].emplace_back(p, i);
    }
  }
  const auto is_concat = [&](size_t p) {
    const PlannedStep& step = steps[p];
    if (step.step == kConversion || step.outputs.empty() ||
        step.outputs[0] < 0) {
      return false;
    }
    const PlannedValue& out = values[step.outputs[0]];
    if (out.kind != Kind::kArena || out.dtype != DataType::kFloat32 ||
        out.shape.size() < 2) {
      return false;
    }
    for (int id : step.inputs) {
      if (id < 0) return false;
    }
    return program.steps[step.step].kernel->ConcatenatesChannels(
        step.state.get());
  };
  const auto contiguous_prefix = [&](int id) {
    return values[id].layout != ops::Layout::kNhwc && values[id].shape[0] == 1;
  };
  const auto can_be_slice = [&](int id) {
    if (viewed.count(id) != 0) return false;
    if (contiguous_prefix(id)) return true;
    for (const auto& [q, i] : readers[id]) {
      const PlannedStep& reader = steps[q];
      if (reader.step == kConversion ||
          !program.steps[reader.step].kernel->ReadsChannelSlice(i)) {
        return false;
      }
    }
    return true;
  };

  std::vector<int> previous(steps.size(), -1);  // B -> the A it extends
  std::vector<int> next(steps.size(), -1);      // A -> the B extending it
  std::vector<size_t> concats;
  for (size_t p = 0; p < steps.size(); ++p) {
    if (!is_concat(p)) continue;
    const PlannedStep& b = steps[p];
    int best = -1;  // the longest prefix: the previous layer of the block
    for (size_t a_pos : concats) {
      const PlannedStep& a = steps[a_pos];
      const int a_out = a.outputs[0];
      if (next[a_pos] >= 0 || a.inputs.size() >= b.inputs.size() ||
          values[a_out].layout != values[b.outputs[0]].layout ||
          !std::equal(a.inputs.begin(), a.inputs.end(), b.inputs.begin()) ||
          !can_be_slice(a_out)) {
        continue;
      }
      if (best < 0 || a.inputs.size() > steps[best].inputs.size()) {
        best = static_cast<int>(a_pos);
      }
    }
    concats.push_back(p);
    if (best >= 0) {
      previous[p] = best;
      next[best] = static_cast<int>(p);
    }
  }

  // Input counts before the loop below drops the inputs already copied.
  std::vector<size_t> input_count(steps.size());
  for (size_t p : concats) input_count[p] = steps[p].inputs.size();
  std::unordered_set<int> members;
  std::set<size_t> replan;  // readers of slices, by step position
  for (size_t p : concats) {
    if (previous[p] < 0 && next[p] < 0) continue;
    size_t root = p;
    while (next[root] >= 0) root = static_cast<size_t>(next[root]);
    const int root_out = steps[root].outputs[0];
    const int out = steps[p].outputs[0];
    members.insert(out);
    if (root != p) {
      PlannedValue& value = values[out];
      value.kind = Kind::kAlias;
      value.index = root_out;
      if (!contiguous_prefix(out)) {
        value.buffer_channels = values[root_out].shape[1];
        for (const auto& [q, i] : readers[out]) replan.insert(q);
      }
      ++plan->shared_concats;
    }
    auto copy = std::make_unique<SharedConcatCopy>();
    copy->layout = values[out].layout;
    copy->buffer_channels = values[root_out].shape[1];
    // Inputs the Concat before it already put in the buffer are skipped.
    size_t first = 0;
    int64_t offset = 0;
    if (previous[p] >= 0) {
      first = input_count[previous[p]];
      offset = values[steps[previous[p]].outputs[0]].shape[1];
    }
    std::vector<int> inputs(steps[p].inputs.begin() + first,
                            steps[p].inputs.end());
    for (int id : inputs) {
      copy->channel_offsets.push_back(offset);
      offset += values[id].shape[1];
    }
    steps[p].inputs = std::move(inputs);
    steps[p].shared_concat = std::move(copy);
  }

  // Readers of a slice: planned again now that it has a stride.
  for (size_t q : replan) {
    PlannedStep& reader = steps[q];
    const ProgramStep& step = program.steps[reader.step];
    std::vector<PlanInput> plan_inputs(reader.inputs.size());
    std::vector<const PlanInput*> pointers;
    for (size_t i = 0; i < reader.inputs.size(); ++i) {
      const int id = reader.inputs[i];
      if (id < 0) {
        pointers.push_back(nullptr);
        continue;
      }
      const PlannedValue& value = values[id];
      plan_inputs[i] = {value.dtype, value.shape, value.known, value.layout,
                        value.buffer_channels};
      pointers.push_back(&plan_inputs[i]);
    }
    InContext(program.source, step.node, step.op, [&] {
      KernelPlan kernel_plan = step.kernel->Plan(pointers);
      reader.state = std::move(kernel_plan.state);
      step.kernel->Prepare(reader.state.get(), threads);
    });
  }
  return members;
}

}  // namespace

std::unique_ptr<const Plan> BuildPlan(
    const Program& program,
    const std::vector<std::vector<int64_t>>& input_shapes,
    const PlanOptions& options) {
  using Kind = PlannedValue::Kind;
  const int threads = options.threads;
  auto plan = std::make_unique<Plan>();
  std::vector<PlannedValue>& values = plan->values;
  values.resize(program.values.size());
  for (size_t id = 0; id < program.values.size(); ++id) {
    const ProgramValue& value = program.values[id];
    values[id].dtype = value.dtype;
    if (value.constant != nullptr) {
      values[id].kind = Kind::kKnown;
      values[id].known = value.constant;
      values[id].shape = value.constant->shape();
    }
  }
  for (size_t i = 0; i < program.input_values.size(); ++i) {
    PlannedValue& value = values[program.input_values[i]];
    value.kind = Kind::kInput;
    value.index = static_cast<int>(i);
    value.shape = input_shapes[i];
  }
  std::vector<bool> is_output(values.size(), false);
  for (int id : program.output_values) is_output[id] = true;
  const auto set_known = [&](int id, Tensor tensor) {
    plan->known_values.push_back(std::move(tensor));
    values[id].kind = Kind::kKnown;
    values[id].known = &plan->known_values.back();
    values[id].dtype = values[id].known->dtype();
    values[id].shape = values[id].known->shape();
  };
  // A new arena value (a converted copy or a blocked temporary).
  const auto add_value = [&](const PlannedValue& like, ops::Layout layout) {
    PlannedValue value;
    value.kind = Kind::kArena;
    value.dtype = like.dtype;
    value.shape = like.shape;
    value.layout = layout;
    values.push_back(std::move(value));
    is_output.push_back(false);
    return static_cast<int>(values.size() - 1);
  };
  const auto add_conversion = [&](int from, int to, const ProgramStep& step) {
    PlannedStep conversion;
    conversion.step = kConversion;
    conversion.inputs = {from};
    conversion.outputs = {to};
    conversion.reorder = InContext(program.source, step.node, step.op, [&] {
      return std::make_shared<const ops::LayoutReorder>(
          values[from].shape, values[from].layout, values[to].layout);
    });
    plan->steps.push_back(std::move(conversion));
    ++plan->layout_conversions;
  };
  // Value `id` in `layout`: itself, or a copy converted once and shared by
  // every reader that wants that layout.
  std::map<std::pair<int, ops::Layout>, int> converted;
  const auto in_layout = [&](int id, ops::Layout layout,
                             const ProgramStep& step) {
    if (values[id].layout == layout) return id;
    const auto key = std::make_pair(id, layout);
    const auto it = converted.find(key);
    if (it != converted.end()) return it->second;
    const int copy = add_value(values[id], layout);
    add_conversion(id, copy, step);
    converted.emplace(key, copy);
    return copy;
  };

  for (size_t s = 0; s < program.steps.size(); ++s) {
    const ProgramStep& step = program.steps[s];
    std::vector<PlanInput> plan_inputs(step.inputs.size());
    std::vector<const PlanInput*> pointers;
    std::vector<const Tensor*> known_inputs;
    bool all_known = true;
    for (size_t i = 0; i < step.inputs.size(); ++i) {
      const int id = step.inputs[i];
      if (id < 0) {
        pointers.push_back(nullptr);
        known_inputs.push_back(nullptr);
        continue;
      }
      const PlannedValue& value = values[id];
      if (value.kind == Kind::kUnset) {
        throw FormatError("value '" + program.values[id].name +
                              "' is read before it is computed",
                          ErrorContext{program.source, step.node, step.op});
      }
      plan_inputs[i] = {value.dtype, value.shape, value.known, value.layout};
      pointers.push_back(&plan_inputs[i]);
      known_inputs.push_back(value.known);
      all_known = all_known && value.kind == Kind::kKnown;
    }
    KernelPlan kernel_plan = InContext(program.source, step.node, step.op, [&] {
      return step.kernel->Plan(pointers);
    });
    if (kernel_plan.outputs.size() != step.outputs.size()) {
      throw InvalidArgumentError(
          "the kernel planned " + std::to_string(kernel_plan.outputs.size()) +
              " outputs for a node with " + std::to_string(step.outputs.size()),
          ErrorContext{program.source, step.node, step.op});
    }
    if (!kernel_plan.input_layouts.empty() &&
        kernel_plan.input_layouts.size() != step.inputs.size()) {
      throw InvalidArgumentError(
          "the kernel asked for layouts of " +
              std::to_string(kernel_plan.input_layouts.size()) +
              " inputs for a node with " + std::to_string(step.inputs.size()),
          ErrorContext{program.source, step.node, step.op});
    }
    // Outputs the shapes alone determine (Shape, Constant).
    if (!kernel_plan.values.empty()) {
      for (size_t k = 0; k < step.outputs.size(); ++k) {
        if (step.outputs[k] >= 0) {
          set_known(step.outputs[k], std::move(kernel_plan.values[k]));
        }
      }
      continue;
    }
    size_t output_bytes = 0;
    std::vector<bool> present;
    for (size_t k = 0; k < step.outputs.size(); ++k) {
      present.push_back(step.outputs[k] >= 0);
      if (present.back()) {
        output_bytes += static_cast<size_t>(
                            ShapeNumElements(kernel_plan.outputs[k].shape)) *
                        DataTypeSize(kernel_plan.outputs[k].dtype);
      }
    }
    // Every input known (shape arithmetic): compute it now. Known values
    // are plain, and so is what a kernel computes from them.
    if (all_known && output_bytes <= kMaxPlanTimeBytes) {
      std::vector<Tensor> outputs =
          InContext(program.source, step.node, step.op, [&] {
            return RunNow(*step.kernel, kernel_plan, known_inputs, present,
                          threads);
          });
      for (size_t k = 0; k < step.outputs.size(); ++k) {
        if (present[k]) set_known(step.outputs[k], std::move(outputs[k]));
      }
      continue;
    }
    // The inputs in the layouts the kernel asked for.
    std::vector<int> inputs = step.inputs;
    for (size_t i = 0; i < inputs.size(); ++i) {
      if (inputs[i] < 0) continue;
      const ops::Layout wanted = kernel_plan.input_layouts.empty()
                                     ? ops::Layout::kNchw
                                     : kernel_plan.input_layouts[i];
      inputs[i] = in_layout(inputs[i], wanted, step);
    }
    // Views: output 0 shares its input's buffer and the step does not run.
    const int alias = step.kernel->AliasedInput();
    if (alias >= 0 && static_cast<size_t>(alias) < inputs.size() &&
        inputs[alias] >= 0 && step.outputs[0] >= 0 &&
        !is_output[step.outputs[0]]) {
      const int source_id = inputs[alias];
      const int out = step.outputs[0];
      const ValueType& type = kernel_plan.outputs[0];
      if (values[source_id].kind == Kind::kKnown) {
        set_known(out, Tensor::ConstView(type.dtype, type.shape,
                                         values[source_id].known->raw_data()));
      } else {
        values[out].kind = Kind::kAlias;
        values[out].index = values[source_id].kind == Kind::kAlias
                                ? values[source_id].index
                                : source_id;
        values[out].dtype = type.dtype;
        values[out].shape = type.shape;
        values[out].layout = type.layout;
      }
      // Other outputs of a view op (Dropout's mask) are unused: zeros.
      for (size_t k = 1; k < step.outputs.size(); ++k) {
        if (present[k]) {
          set_known(step.outputs[k],
                    Tensor::Zeros(kernel_plan.outputs[k].dtype,
                                  kernel_plan.outputs[k].shape));
        }
      }
      continue;
    }
    PlannedStep planned;
    planned.step = static_cast<int>(s);
    planned.inputs = std::move(inputs);
    planned.outputs = step.outputs;
    planned.state = std::move(kernel_plan.state);
    // Outputs in another layout that must be plain (graph outputs always;
    // every one without blocked_layouts) go through a temporary.
    std::vector<std::pair<int, int>> after;  // (temporary, value)
    for (size_t k = 0; k < step.outputs.size(); ++k) {
      if (!present[k]) continue;
      const int id = step.outputs[k];
      PlannedValue& value = values[id];
      value.dtype = kernel_plan.outputs[k].dtype;
      value.shape = kernel_plan.outputs[k].shape;
      if (is_output[id]) {
        value.kind = Kind::kOutput;
        value.index = static_cast<int>(plan->output_buffers.size());
        plan->output_buffers.push_back(id);
      } else {
        value.kind = Kind::kArena;
      }
      const ops::Layout layout = kernel_plan.outputs[k].layout;
      if (layout == ops::Layout::kNchw) continue;
      if (is_output[id] || !options.blocked_layouts) {
        const int temporary = add_value(values[id], layout);
        planned.outputs[k] = temporary;
        after.emplace_back(temporary, id);
      } else {
        value.layout = layout;
      }
    }
    plan->steps.push_back(std::move(planned));
    for (const auto& [temporary, id] : after) {
      add_conversion(temporary, id, step);
    }
  }

  // Kernel::Prepare, last step first: a network's head holds its biggest
  // weights (vgg11_bn's first Gemm: 411 MB), and packing them while the
  // plain copy still exists doubles them for a moment; done first, that
  // moment does not stack on the convolutions' packed weights (Winograd's
  // are 4x the plain ones). vgg11_bn's peak RSS drops by about 100 MB.
  for (auto it = plan->steps.rbegin(); it != plan->steps.rend(); ++it) {
    if (it->step == kConversion) continue;
    const ProgramStep& step = program.steps[it->step];
    InContext(program.source, step.node, step.op,
              [&] { step.kernel->Prepare(it->state.get(), threads); });
  }
  const std::unordered_set<int> shared_concats =
      ShareConcatBuffers(program, plan.get(), threads);

  // Lifetimes of the arena values, in positions of the running steps.
  const auto root_of = [&](int id) {
    return values[id].kind == Kind::kAlias ? values[id].index : id;
  };
  std::unordered_map<int, size_t> buffer_of;  // value id -> buffer index
  std::vector<BufferLifetime> buffers;
  std::vector<int> buffer_values;
  for (size_t p = 0; p < plan->steps.size(); ++p) {
    const PlannedStep& step = plan->steps[p];
    for (int id : step.inputs) {
      if (id < 0) continue;
      const auto it = buffer_of.find(root_of(id));
      if (it != buffer_of.end()) {
        buffers[it->second].last_step = static_cast<int>(p);
      }
    }
    for (int output : step.outputs) {
      // A Concat sharing a later one's buffer writes that buffer: it lives
      // from the first Concat of the chain.
      const int id = output < 0 ? output : root_of(output);
      if (id < 0 || values[id].kind != Kind::kArena || buffer_of.count(id)) {
        continue;
      }
      const PlannedValue& value = values[id];
      const size_t elements =
          value.layout == ops::Layout::kNchw
              ? static_cast<size_t>(ShapeNumElements(value.shape))
              : ops::BufferElements(ops::SplitChannelShape(value.shape),
                                    value.layout);
      buffer_of[id] = buffers.size();
      buffers.push_back(BufferLifetime{elements * DataTypeSize(value.dtype),
                                       static_cast<int>(p),
                                       static_cast<int>(p)});
      buffer_values.push_back(id);
    }
  }
  // In-place steps (Kernel::InPlaceInput): output 0 takes over the buffer
  // of input k when the step is that buffer's last reader, no other input
  // of the step reads it, and both are arena buffers of one size. The two
  // buffers become one that lives from r's first writer to y's last
  // reader.
  std::vector<size_t> merged_into(buffers.size());
  for (size_t b = 0; b < buffers.size(); ++b) merged_into[b] = b;
  for (size_t p = 0; p < plan->steps.size(); ++p) {
    const PlannedStep& step = plan->steps[p];
    if (step.step == kConversion) continue;
    const int k = program.steps[step.step].kernel->InPlaceInput();
    if (k < 0 || static_cast<size_t>(k) >= step.inputs.size() ||
        step.inputs[k] < 0 || step.outputs.empty() || step.outputs[0] < 0) {
      continue;
    }
    const int source = root_of(step.inputs[k]);
    // A shared Concat buffer still holds what later Concats of its chain
    // read.
    if (shared_concats.count(source) != 0) continue;
    const auto source_it = buffer_of.find(source);
    const auto target_it = buffer_of.find(step.outputs[0]);
    if (source_it == buffer_of.end() || target_it == buffer_of.end()) continue;
    const size_t r = merged_into[source_it->second];
    const size_t y = target_it->second;
    bool shared = false;
    for (size_t i = 0; i < step.inputs.size(); ++i) {
      shared = shared || (static_cast<int>(i) != k && step.inputs[i] >= 0 &&
                          root_of(step.inputs[i]) == source);
    }
    if (shared || buffers[r].last_step != static_cast<int>(p) ||
        buffers[r].bytes != buffers[y].bytes) {
      continue;
    }
    buffers[r].last_step = buffers[y].last_step;
    merged_into[y] = r;
  }
  std::vector<BufferLifetime> kept;
  std::vector<size_t> kept_index(buffers.size());
  for (size_t b = 0; b < buffers.size(); ++b) {
    if (merged_into[b] != b) continue;
    kept_index[b] = kept.size();
    kept.push_back(buffers[b]);
  }
  const ArenaLayout layout = PlanArena(kept);
  for (size_t b = 0; b < buffers.size(); ++b) {
    values[buffer_values[b]].offset =
        layout.offsets[kept_index[merged_into[b]]];
  }
  plan->arena_bytes = layout.total_bytes;
  plan->arenas = std::make_unique<ArenaPool>(layout.total_bytes);
  return plan;
}

ArenaPool::~ArenaPool() {
  for (char* arena : free_) {
    ::operator delete(arena, std::align_val_t(kArenaAlignment));
  }
}

char* ArenaPool::Take() {
  if (bytes_ == 0) return nullptr;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!free_.empty()) {
      char* arena = free_.back();
      free_.pop_back();
      return arena;
    }
  }
  return static_cast<char*>(
      ::operator new(bytes_, std::align_val_t(kArenaAlignment)));
}

void ArenaPool::Give(char* arena) {
  if (arena == nullptr) return;
  std::lock_guard<std::mutex> lock(mu_);
  free_.push_back(arena);
}

// ------------------------------------------------------ execution

namespace {

using ProfileClock = std::chrono::steady_clock;

double SecondsSince(ProfileClock::time_point start) {
  return std::chrono::duration<double>(ProfileClock::now() - start).count();
}

struct ProfileState {
  std::atomic<bool> enabled{false};
  std::mutex mu;
  std::vector<uint64_t> order;  // program ids, first run first
  std::unordered_map<uint64_t, ProgramProfile> programs;
};

void PrintProfileAtExit() {
  for (const ProgramProfile& profile : ProfileSnapshot()) {
    std::fprintf(stderr, "%s", FormatProfile(profile, 15).c_str());
  }
}

ProfileState& Profiler() {
  // Never destroyed: the exit report reads it after static destructors may
  // have run.
  static ProfileState* const state = [] {
    auto* s = new ProfileState;
    const char* env = std::getenv("FOLDRT_PROFILE");
    if (env != nullptr && std::string(env) == "1") {
      s->enabled.store(true, std::memory_order_relaxed);
      std::atexit(PrintProfileAtExit);
    }
    return s;
  }();
  return *state;
}

// Adds one ExecutePlan call: `step_seconds` per planned step.
void RecordProfile(const Program& program, const Plan& plan,
                   const std::vector<double>& step_seconds,
                   double total_seconds) {
  ProfileState& state = Profiler();
  std::lock_guard<std::mutex> lock(state.mu);
  auto [it, inserted] = state.programs.try_emplace(program.id);
  ProgramProfile& profile = it->second;
  if (inserted) {
    state.order.push_back(program.id);
    profile.source = program.source;
    // One entry per program step, then one for all layout conversions.
    profile.steps.resize(program.steps.size() + 1);
    for (size_t s = 0; s < program.steps.size(); ++s) {
      profile.steps[s].node = program.steps[s].node;
      profile.steps[s].op = program.steps[s].op;
    }
    profile.steps.back().node = "(layout conversions)";
    profile.steps.back().op = "Reorder";
  }
  ++profile.runs;
  profile.seconds += total_seconds;
  // The conversions count as one step per run, so that ms/run is their
  // sum.
  StepProfile& conversions = profile.steps.back();
  for (size_t p = 0; p < plan.steps.size(); ++p) {
    const int index = plan.steps[p].step;
    if (index == kConversion) {
      conversions.seconds += step_seconds[p];
      continue;
    }
    StepProfile& step = profile.steps[index];
    ++step.calls;
    step.seconds += step_seconds[p];
  }
  if (plan.layout_conversions > 0) ++conversions.calls;
}

}  // namespace

uint64_t NewProgramId() {
  static std::atomic<uint64_t> next{1};
  return next.fetch_add(1, std::memory_order_relaxed);
}

void SetProfiling(bool on) {
  Profiler().enabled.store(on, std::memory_order_relaxed);
}

bool ProfilingEnabled() {
  return Profiler().enabled.load(std::memory_order_relaxed);
}

std::vector<ProgramProfile> ProfileSnapshot() {
  ProfileState& state = Profiler();
  std::lock_guard<std::mutex> lock(state.mu);
  std::vector<ProgramProfile> out;
  for (uint64_t id : state.order) {
    ProgramProfile profile = state.programs.at(id);
    profile.steps.erase(
        std::remove_if(profile.steps.begin(), profile.steps.end(),
                       [](const StepProfile& s) { return s.calls == 0; }),
        profile.steps.end());
    out.push_back(std::move(profile));
  }
  return out;
}

void ResetProfile() {
  ProfileState& state = Profiler();
  std::lock_guard<std::mutex> lock(state.mu);
  state.order.clear();
  state.programs.clear();
}

std::string FormatProfile(const ProgramProfile& profile, size_t top_nodes) {
  if (profile.runs == 0) return "";
  const double run_ms = 1e3 * profile.seconds / profile.runs;
  const auto ms_per_run = [](const StepProfile& s) {
    return 1e3 * s.seconds / static_cast<double>(s.calls);
  };
  struct OpTotal {
    std::string op;
    size_t nodes = 0;
    double ms = 0;
  };
  std::vector<OpTotal> ops;
  double steps_ms = 0;
  for (const StepProfile& step : profile.steps) {
    if (step.calls == 0) continue;
    auto it = std::find_if(ops.begin(), ops.end(),
                           [&](const OpTotal& o) { return o.op == step.op; });
    if (it == ops.end()) it = ops.insert(ops.end(), OpTotal{step.op});
    ++it->nodes;
    it->ms += ms_per_run(step);
    steps_ms += ms_per_run(step);
  }
  std::stable_sort(
      ops.begin(), ops.end(),
      [](const OpTotal& a, const OpTotal& b) { return a.ms > b.ms; });
  const auto share = [&](double ms) {
    return run_ms > 0 ? 100.0 * ms / run_ms : 0.0;
  };
  std::string out;
  char line[512];
  std::snprintf(line, sizeof(line),
                "foldrt profile: %s, %lld runs, %.3f ms per run\n"
                "  %-28s %6s %10s %7s\n",
                profile.source.c_str(), static_cast<long long>(profile.runs),
                run_ms, "op", "nodes", "ms/run", "share");
  out += line;
  for (const OpTotal& op : ops) {
    std::snprintf(line, sizeof(line), "  %-28s %6zu %10.3f %6.1f%%\n",
                  op.op.c_str(), op.nodes, op.ms, share(op.ms));
    out += line;
  }
  // Arena and output allocation, views, returning outputs: the runtime's
  // own overhead around the kernels.
  const double outside_ms = std::max(0.0, run_ms - steps_ms);
  std::snprintf(line, sizeof(line), "  %-28s %6s %10.3f %6.1f%%\n",
                "(outside kernels)", "", outside_ms, share(outside_ms));
  out += line;
  std::vector<const StepProfile*> slowest;
  for (const StepProfile& step : profile.steps) {
    if (step.calls > 0) slowest.push_back(&step);
  }
  std::stable_sort(slowest.begin(), slowest.end(),
                   [&](const StepProfile* a, const StepProfile* b) {
                     return ms_per_run(*a) > ms_per_run(*b);
                   });
  if (slowest.size() > top_nodes) slowest.resize(top_nodes);
  if (!slowest.empty()) {
    std::snprintf(line, sizeof(line), "  slowest %zu nodes:\n", slowest.size());
    out += line;
  }
  for (const StepProfile* step : slowest) {
    std::snprintf(line, sizeof(line), "  %10.3f ms %6.1f%%  %s (%s)\n",
                  ms_per_run(*step), share(ms_per_run(*step)),
                  step->node.c_str(), step->op.c_str());
    out += line;
  }
  return out;
}

std::map<std::string, Tensor> ExecutePlan(
    const Program& program, const Plan& plan,
    const std::vector<const Tensor*>& inputs, int threads) {
  using Kind = PlannedValue::Kind;
  const bool profiling = ProfilingEnabled();
  const ProfileClock::time_point run_start =
      profiling ? ProfileClock::now() : ProfileClock::time_point();
  std::vector<double> step_seconds(profiling ? plan.steps.size() : 0);
  // Back to the plan's pool when the run ends, also when a kernel throws.
  struct ArenaLease {
    ArenaPool* pool;
    char* arena;
    ~ArenaLease() { pool->Give(arena); }
    char* get() const { return arena; }
  } arena{plan.arenas.get(), plan.arenas->Take()};
  std::vector<Tensor> output_buffers;
  output_buffers.reserve(plan.output_buffers.size());
  for (int id : plan.output_buffers) {
    output_buffers.push_back(
        Tensor::Zeros(plan.values[id].dtype, plan.values[id].shape));
  }
  // A tensor over the buffer holding value `id`.
  const auto view = [&](int id) {
    const PlannedValue& value = plan.values[id];
    const PlannedValue& root =
        value.kind == Kind::kAlias ? plan.values[value.index] : value;
    switch (root.kind) {
      case Kind::kKnown:
        return Tensor::ConstView(value.dtype, value.shape,
                                 root.known->raw_data());
      case Kind::kInput:
        return Tensor::ConstView(value.dtype, value.shape,
                                 inputs[root.index]->raw_data());
      case Kind::kArena:
        return Tensor::View(value.dtype, value.shape,
                            arena.get() + root.offset);
      case Kind::kOutput:
        return Tensor::View(value.dtype, value.shape,
                            output_buffers[root.index].mutable_raw_data());
      default:
        throw FormatError(
            "value '" + program.values[id].name + "' has no buffer",
            ErrorContext{program.source, "", ""});
    }
  };
  std::vector<Tensor> input_views;
  std::vector<Tensor> output_views;
  for (size_t p = 0; p < plan.steps.size(); ++p) {
    const PlannedStep& planned = plan.steps[p];
    const ProfileClock::time_point step_start =
        profiling ? ProfileClock::now() : ProfileClock::time_point();
    if (planned.step == kConversion) {
      const Tensor from = view(planned.inputs[0]);
      Tensor to = view(planned.outputs[0]);
      InContext(program.source, "", "", [&] {
        planned.reorder->Run(static_cast<const float*>(from.raw_data()),
                             static_cast<float*>(to.mutable_raw_data()),
                             threads);
      });
      if (profiling) step_seconds[p] = SecondsSince(step_start);
      continue;
    }
    if (planned.shared_concat != nullptr) {
      const SharedConcatCopy& copy = *planned.shared_concat;
      const ProgramStep& step = program.steps[planned.step];
      Tensor to = view(planned.outputs[0]);
      auto* dst = static_cast<float*>(to.mutable_raw_data());
      InContext(program.source, step.node, step.op, [&] {
        for (size_t k = 0; k < planned.inputs.size(); ++k) {
          const Tensor from = view(planned.inputs[k]);
          ops::CopyIntoChannels(
              static_cast<const float*>(from.raw_data()),
              ops::SplitChannelShape(from.shape()), copy.layout, dst,
              static_cast<size_t>(copy.buffer_channels),
              static_cast<size_t>(copy.channel_offsets[k]), threads);
        }
      });
      if (profiling) step_seconds[p] = SecondsSince(step_start);
      continue;
    }
    const ProgramStep& step = program.steps[planned.step];
    input_views.clear();
    output_views.clear();
    input_views.reserve(planned.inputs.size());
    output_views.reserve(planned.outputs.size());
    KernelArgs args;
    args.state = planned.state.get();
    args.threads = threads;
    for (int id : planned.inputs) {
      if (id < 0) {
        args.inputs.push_back(nullptr);
        continue;
      }
      input_views.push_back(view(id));
      args.inputs.push_back(&input_views.back());
    }
    for (int id : planned.outputs) {
      if (id < 0) {
        args.outputs.push_back(nullptr);
        continue;
      }
      output_views.push_back(view(id));
      args.outputs.push_back(&output_views.back());
    }
    InContext(program.source, step.node, step.op,
              [&] { step.kernel->Run(args); });
    if (profiling) step_seconds[p] = SecondsSince(step_start);
  }
  std::map<std::string, Tensor> outputs;
  for (size_t k = 0; k < program.output_names.size(); ++k) {
    const int id = program.output_values[k];
    const PlannedValue& value = plan.values[id];
    outputs[program.output_names[k]] = value.kind == Kind::kOutput
                                           ? output_buffers[value.index]
                                           : view(id).Clone();
  }
  if (profiling) {
    RecordProfile(program, plan, step_seconds, SecondsSince(run_start));
  }
  return outputs;
}

}  // namespace foldrt::runtime
