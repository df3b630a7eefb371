// BuildPlan (runtime/program.h): the program specialized to one
// input-shape signature, in named steps (Planner::Build), and the arenas a
// plan's runs share (ArenaPool). Concats that share one buffer are in
// runtime/shared_concats.cc.
#include <algorithm>
#include <map>
#include <memory>
#include <mutex>
#include <new>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "core/error.h"
#include "runtime/kernels/kernel_util.h"
#include "runtime/memory_plan.h"
#include "runtime/program.h"
#include "runtime/shared_concats.h"
#include "runtime/step_util.h"

namespace foldrt::runtime {
namespace {

using Kind = PlannedValue::Kind;

// Values computed from shapes while planning stay small (shape arithmetic);
// anything larger is left to the run, where it gets an arena buffer.
constexpr size_t kMaxPlanTimeBytes = 64 * 1024;

// Builds one Plan; each step of Build is a method.
class Planner {
 public:
  Planner(const Program& program,
          const std::vector<std::vector<int64_t>>& input_shapes,
          const PlanOptions& options)
      : program_(program),
        input_shapes_(input_shapes),
        options_(options),
        threads_(options.threads),
        plan_(std::make_unique<Plan>()),
        values_(plan_->values) {}

  std::unique_ptr<const Plan> Build() {
    SeedValues();
    for (size_t s = 0; s < program_.steps.size(); ++s) PlanStep(s);
    PrepareKernels();
    const std::unordered_set<int> shared_concats =
        ShareConcatBuffers(program_, plan_.get(), threads_);
    AssignArenaOffsets(shared_concats);
    return std::move(plan_);
  }

 private:
  // The constants and graph inputs: what the first step may read.
  void SeedValues() {
    values_.resize(program_.values.size());
    for (size_t id = 0; id < program_.values.size(); ++id) {
      const ProgramValue& value = program_.values[id];
      values_[id].dtype = value.dtype;
      if (value.constant != nullptr) {
        values_[id].kind = Kind::kKnown;
        values_[id].known = value.constant;
        values_[id].shape = value.constant->shape();
      }
    }
    for (size_t i = 0; i < program_.input_values.size(); ++i) {
      PlannedValue& value = values_[program_.input_values[i]];
      value.kind = Kind::kInput;
      value.index = static_cast<int>(i);
      value.shape = input_shapes_[i];
    }
    is_output_.assign(values_.size(), false);
    for (int id : program_.output_values) is_output_[id] = true;
  }

  void SetKnown(int id, Tensor tensor) {
    plan_->known_values.push_back(std::move(tensor));
    values_[id].kind = Kind::kKnown;
    values_[id].known = &plan_->known_values.back();
    values_[id].dtype = values_[id].known->dtype();
    values_[id].shape = values_[id].known->shape();
  }

  // A new arena value (a converted copy or a blocked temporary).
  int AddValue(const PlannedValue& like, ops::Layout layout) {
    PlannedValue value;
    value.kind = Kind::kArena;
    value.dtype = like.dtype;
    value.shape = like.shape;
    value.layout = layout;
    values_.push_back(std::move(value));
    is_output_.push_back(false);
    return static_cast<int>(values_.size() - 1);
  }

  void AddConversion(int from, int to, const ProgramStep& step) {
    PlannedStep conversion;
    conversion.step = kConversion;
    conversion.inputs = {from};
    conversion.outputs = {to};
    conversion.reorder = InContext(program_.source, step.node, step.op, [&] {
      return std::make_shared<const ops::LayoutReorder>(
          values_[from].shape, values_[from].layout, values_[to].layout);
    });
    plan_->steps.push_back(std::move(conversion));
    ++plan_->layout_conversions;
  }

  // Value `id` in `layout`: itself, or a copy converted once and shared by
  // every reader that wants that layout.
  int InLayout(int id, ops::Layout layout, const ProgramStep& step) {
    if (values_[id].layout == layout) return id;
    const auto key = std::make_pair(id, layout);
    const auto it = converted_.find(key);
    if (it != converted_.end()) return it->second;
    const int copy = AddValue(values_[id], layout);
    AddConversion(id, copy, step);
    converted_.emplace(key, copy);
    return copy;
  }

  // What planning knows of a step's inputs.
  struct StepInputs {
    std::vector<PlanInput> plan_inputs;
    std::vector<const PlanInput*> pointers;  // null: absent
    std::vector<const Tensor*> known;        // null: absent or not known
    bool all_known = true;
  };

