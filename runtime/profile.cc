// The profiler (runtime/program.h): per-step wall time of ExecutePlan,
// collected process-wide and reported as text.
#include "runtime/profile.h"

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace foldrt::runtime {
namespace {

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

}  // namespace

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

}  // namespace foldrt::runtime
