// `foldrt bench`: its options and the measurement (session creation, the
// first run, warmup and timed runs, memory and page faults); the figures
// are reported by bench_report.cc.
#include "tools/foldrt/bench_command.h"

#include <sys/resource.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/error.h"
#include "core/tensor.h"
#include "graph/passes/fold_report.h"
#include "runtime/program.h"
#include "runtime/session.h"
#include "tools/foldrt/bench_report.h"
#include "tools/foldrt/cli.h"
#include "tools/foldrt/session_io.h"

namespace foldrt {

namespace {

using Clock = std::chrono::steady_clock;
using runtime::Session;
using runtime::ValueInfo;

struct BenchArgs {
  BenchArgs() { session.threads = 1; }  // bench defaults to one thread

  SessionArgs session;
  int64_t batch = 1;
  bool batch_given = false;
  int iterations = 50;
  int warmup = 5;
  bool profile = false;
  std::string json;
};

// A model without symbolic dims ignores --batch: refuse a --batch it cannot
// honour instead of reporting a throughput for samples that never ran.
int64_t SamplesPerRun(const Session& session, const BenchArgs& args) {
  bool any_free_dim = false;
  for (const ValueInfo& info : session.inputs()) {
    if (!info.shape) return args.batch;
    for (const runtime::Dimension& d : *info.shape) {
      any_free_dim = any_free_dim || !d.known();
    }
  }
  if (any_free_dim) return args.batch;
  if (session.inputs().empty()) {
    if (args.batch_given && args.batch != 1) {
      throw UsageError("the model has no inputs; --batch " +
                       std::to_string(args.batch) + " cannot apply");
    }
    return 1;
  }
  const ValueInfo& first = session.inputs().front();
  const int64_t fixed = first.shape->empty() ? 1 : first.shape->front().value;
  if (args.batch_given && args.batch != fixed) {
    throw UsageError("the model's input shapes are fixed (input '" +
                     first.name + "' is " + first.ShapeString() +
                     "); --batch " + std::to_string(args.batch) +
                     " cannot change them");
  }
  return fixed;
}

// The throughput counts --batch samples per run: an --input file must
// agree with it on every dim the model leaves free.
void CheckInputBatch(const Session& session,
                     const std::vector<ModelInput>& inputs, int64_t batch) {
  for (size_t i = 0; i < inputs.size(); ++i) {
    const ValueInfo& info = session.inputs()[i];
    const ModelInput& input = inputs[i];
    const std::vector<int64_t>& shape = input.tensor.shape();
    if (input.file.empty() || !info.shape ||
        info.shape->size() != shape.size()) {
      continue;
    }
    for (size_t d = 0; d < shape.size(); ++d) {
      if (!(*info.shape)[d].known() && shape[d] != batch) {
        throw InvalidArgumentError(
            "input '" + info.name + "' has " + (*info.shape)[d].ToString() +
                " = " + std::to_string(shape[d]) + " (axis " +
                std::to_string(d) + ") but --batch is " + std::to_string(batch),
            ErrorContext{input.file, "", ""});
      }
    }
  }
}

// Resident set size now, from /proc/self/statm; -1 where unavailable.
double ResidentMegabytes() {
  std::ifstream statm("/proc/self/statm");
  long long pages_total = 0, pages_resident = 0;
  if (!(statm >> pages_total >> pages_resident)) return -1;
  return static_cast<double>(pages_resident) * sysconf(_SC_PAGESIZE) / 1e6;
}

struct Usage {
  double peak_rss_mb = 0;
  long long minor_faults = 0;
};

Usage CurrentUsage() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  // Linux reports ru_maxrss in KiB.
  return Usage{static_cast<double>(usage.ru_maxrss) * 1024.0 / 1e6,
               usage.ru_minflt};
}

// One status line on stderr, rewritten in place; only on a terminal, so
// logs and pipes stay clean.
class Progress {
 public:
  Progress() : enabled_(isatty(STDERR_FILENO) == 1) {}
  ~Progress() { Clear(); }

  void Update(const char* phase, int done, int total, double last_ms) {
    if (!enabled_) return;
    const Clock::time_point now = Clock::now();
    if (done != total && now - last_ < std::chrono::milliseconds(100)) return;
    last_ = now;
    char line[128];
    const int n = std::snprintf(line, sizeof(line),
                                "foldrt bench: %s %d/%d, last %.3f ms", phase,
                                done, total, last_ms);
    width_ = std::max(width_, n);
    std::fprintf(stderr, "\r%-*s", width_, line);
    std::fflush(stderr);
  }

  void Clear() {
    if (!enabled_ || width_ == 0) return;
    std::fprintf(stderr, "\r%*s\r", width_, "");
    std::fflush(stderr);
    width_ = 0;
  }