  // Fills `inputs` (whose pointers point into it) for `step`.
  void InputsOf(const ProgramStep& step, StepInputs* out) const {
    StepInputs& inputs = *out;
    inputs.plan_inputs.resize(step.inputs.size());
    for (size_t i = 0; i < step.inputs.size(); ++i) {
      const int id = step.inputs[i];
      if (id < 0) {
        inputs.pointers.push_back(nullptr);
        inputs.known.push_back(nullptr);
        continue;
      }
      const PlannedValue& value = values_[id];
      if (value.kind == Kind::kUnset) {
        throw FormatError("value '" + program_.values[id].name +
                              "' is read before it is computed",
                          ErrorContext{program_.source, step.node, step.op});
      }
      inputs.plan_inputs[i] = {value.dtype, value.shape, value.known,
                               value.layout};
      inputs.pointers.push_back(&inputs.plan_inputs[i]);
      inputs.known.push_back(value.known);
      inputs.all_known = inputs.all_known && value.kind == Kind::kKnown;
    }
  }

  // The kernel's plan for these inputs, checked against the step.
  KernelPlan PlanKernel(const ProgramStep& step, const StepInputs& inputs) {
    KernelPlan kernel_plan =
        InContext(program_.source, step.node, step.op,
                  [&] { return step.kernel->Plan(inputs.pointers); });
    if (kernel_plan.outputs.size() != step.outputs.size()) {
      throw InvalidArgumentError(
          "the kernel planned " + std::to_string(kernel_plan.outputs.size()) +
              " outputs for a node with " + std::to_string(step.outputs.size()),
          ErrorContext{program_.source, step.node, step.op});
    }
    if (!kernel_plan.input_layouts.empty() &&
        kernel_plan.input_layouts.size() != step.inputs.size()) {
      throw InvalidArgumentError(
          "the kernel asked for layouts of " +
              std::to_string(kernel_plan.input_layouts.size()) +
              " inputs for a node with " + std::to_string(step.inputs.size()),
          ErrorContext{program_.source, step.node, step.op});
    }
    return kernel_plan;
  }

