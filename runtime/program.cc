#include "runtime/program.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <new>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include "runtime/core/error.h"
#include "runtime/core/logging.h"
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
          ToRuntimeTensor(*initializer, "initializer '" + name + "'"));
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

  // The activation node to fuse into `node`, if `node` can apply one and
  // its output's only reader is a ReLU / constant-bound Clip.
  const graph::Node* FusibleConsumer(const graph::Node& node,
                                     ops::Activation* activation) {
    if (!KernelFusesActivation(node.op_type()) ||
        !graph::IsDefaultDomain(node.domain()) || node.num_outputs() == 0 ||
        node.output(0).empty() || graph_.IsGraphOutput(node.output(0))) {
      return nullptr;
    }
    const std::vector<graph::Use>& uses = graph_.Uses(node.output(0));
    if (uses.size() != 1 || uses[0].input_index != 0) return nullptr;
    const graph::Node* consumer = uses[0].node;
    if (needed_.count(consumer) == 0 || consumer->num_outputs() == 0 ||
        consumer->output(0).empty()) {
      return nullptr;
    }
    if (!FusibleActivation(*consumer, opset_, InputConstants(*consumer),
                           activation)) {
      return nullptr;
    }
    return consumer;
  }

  void AddNode(const graph::Node& node) {
    const bool needed = needed_.count(&node) != 0;
    ops::Activation activation;
    const graph::Node* fused =
        needed ? FusibleConsumer(node, &activation) : nullptr;
    std::unique_ptr<Kernel> kernel = Create(Context(node, activation));
    if (!needed) return;  // checked, never run
    ProgramStep step;
    step.node = node.Label();
    step.op = node.op_type();
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
    const DataType dtype = kernel->OutputDataType(input_dtypes);
    for (size_t k = 0; k < node.num_outputs(); ++k) {
      std::string name = node.output(k);
      if (k == 0 && fused != nullptr) name = fused->output(0);
      if (name.empty()) {
        step.outputs.push_back(-1);
        continue;
      }
      const int id = Id(name);
      program_->values[id].dtype = dtype;
      step.outputs.push_back(id);
    }
    if (fused != nullptr) {
      absorbed_.insert(fused);
      step.op += "+" + fused->op_type();
      ++program_->fused_activations;
    }
    step.kernel = std::move(kernel);
    program_->steps.push_back(std::move(step));
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
};

}  // namespace

std::unique_ptr<Program> CompileProgram(const graph::Model& model,
                                        const CompileOptions& options) {
  return Compiler(model, options).Compile();
}

// ------------------------------------------------------ planning

std::unique_ptr<const Plan> BuildPlan(
    const Program& program,
    const std::vector<std::vector<int64_t>>& input_shapes, int threads) {
  using Kind = PlannedValue::Kind;
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
      plan_inputs[i] = {value.dtype, value.shape, value.known};
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
    // Every input known (shape arithmetic): compute it now.
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
    // Views: output 0 shares its input's buffer and the step does not run.
    const int alias = step.kernel->AliasedInput();
    if (alias >= 0 && static_cast<size_t>(alias) < step.inputs.size() &&
        step.inputs[alias] >= 0 && step.outputs[0] >= 0 &&
        !is_output[step.outputs[0]]) {
      const PlannedValue& source = values[step.inputs[alias]];
      const int out = step.outputs[0];
      const ValueType& type = kernel_plan.outputs[0];
      if (source.kind == Kind::kKnown) {
        set_known(out, Tensor::ConstView(type.dtype, type.shape,
                                         source.known->raw_data()));
      } else {
        values[out].kind = Kind::kAlias;
        values[out].index =
            source.kind == Kind::kAlias ? source.index : step.inputs[alias];
        values[out].dtype = type.dtype;
        values[out].shape = type.shape;
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
    for (size_t k = 0; k < step.outputs.size(); ++k) {
      if (!present[k]) continue;
      PlannedValue& value = values[step.outputs[k]];
      value.dtype = kernel_plan.outputs[k].dtype;
      value.shape = kernel_plan.outputs[k].shape;
      if (is_output[step.outputs[k]]) {
        value.kind = Kind::kOutput;
        value.index = static_cast<int>(plan->output_buffers.size());
        plan->output_buffers.push_back(step.outputs[k]);
      } else {
        value.kind = Kind::kArena;
      }
    }
    plan->steps.push_back(
        PlannedStep{static_cast<int>(s), std::move(kernel_plan.state)});
  }

  // Lifetimes of the arena values, in positions of the running steps.
  std::unordered_map<int, size_t> buffer_of;  // value id -> buffer index
  std::vector<BufferLifetime> buffers;
  std::vector<int> buffer_values;
  for (size_t p = 0; p < plan->steps.size(); ++p) {
    const ProgramStep& step = program.steps[plan->steps[p].step];
    for (int id : step.inputs) {
      if (id < 0) continue;
      const int root = values[id].kind == Kind::kAlias ? values[id].index : id;
      const auto it = buffer_of.find(root);
      if (it != buffer_of.end()) {
        buffers[it->second].last_step = static_cast<int>(p);
      }
    }
    for (int id : step.outputs) {
      if (id < 0 || values[id].kind != Kind::kArena) continue;
      buffer_of[id] = buffers.size();
      buffers.push_back(BufferLifetime{
          static_cast<size_t>(ShapeNumElements(values[id].shape)) *
              DataTypeSize(values[id].dtype),
          static_cast<int>(p), static_cast<int>(p)});
      buffer_values.push_back(id);
    }
  }
  const ArenaLayout layout = PlanArena(buffers);
  for (size_t b = 0; b < buffers.size(); ++b) {
    values[buffer_values[b]].offset = layout.offsets[b];
  }
  plan->arena_bytes = layout.total_bytes;
  return plan;
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
    profile.steps.resize(program.steps.size());
    for (size_t s = 0; s < program.steps.size(); ++s) {
      profile.steps[s].node = program.steps[s].node;
      profile.steps[s].op = program.steps[s].op;
    }
  }
  ++profile.runs;
  profile.seconds += total_seconds;
  for (size_t p = 0; p < plan.steps.size(); ++p) {
    StepProfile& step = profile.steps[plan.steps[p].step];
    ++step.calls;
    step.seconds += step_seconds[p];
  }
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
  std::unique_ptr<char, void (*)(char*)> arena(
      plan.arena_bytes == 0
          ? nullptr
          : static_cast<char*>(::operator new(
                plan.arena_bytes, std::align_val_t(kArenaAlignment))),
      [](char* p) {
        if (p != nullptr)
          ::operator delete(p, std::align_val_t(kArenaAlignment));
      });
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
    const ProgramStep& step = program.steps[planned.step];
    input_views.clear();
    output_views.clear();
    input_views.reserve(step.inputs.size());
    output_views.reserve(step.outputs.size());
    KernelArgs args;
    args.state = planned.state.get();
    args.threads = threads;
    for (int id : step.inputs) {
      if (id < 0) {
        args.inputs.push_back(nullptr);
        continue;
      }
      input_views.push_back(view(id));
      args.inputs.push_back(&input_views.back());
    }
    for (int id : step.outputs) {
      if (id < 0) {
        args.outputs.push_back(nullptr);
        continue;
      }
      output_views.push_back(view(id));
      args.outputs.push_back(&output_views.back());
    }
    const ProfileClock::time_point step_start =
        profiling ? ProfileClock::now() : ProfileClock::time_point();
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
