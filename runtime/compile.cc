// CompileProgram (runtime/program.h): the model's main graph turned into
// steps once at load. Nodes whose inputs are all constant are evaluated
// here, nodes no graph output depends on are checked but dropped, and the
// runtime fusions (runtime/fusions/fusion_list.cc) turn some runs of nodes
// into one step that is no ONNX node.
#include <atomic>
#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "core/error.h"
#include "runtime/fusions/fusion.h"
#include "runtime/kernels/kernel_util.h"
#include "runtime/program.h"
#include "runtime/step_util.h"

namespace foldrt::runtime {
namespace {

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

// Compiles one model; shows the runtime fusions what they may read
// (FusionContext).
class Compiler : public FusionContext {
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

  // FusionContext.
  const graph::Graph& graph() const override { return graph_; }
  int64_t opset() const override { return opset_; }
  const std::string& file() const override { return file_; }
  bool Needed(const graph::Node& node) const override {
    return needed_.count(&node) != 0;
  }
  bool Computed(const std::string& value) const override {
    return computed_.count(value) != 0;
  }

  // The load-time constant behind `name` (an initializer, converted on
  // first use, or a folded node output), or null.
  const Tensor* Constant(const std::string& name,
                         const ErrorContext& reader) override {
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
      RethrowWithContext(error, ErrorContext{file_, reader.node, reader.op});
    }
    // Id() may have grown the vector: look the value up again.
    ProgramValue& stored = program_->values[Id(name)];
    stored.constant = &program_->constants.back();
    stored.dtype = stored.constant->dtype();
    return stored.constant;
  }

  std::vector<const Tensor*> InputConstants(const graph::Node& node) override {
    std::vector<const Tensor*> constants;
    const ErrorContext context = graph::NodeErrorContext(node, file_);
    for (size_t i = 0; i < node.num_inputs(); ++i) {
      constants.push_back(node.has_input(i) ? Constant(node.input(i), context)
                                            : nullptr);
    }
    return constants;
  }

  KernelBuildContext BuildContext(const graph::Node& node) override {
    return Context(node);
  }

  std::unique_ptr<Kernel> Create(const KernelBuildContext& ctx) override {
    const graph::Node& node = ctx.node();
    return InContext(file_, node.Label(), node.op_type(),
                     [&] { return CreateKernel(ctx); });
  }

 private:
  // A FusedStep with a kernel of its own, waiting for the node whose place
  // it takes (FusedStep::OwnKernel::at).
  struct DeferredStep {
    const graph::Node* matched = nullptr;  // names the step in messages
    FusedStep fused;
  };

  int Id(const std::string& name) {
    const auto [it, inserted] =
        ids_.emplace(name, static_cast<int>(program_->values.size()));
    if (inserted) program_->values.push_back(ProgramValue{name});
    return it->second;
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

  // The first runtime fusion, in list order, that matches at `node`.
  std::optional<FusedStep> MatchFusion(const graph::Node& node) {
    for (const std::unique_ptr<const RuntimeFusion>& fusion :
         RuntimeFusions()) {
      std::optional<FusedStep> fused = fusion->Match(node, *this);
      if (fused.has_value()) return fused;
    }
    return std::nullopt;
  }

  // A step with a kernel of its own (FusedStep::OwnKernel), added where its
  // inputs are computed.
  void AddOwnKernelStep(const DeferredStep& deferred) {
    const graph::Node& matched = *deferred.matched;
    const FusedStep::OwnKernel& own = *deferred.fused.own_kernel;
    ProgramStep step;
    step.node = matched.Label();
    step.op = deferred.fused.op;
    step.kernel = InContext(file_, matched.Label(), matched.op_type(),
                            [&] { return own.create(*this); });
    std::vector<DataType> input_dtypes;
    for (const std::string& input : own.inputs) {
      const int id = Id(input);
      step.inputs.push_back(id);
      input_dtypes.push_back(program_->values[id].dtype);
    }
    const DataType dtype = step.kernel->OutputDataType(input_dtypes);
    for (const std::string& output : own.outputs) {
      const int id = Id(output);
      program_->values[id].dtype = dtype;
      step.outputs.push_back(id);
      computed_.insert(output);
    }
    program_->steps.push_back(std::move(step));
  }

  void AddNode(const graph::Node& node) {
    const bool needed = needed_.count(&node) != 0;
    const auto deferred = deferred_steps_.find(&node);
    if (deferred != deferred_steps_.end()) {
      AddOwnKernelStep(deferred->second);
      return;
    }
    std::optional<FusedStep> fused;
    if (needed) fused = MatchFusion(node);
    if (fused.has_value() && fused->own_kernel.has_value()) {
      absorbed_.insert(fused->absorbed.begin(), fused->absorbed.end());
      const graph::Node* at = fused->own_kernel->at;
      deferred_steps_[at] = DeferredStep{&node, std::move(*fused)};
      return;
    }
    // An epilogue (or none): the node's own kernel.
    const bool epilogue = fused.has_value();
    const ops::Activation activation =
        epilogue ? fused->activation : ops::Activation{};
    const std::string residual = epilogue ? fused->residual : "";
    KernelBuildContext context = Context(node, activation);
    context.set_fused_residual(!residual.empty());
    std::unique_ptr<Kernel> kernel = Create(context);
    if (!needed) return;  // checked, never run
    ProgramStep step;
    step.node = node.Label();
    step.op = epilogue ? fused->op : node.op_type();
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
    if (!residual.empty()) {
      // Input 3, after X, W and B (absent or not).
      step.inputs.resize(3, -1);
      input_dtypes.resize(3, DataType::kFloat32);
      const int id = Id(residual);
      step.inputs.push_back(id);
      input_dtypes.push_back(program_->values[id].dtype);
    }
    const DataType dtype = kernel->OutputDataType(input_dtypes);
    for (size_t k = 0; k < node.num_outputs(); ++k) {
      std::string name = node.output(k);
      if (k == 0 && epilogue) name = fused->output_node->output(0);
      if (name.empty()) {
        step.outputs.push_back(-1);
        continue;
      }
      const int id = Id(name);
      program_->values[id].dtype = dtype;
      step.outputs.push_back(id);
      computed_.insert(name);
    }
    if (epilogue) {
      absorbed_.insert(fused->absorbed.begin(), fused->absorbed.end());
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
  // FusedStep::OwnKernel::at -> the step that takes its place.
  std::unordered_map<const graph::Node*, DeferredStep> deferred_steps_;
};

}  // namespace

uint64_t NewProgramId() {
  static std::atomic<uint64_t> next{1};
  return next.fetch_add(1, std::memory_order_relaxed);
}

std::unique_ptr<Program> CompileProgram(const graph::Model& model,
                                        const CompileOptions& options) {
  return Compiler(model, options).Compile();
}

}  // namespace foldrt::runtime
