#include "runtime/shared_concats.h"

#include <algorithm>
#include <memory>
#include <set>
#include <unordered_map>
#include <utility>
#include <vector>

#include "runtime/step_util.h"

namespace foldrt::runtime {
namespace {

using Kind = PlannedValue::Kind;

// ShareConcatBuffers in steps: find the chains, share their buffers, plan
// the readers of the slices again.
class ConcatSharer {
 public:
  ConcatSharer(const Program& program, Plan* plan, int threads)
      : program_(program),
        plan_(*plan),
        values_(plan->values),
        steps_(plan->steps),
        threads_(threads) {
    for (const PlannedValue& value : values_) {
      if (value.kind == Kind::kAlias) viewed_.insert(value.index);
    }
    for (size_t p = 0; p < steps_.size(); ++p) {
      for (size_t i = 0; i < steps_[p].inputs.size(); ++i) {
        if (steps_[p].inputs[i] >= 0) {
          readers_[steps_[p].inputs[i]].emplace_back(p, i);
        }
      }
    }
  }

  std::unordered_set<int> Share() {
    FindChains();
    ShareChainBuffers();
    ReplanSliceReaders();
    return std::move(members_);
  }

 private:
  bool IsConcat(size_t p) const {
    const PlannedStep& step = steps_[p];
    if (step.step == kConversion || step.outputs.empty() ||
        step.outputs[0] < 0) {
      return false;
    }
    const PlannedValue& out = values_[step.outputs[0]];
    if (out.kind != Kind::kArena || out.dtype != DataType::kFloat32 ||
        out.shape.size() < 2) {
      return false;
    }
    for (int id : step.inputs) {
      if (id < 0) return false;
    }
    return program_.steps[step.step].kernel->ConcatenatesChannels(
        step.state.get());
  }

  // Channels [0, C) of a wider buffer are one contiguous run.
  bool ContiguousPrefix(int id) const {
    return values_[id].layout != ops::Layout::kNhwc &&
           values_[id].shape[0] == 1;
  }

  bool CanBeSlice(int id) {
    if (viewed_.count(id) != 0) return false;
    if (ContiguousPrefix(id)) return true;
    for (const auto& [q, i] : readers_[id]) {
      const PlannedStep& reader = steps_[q];
      if (reader.step == kConversion ||
          !program_.steps[reader.step].kernel->ReadsChannelSlice(i)) {
        return false;
      }
    }
    return true;
  }

  // previous_ and next_ of every Concat (concats_) that extends or is
  // extended by another.
  void FindChains() {
    previous_.assign(steps_.size(), -1);
    next_.assign(steps_.size(), -1);
    for (size_t p = 0; p < steps_.size(); ++p) {
      if (!IsConcat(p)) continue;
      const PlannedStep& b = steps_[p];
      int best = -1;  // the longest prefix: the previous layer of the block
      for (size_t a_pos : concats_) {
        const PlannedStep& a = steps_[a_pos];
        const int a_out = a.outputs[0];
        if (next_[a_pos] >= 0 || a.inputs.size() >= b.inputs.size() ||
            values_[a_out].layout != values_[b.outputs[0]].layout ||
            !std::equal(a.inputs.begin(), a.inputs.end(), b.inputs.begin()) ||
            !CanBeSlice(a_out)) {
          continue;
        }
        if (best < 0 || a.inputs.size() > steps_[best].inputs.size()) {
          best = static_cast<int>(a_pos);
        }
      }
      concats_.push_back(p);
      if (best >= 0) {
        previous_[p] = best;
        next_[best] = static_cast<int>(p);
      }
    }
  }

  // Each chained Concat's output becomes a slice of the last one's buffer,
  // and its step copies only the inputs the one before it did not.
  void ShareChainBuffers() {
    // Input counts before the loop below drops the inputs already copied.
    std::vector<size_t> input_count(steps_.size());
    for (size_t p : concats_) input_count[p] = steps_[p].inputs.size();
    for (size_t p : concats_) {
      if (previous_[p] < 0 && next_[p] < 0) continue;
      size_t root = p;
      while (next_[root] >= 0) root = static_cast<size_t>(next_[root]);
      const int root_out = steps_[root].outputs[0];
      const int out = steps_[p].outputs[0];
      members_.insert(out);
      if (root != p) {
        PlannedValue& value = values_[out];
        value.kind = Kind::kAlias;
        value.index = root_out;
        if (!ContiguousPrefix(out)) {
          value.buffer_channels = values_[root_out].shape[1];
          for (const auto& [q, i] : readers_[out]) replan_.insert(q);
        }
        ++plan_.shared_concats;
      }
      auto copy = std::make_unique<SharedConcatCopy>();
      copy->layout = values_[out].layout;
      copy->buffer_channels = values_[root_out].shape[1];
      // Inputs the Concat before it already put in the buffer are skipped.
      size_t first = 0;
      int64_t offset = 0;
      if (previous_[p] >= 0) {
        first = input_count[previous_[p]];
        offset = values_[steps_[previous_[p]].outputs[0]].shape[1];
      }
      std::vector<int> inputs(steps_[p].inputs.begin() + first,
                              steps_[p].inputs.end());
      for (int id : inputs) {
        copy->channel_offsets.push_back(offset);
        offset += values_[id].shape[1];
      }
      steps_[p].inputs = std::move(inputs);
      steps_[p].shared_concat = std::move(copy);
    }
  }

  // Readers of a slice: planned again now that it has a stride.
  void ReplanSliceReaders() {
    for (size_t q : replan_) {
      PlannedStep& reader = steps_[q];
      const ProgramStep& step = program_.steps[reader.step];
      std::vector<PlanInput> plan_inputs(reader.inputs.size());
      std::vector<const PlanInput*> pointers;
      for (size_t i = 0; i < reader.inputs.size(); ++i) {
        const int id = reader.inputs[i];
        if (id < 0) {
          pointers.push_back(nullptr);
          continue;
        }
        const PlannedValue& value = values_[id];
        plan_inputs[i] = {value.dtype, value.shape, value.known, value.layout,
                          value.buffer_channels};
        pointers.push_back(&plan_inputs[i]);
      }
      InContext(program_.source, step.node, step.op, [&] {
        KernelPlan kernel_plan = step.kernel->Plan(pointers);
        reader.state = std::move(kernel_plan.state);
        step.kernel->Prepare(reader.state.get(), threads_);
      });
    }
  }

  const Program& program_;
  Plan& plan_;
  std::vector<PlannedValue>& values_;
  std::vector<PlannedStep>& steps_;
  const int threads_;
  std::unordered_set<int> viewed_;  // values some kAlias points to
  // Value id -> (step position, input index) of each read.
  std::unordered_map<int, std::vector<std::pair<size_t, size_t>>> readers_;
  std::vector<size_t> concats_;  // step positions, in order
  std::vector<int> previous_;    // B -> the A it extends
  std::vector<int> next_;        // A -> the B extending it
  std::unordered_set<int> members_;
  std::set<size_t> replan_;  // readers of slices, by step position
};

}  // namespace

std::unordered_set<int> ShareConcatBuffers(const Program& program, Plan* plan,
                                           int threads) {
  return ConcatSharer(program, plan, threads).Share();
}

}  // namespace foldrt::runtime
