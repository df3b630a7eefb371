#include "tools/foldrt/bench_report.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "graph/passes/fold_report_json.h"

namespace foldrt {

namespace {

using Json = nlohmann::ordered_json;

// A figure with 6 significant digits (what the text report shows too);
// null for -1 (unavailable) and anything not finite.
Json Figure(double v) {
  if (!std::isfinite(v) || v < 0) return nullptr;
  char text[64];
  std::snprintf(text, sizeof(text), "%.6g", v);
  return std::strtod(text, nullptr);
}

struct OpShare {
  std::string op;
  size_t nodes = 0;
  double ms = 0;
};

// The profile by op label, slowest first (as FormatProfile prints it).
std::vector<OpShare> OpShares(const runtime::ProgramProfile& profile) {
  std::vector<OpShare> ops;
  for (const runtime::StepProfile& step : profile.steps) {
    auto it = std::find_if(ops.begin(), ops.end(),
                           [&](const OpShare& o) { return o.op == step.op; });
    if (it == ops.end()) it = ops.insert(ops.end(), OpShare{step.op});
    ++it->nodes;
    it->ms += 1e3 * step.seconds / static_cast<double>(step.calls);
  }
  std::stable_sort(
      ops.begin(), ops.end(),
      [](const OpShare& a, const OpShare& b) { return a.ms > b.ms; });
  return ops;
}

Json ProfileJson(const runtime::ProgramProfile& profile) {
  const double run_ms = 1e3 * profile.seconds / profile.runs;
  double steps_ms = 0;
  Json ops = Json::array();
  for (const OpShare& op : OpShares(profile)) {
    steps_ms += op.ms;
    ops.push_back(
        {{"op", op.op}, {"nodes", op.nodes}, {"ms_per_run", Figure(op.ms)}});
  }
  Json nodes = Json::array();
  for (const runtime::StepProfile& step : profile.steps) {
    nodes.push_back({{"node", step.node},
                     {"op", step.op},
                     {"ms_per_run", Figure(1e3 * step.seconds /
                                           static_cast<double>(step.calls))}});
  }
  return {
      {"runs", profile.runs},
      {"ms_per_run", Figure(run_ms)},
      {"outside_kernels_ms_per_run", Figure(std::max(0.0, run_ms - steps_ms))},
      {"ops", std::move(ops)},
      {"nodes", std::move(nodes)}};
}

}  // namespace

double Percentile(const std::vector<double>& sorted, double p) {
  const double rank = p / 100.0 * static_cast<double>(sorted.size() - 1);
  const size_t below = static_cast<size_t>(std::floor(rank));
  const size_t above = std::min(below + 1, sorted.size() - 1);
  const double fraction = rank - static_cast<double>(below);
  return sorted[below] + fraction * (sorted[above] - sorted[below]);
}

LatencyStats Summarize(std::vector<double> ms) {
  std::sort(ms.begin(), ms.end());
  LatencyStats s;
  for (double v : ms) s.total += v;
  s.min = ms.front();
  s.max = ms.back();
  s.mean = s.total / static_cast<double>(ms.size());
  s.p50 = Percentile(ms, 50);
  s.p90 = Percentile(ms, 90);
  s.p99 = Percentile(ms, 99);
  return s;
}

void PrintBenchFigures(const BenchFigures& f) {
  std::printf("batch %lld, %d thread%s, %d warmup, %d timed runs\n",
              static_cast<long long>(f.samples), f.threads,
              f.threads == 1 ? "" : "s", f.warmup, f.iterations);
  std::printf("session creation  %10.3f ms\n", f.create_ms);
  std::printf("first run         %10.3f ms\n", f.first_run_ms);
  const LatencyStats& s = f.latency;
  std::printf(
      "latency ms        min %.3f  p50 %.3f  p90 %.3f  p99 %.3f  mean %.3f  "
      "max %.3f\n",
      s.min, s.p50, s.p90, s.p99, s.mean, s.max);
  std::printf("throughput        %10.1f samples/s\n", f.throughput);
  std::printf(
      "memory MB         RSS before load %.1f, after load %.1f, after runs "
      "%.1f, peak %.1f\n",
      f.rss_before_load_mb, f.rss_after_load_mb, f.rss_after_runs_mb,
      f.peak_rss_mb);
  std::printf("page faults/run   %10.1f\n", f.minor_faults_per_run);
  for (const auto& [name, path] : f.written) {
    std::printf("output '%s' -> %s\n", name.c_str(), path.c_str());
  }
  for (const runtime::ProgramProfile& p : f.profile) {
    std::printf("%s", runtime::FormatProfile(p, 15).c_str());
  }
}

std::string BenchFiguresToJson(const BenchFigures& f) {
  Json inputs = Json::array();
  for (const ModelInput& input : *f.inputs) {
    inputs.push_back({{"name", input.name},
                      {"shape", input.tensor.shape()},
                      {"source", input.origin}});
  }
  Json latencies = Json::array();
  for (double ms : f.latencies_ms) latencies.push_back(Figure(ms));
  const LatencyStats& s = f.latency;
  Json json = {{"model", f.model},
               {"batch", f.samples},
               {"threads", f.threads},
               {"warmup", f.warmup},
               {"iterations", f.iterations},
               {"fold", f.fold},
               {"batch_norms", f.batch_norms},
               {"batch_norms_folded", f.fold ? f.batch_norms_folded : 0},
               {"inputs", std::move(inputs)},
               {"session_create_ms", Figure(f.create_ms)},
               {"first_run_ms", Figure(f.first_run_ms)},
               {"latency_ms",
                {{"min", Figure(s.min)},
                 {"p50", Figure(s.p50)},
                 {"p90", Figure(s.p90)},
                 {"p99", Figure(s.p99)},
                 {"mean", Figure(s.mean)},
                 {"max", Figure(s.max)}}},
               {"latencies_ms", std::move(latencies)},
               {"throughput_samples_per_s", Figure(f.throughput)},
               {"rss_before_load_mb", Figure(f.rss_before_load_mb)},
               {"rss_after_load_mb", Figure(f.rss_after_load_mb)},
               {"rss_after_runs_mb", Figure(f.rss_after_runs_mb)},
               {"peak_rss_mb", Figure(f.peak_rss_mb)},
               {"minor_page_faults_per_run", Figure(f.minor_faults_per_run)}};
  if (!f.written.empty()) json["outputs"] = f.written;
  if (f.profile_requested) {
    json["profile"] =
        f.profile.empty() ? Json(nullptr) : ProfileJson(f.profile[0]);
  }
  return graph::DumpJson(json);
}

}  // namespace foldrt