 private:
  bool enabled_;
  int width_ = 0;
  Clock::time_point last_{};
};

double Milliseconds(Clock::time_point start, Clock::time_point end) {
  return std::chrono::duration<double, std::milli>(end - start).count();
}

void WriteTextFile(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  out.close();
  if (!out) {
    throw IoError("cannot write the JSON report", ErrorContext{path, "", ""});
  }
}

int RunBench(const BenchArgs& parsed) {
  const double rss_before_load = ResidentMegabytes();
  const Clock::time_point load_start = Clock::now();
  const std::unique_ptr<Session> session =
      LoadSession(parsed.session, runtime::SessionOptions());
  BenchFigures f;
  f.create_ms = Milliseconds(load_start, Clock::now());
  f.rss_before_load_mb = rss_before_load;
  f.rss_after_load_mb = ResidentMegabytes();

  f.samples = SamplesPerRun(*session, parsed);
  const std::vector<ModelInput> bench_inputs =
      MakeInputs(*session, parsed.session.input_specs, parsed.batch,
                 runtime::SessionOptions().max_tensor_elements);
  CheckInputBatch(*session, bench_inputs, parsed.batch);
  const std::map<std::string, Tensor> inputs = InputsByName(bench_inputs);

  // The first run plans the input shapes and JIT-compiles the oneDNN
  // primitives: reported apart from the steady state.
  Progress progress;
  f.first_run_ms = -1;
  std::map<std::string, Tensor> outputs;
  for (int i = 0; i < parsed.warmup; ++i) {
    const Clock::time_point start = Clock::now();
    outputs = session->Run(inputs);
    const double ms = Milliseconds(start, Clock::now());
    if (i == 0) f.first_run_ms = ms;
    progress.Update("warmup", i + 1, parsed.warmup, ms);
  }
  // Only the timed runs count in a profile (FOLDRT_PROFILE=1 included).
  if (parsed.profile) runtime::SetProfiling(true);
  if (runtime::ProfilingEnabled()) runtime::ResetProfile();

  const Usage usage_before = CurrentUsage();
  f.latencies_ms.reserve(static_cast<size_t>(parsed.iterations));
  for (int i = 0; i < parsed.iterations; ++i) {
    const Clock::time_point start = Clock::now();
    outputs = session->Run(inputs);
    f.latencies_ms.push_back(Milliseconds(start, Clock::now()));
    progress.Update("run", i + 1, parsed.iterations, f.latencies_ms.back());
  }
  progress.Clear();
  const Usage usage_after = CurrentUsage();
  f.rss_after_runs_mb = ResidentMegabytes();
  // ru_maxrss and /proc/self/statm are sampled differently (the kernel
  // updates the high-water mark lazily): the peak is the largest of all.
  f.peak_rss_mb = std::max(
      {usage_after.peak_rss_mb, f.rss_after_load_mb, f.rss_after_runs_mb});
  if (f.first_run_ms < 0) f.first_run_ms = f.latencies_ms.front();

  f.profile_requested = parsed.profile;
  if (parsed.profile) {
    f.profile = runtime::ProfileSnapshot();
    runtime::SetProfiling(false);
    // Reported here; nothing left for FOLDRT_PROFILE's report at exit.
    runtime::ResetProfile();
  }

  f.latency = Summarize(f.latencies_ms);
  f.throughput = static_cast<double>(f.samples) * parsed.iterations /
                 (f.latency.total / 1e3);
  f.minor_faults_per_run = static_cast<double>(usage_after.minor_faults -
                                               usage_before.minor_faults) /
                           parsed.iterations;
  const graph::FoldReport& report = session->fold_report();
  f.batch_norms = report.batch_norms.size();
  f.batch_norms_folded =
      f.batch_norms - report.CountFate(graph::BatchNormFate::kNotFolded);
  if (!parsed.session.output_dir.empty()) {
    f.written = WriteOutputs(parsed.session.output_dir, *session, outputs);
  }
  f.model = parsed.session.model;
  f.threads = session->threads();
  f.warmup = parsed.warmup;
  f.iterations = parsed.iterations;
  f.fold = parsed.session.fold;
  f.inputs = &bench_inputs;

  PrintModel(*session, parsed.session);
  PrintInputs(bench_inputs);
  PrintBenchFigures(f);
  if (!parsed.json.empty()) WriteTextFile(parsed.json, BenchFiguresToJson(f));
  return 0;
}

constexpr CommandInfo kBenchCommand = {
    "bench", "time a model: latency percentiles, throughput, memory",
    "foldrt bench MODEL.onnx [--batch N] [--threads N] [--iterations N]\n"
    "             [--warmup N] [--no-fold] [--json FILE] [--profile]\n"
    "             [--input NAME=FILE.npy]... [--output-dir DIR]",
    "  times session creation, the first run and --iterations runs after\n"
    "  --warmup runs; prints latency min/p50/p90/p99, throughput, resident\n"
    "  memory and page faults per run\n"};

void AddBenchOptions(CLI::App* command, BenchArgs* args) {
  AddSessionOptions(command,
                    "float32 .npy for input NAME instead of seeded random "
                    "normal data (a one-input model also takes --input "
                    "FILE.npy)",
                    "write the last run's outputs as DIR/<output name>.npy",
                    &args->session);
  AddConvertedOption(
      command, "--batch", "N",
      "size of every dim the model leaves free (symbolic or unknown; "
      "default 1)",
      [args](const std::string& flag, const std::string& value) {
        args->batch = ParseCount(flag, value, 1, int64_t{1} << 31);
        args->batch_given = true;
      });
  AddCountOption(command, "--iterations", "timed runs (default 50)", 1,
                 &args->iterations);
  AddCountOption(command, "--warmup", "untimed runs first (default 5)", 0,
                 &args->warmup);
  command->add_option("--json", args->json, "also write the figures as JSON")
      ->type_name("FILE");
  command->add_flag("--profile", args->profile,
                    "per-op and per-node time of the timed runs "
                    "(FOLDRT_PROFILE=1 prints it at exit for any command)");
}

}  // namespace

CommandRun AddBenchCommand(CLI::App* app) {
  return AddCommand(app, kBenchCommand, AddBenchOptions, RunBench);
}

}  // namespace foldrt