  // Program step `s`: its outputs known now, a view of its input, or a step
  // that runs (with the layout conversions around it).
  void PlanStep(size_t s) {
    const ProgramStep& step = program_.steps[s];
    StepInputs inputs;
    InputsOf(step, &inputs);
    KernelPlan kernel_plan = PlanKernel(step, inputs);
    // Outputs the shapes alone determine (Shape, Constant).
    if (!kernel_plan.values.empty()) {
      for (size_t k = 0; k < step.outputs.size(); ++k) {
        if (step.outputs[k] >= 0) {
          SetKnown(step.outputs[k], std::move(kernel_plan.values[k]));
        }
      }
      return;
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
    if (inputs.all_known && output_bytes <= kMaxPlanTimeBytes) {
      ComputeNow(step, kernel_plan, inputs, present);
      return;
    }
    // The inputs in the layouts the kernel asked for.
    std::vector<int> ids = step.inputs;
    for (size_t i = 0; i < ids.size(); ++i) {
      if (ids[i] < 0) continue;
      const ops::Layout wanted = kernel_plan.input_layouts.empty()
                                     ? ops::Layout::kNchw
                                     : kernel_plan.input_layouts[i];
      ids[i] = InLayout(ids[i], wanted, step);
    }
    if (PlanView(step, kernel_plan, ids, present)) return;
    AddRunningStep(s, std::move(kernel_plan), std::move(ids), present);
  }

  void ComputeNow(const ProgramStep& step, const KernelPlan& kernel_plan,
                  const StepInputs& inputs, const std::vector<bool>& present) {
    std::vector<Tensor> outputs =
        InContext(program_.source, step.node, step.op, [&] {
          return RunNow(*step.kernel, kernel_plan, inputs.known, present,
                        threads_);
        });
    for (size_t k = 0; k < step.outputs.size(); ++k) {
      if (present[k]) SetKnown(step.outputs[k], std::move(outputs[k]));
    }
  }

  // Views: output 0 shares its input's buffer and the step does not run.
  // Returns whether the step is one (never for a graph output, which has a
  // buffer of its own: there the kernel copies).
  bool PlanView(const ProgramStep& step, const KernelPlan& kernel_plan,
                const std::vector<int>& inputs,
                const std::vector<bool>& present) {
    const int alias = step.kernel->AliasedInput();
    if (alias < 0 || static_cast<size_t>(alias) >= inputs.size() ||
        inputs[alias] < 0 || step.outputs[0] < 0 ||
        is_output_[step.outputs[0]]) {
      return false;
    }
    const int source_id = inputs[alias];
    const int out = step.outputs[0];
    const ValueType& type = kernel_plan.outputs[0];
    if (values_[source_id].kind == Kind::kKnown) {
      SetKnown(out, Tensor::ConstView(type.dtype, type.shape,
                                      values_[source_id].known->raw_data()));
    } else {
      values_[out].kind = Kind::kAlias;
      values_[out].index = values_[source_id].kind == Kind::kAlias
                               ? values_[source_id].index
                               : source_id;
      values_[out].dtype = type.dtype;
      values_[out].shape = type.shape;
      values_[out].layout = type.layout;
    }
    // Other outputs of a view op (Dropout's mask) are unused: zeros.
    for (size_t k = 1; k < step.outputs.size(); ++k) {
      if (present[k]) {
        SetKnown(step.outputs[k], Tensor::Zeros(kernel_plan.outputs[k].dtype,
                                                kernel_plan.outputs[k].shape));
      }
    }
    return true;
  }

  // A step that runs: its outputs become arena or output buffers.
  void AddRunningStep(size_t s, KernelPlan kernel_plan, std::vector<int> inputs,
                      const std::vector<bool>& present) {
    const ProgramStep& step = program_.steps[s];
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
      PlannedValue& value = values_[id];
      value.dtype = kernel_plan.outputs[k].dtype;
      value.shape = kernel_plan.outputs[k].shape;
      if (is_output_[id]) {
        value.kind = Kind::kOutput;
        value.index = static_cast<int>(plan_->output_buffers.size());
        plan_->output_buffers.push_back(id);
      } else {
        value.kind = Kind::kArena;
      }
      const ops::Layout layout = kernel_plan.outputs[k].layout;
      if (layout == ops::Layout::kNchw) continue;
      if (is_output_[id] || !options_.blocked_layouts) {
        const int temporary = AddValue(values_[id], layout);
        planned.outputs[k] = temporary;
        after.emplace_back(temporary, id);
      } else {
        value.layout = layout;
      }
    }
    plan_->steps.push_back(std::move(planned));
    for (const auto& [temporary, id] : after) {
      AddConversion(temporary, id, step);
    }
  }

  // Kernel::Prepare, last step first: a network's head holds its biggest
  // weights (vgg11_bn's first Gemm: 411 MB), and packing them while the
  // plain copy still exists doubles them for a moment; done first, that
  // moment does not stack on the convolutions' packed weights (Winograd's
  // are 4x the plain ones). vgg11_bn's peak RSS drops by about 100 MB.
  void PrepareKernels() {
    for (auto it = plan_->steps.rbegin(); it != plan_->steps.rend(); ++it) {
      if (it->step == kConversion) continue;
      const ProgramStep& step = program_.steps[it->step];
      InContext(program_.source, step.node, step.op,
                [&] { step.kernel->Prepare(it->state.get(), threads_); });
    }
  }

  int RootOf(int id) const {
    return values_[id].kind == Kind::kAlias ? values_[id].index : id;
  }

  // Lifetimes of the arena values, in positions of the running steps
  // (buffers_, buffer_of_, buffer_values_).
  void CollectBufferLifetimes() {
    for (size_t p = 0; p < plan_->steps.size(); ++p) {
      const PlannedStep& step = plan_->steps[p];
      for (int id : step.inputs) {
        if (id < 0) continue;
        const auto it = buffer_of_.find(RootOf(id));
        if (it != buffer_of_.end()) {
          buffers_[it->second].last_step = static_cast<int>(p);
        }
      }
      for (int output : step.outputs) {
        // A Concat sharing a later one's buffer writes that buffer: it lives
        // from the first Concat of the chain.
        const int id = output < 0 ? output : RootOf(output);
        if (id < 0 || values_[id].kind != Kind::kArena ||
            buffer_of_.count(id)) {
          continue;
        }
        const PlannedValue& value = values_[id];
        const size_t elements =
            value.layout == ops::Layout::kNchw
                ? static_cast<size_t>(ShapeNumElements(value.shape))
                : ops::BufferElements(ops::SplitChannelShape(value.shape),
                                      value.layout);
        buffer_of_[id] = buffers_.size();
        buffers_.push_back(BufferLifetime{elements * DataTypeSize(value.dtype),
                                          static_cast<int>(p),
                                          static_cast<int>(p)});
        buffer_values_.push_back(id);
      }
    }
  }

