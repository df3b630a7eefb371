// ExecutePlan (runtime/program.h): one run of a plan on the caller's
// inputs.
#include <map>
#include <string>
#include <vector>

#include "core/error.h"
#include "runtime/profile.h"
#include "runtime/program.h"
#include "runtime/step_util.h"

namespace foldrt::runtime {

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
    // A view per value id (null for an absent one), kept in `views`, which
    // was reserved so that the pointers stay valid.
    const auto bind = [&](const std::vector<int>& ids,
                          std::vector<Tensor>* views, auto* pointers) {
      for (int id : ids) {
        if (id < 0) {
          pointers->push_back(nullptr);
          continue;
        }
        views->push_back(view(id));
        pointers->push_back(&views->back());
      }
    };
    bind(planned.inputs, &input_views, &args.inputs);
    bind(planned.outputs, &output_views, &args.outputs);
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