  // In-place steps (Kernel::InPlaceInput): output 0 takes over the buffer
  // of input k when the step is that buffer's last reader, no other input
  // of the step reads it, and both are arena buffers of one size. The two
  // buffers become one that lives from r's first writer to y's last
  // reader. Returns, per buffer, the buffer it was merged into (itself if
  // none).
  std::vector<size_t> MergeInPlaceBuffers(
      const std::unordered_set<int>& shared_concats) {
    std::vector<size_t> merged_into(buffers_.size());
    for (size_t b = 0; b < buffers_.size(); ++b) merged_into[b] = b;
    for (size_t p = 0; p < plan_->steps.size(); ++p) {
      const PlannedStep& step = plan_->steps[p];
      if (step.step == kConversion) continue;
      const int k = program_.steps[step.step].kernel->InPlaceInput();
      if (k < 0 || static_cast<size_t>(k) >= step.inputs.size() ||
          step.inputs[k] < 0 || step.outputs.empty() || step.outputs[0] < 0) {
        continue;
      }
      const int source = RootOf(step.inputs[k]);
      // A shared Concat buffer still holds what later Concats of its chain
      // read.
      if (shared_concats.count(source) != 0) continue;
      const auto source_it = buffer_of_.find(source);
      const auto target_it = buffer_of_.find(step.outputs[0]);
      if (source_it == buffer_of_.end() || target_it == buffer_of_.end()) {
        continue;
      }
      const size_t r = merged_into[source_it->second];
      const size_t y = target_it->second;
      bool shared = false;
      for (size_t i = 0; i < step.inputs.size(); ++i) {
        shared = shared || (static_cast<int>(i) != k && step.inputs[i] >= 0 &&
                            RootOf(step.inputs[i]) == source);
      }
      if (shared || buffers_[r].last_step != static_cast<int>(p) ||
          buffers_[r].bytes != buffers_[y].bytes) {
        continue;
      }
      buffers_[r].last_step = buffers_[y].last_step;
      merged_into[y] = r;
    }
    return merged_into;
  }

  // Arena offsets of every arena value (runtime/memory_plan.h), and the
  // plan's arena size and pool.
  void AssignArenaOffsets(const std::unordered_set<int>& shared_concats) {
    CollectBufferLifetimes();
    const std::vector<size_t> merged_into = MergeInPlaceBuffers(shared_concats);
    std::vector<BufferLifetime> kept;
    std::vector<size_t> kept_index(buffers_.size());
    for (size_t b = 0; b < buffers_.size(); ++b) {
      if (merged_into[b] != b) continue;
      kept_index[b] = kept.size();
      kept.push_back(buffers_[b]);
    }
    const ArenaLayout layout = PlanArena(kept);
    for (size_t b = 0; b < buffers_.size(); ++b) {
      values_[buffer_values_[b]].offset =
          layout.offsets[kept_index[merged_into[b]]];
    }
    plan_->arena_bytes = layout.total_bytes;
    plan_->arenas = std::make_unique<ArenaPool>(layout.total_bytes);
  }

  const Program& program_;
  const std::vector<std::vector<int64_t>>& input_shapes_;
  const PlanOptions& options_;
  const int threads_;
  std::unique_ptr<Plan> plan_;
  std::vector<PlannedValue>& values_;  // plan_->values
  std::vector<bool> is_output_;        // by value id
  // (value id, layout) -> its converted copy (InLayout).
  std::map<std::pair<int, ops::Layout>, int> converted_;
  // Arena buffers before in-place merging: their lifetimes, the value each
  // holds, and value id -> buffer index.
  std::vector<BufferLifetime> buffers_;
  std::vector<int> buffer_values_;
  std::unordered_map<int, size_t> buffer_of_;
};

}  // namespace

std::unique_ptr<const Plan> BuildPlan(
    const Program& program,
    const std::vector<std::vector<int64_t>>& input_shapes,
    const PlanOptions& options) {
  return Planner(program, input_shapes, options).Build();
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

}  // namespace foldrt::runtime
