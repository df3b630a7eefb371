#include "tools/foldrt/bench_command.h"

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "graph/json_writer.h"
#include "graph/passes/fold_report.h"
#include "core/error.h"
#include "core/npy.h"
#include "core/tensor.h"
#include "runtime/program.h"
#include "runtime/session.h"
#include "tools/foldrt/fold_command.h"
#include "tools/foldrt/run_command.h"

namespace foldrt {

const char kBenchUsage[] =
    "foldrt bench MODEL.onnx [--batch N] [--threads N] [--iterations N]\n"
    "             [--warmup N] [--no-fold] [--json FILE] [--profile]\n"
    "             [--input NAME=FILE.npy]... [--output-dir DIR]\n"
    "  times session creation, the first run and --iterations runs after\n"
    "  --warmup runs; prints latency min/p50/p90/p99, throughput, resident\n"
    "  memory and page faults per run\n"
    "  --batch N            size of every dim the model leaves free\n"
    "                       (symbolic or unknown; default 1)\n"
    "  --threads N          0 = all cores (default 1)\n"
    "  --iterations N       timed runs (default 50)\n"
    "  --warmup N           untimed runs first (default 5)\n"
    "  --no-fold            run every BatchNormalization standalone\n"
    "  --json FILE          also write the figures as JSON\n"
    "  --profile            per-op and per-node time of the timed runs\n"
    "                       (FOLDRT_PROFILE=1 prints it at exit for any\n"
    "                       command)\n"
    "  --input NAME=FILE    float32 .npy for input NAME instead of seeded\n"
    "                       random normal data (a one-input model also\n"
    "                       takes --input FILE.npy)\n"
    "  --output-dir DIR     write the last run's outputs as\n"
    "                       DIR/<output name>.npy\n";

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using runtime::Session;
using runtime::ValueInfo;

struct BenchArgs {
  std::string model;
  int64_t batch = 1;
  bool batch_given = false;
  int threads = 1;
  int iterations = 50;
  int warmup = 5;
  bool fold = true;
  bool profile = false;
  std::string json;
  std::vector<std::string> input_specs;
  std::string output_dir;
};

int64_t ParseCount(const std::string& flag, const std::string& value,
                   int64_t min) {
  try {
    size_t used = 0;
    const long long v = std::stoll(value, &used);
    if (used == value.size() && v >= min && v <= (int64_t{1} << 31)) return v;
  } catch (const std::logic_error&) {
  }
  throw UsageError("bad value '" + value + "' for " + flag + " (expected " +
                   (min == 0 ? "0 or a positive count" : "a positive count") +
                   ")");
}

BenchArgs ParseBenchArgs(const std::vector<std::string>& args) {
  BenchArgs parsed;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    auto value = [&]() -> const std::string& {
      if (i + 1 >= args.size()) throw UsageError(arg + " needs a value");
      return args[++i];
    };
    if (arg == "--batch") {
      parsed.batch = ParseCount(arg, value(), 1);
      parsed.batch_given = true;
    } else if (arg == "--threads") {
      parsed.threads = static_cast<int>(ParseCount(arg, value(), 0));
    } else if (arg == "--iterations") {
      parsed.iterations = static_cast<int>(ParseCount(arg, value(), 1));
    } else if (arg == "--warmup") {
      parsed.warmup = static_cast<int>(ParseCount(arg, value(), 0));
    } else if (arg == "--no-fold") {
      parsed.fold = false;
    } else if (arg == "--profile") {
      parsed.profile = true;
    } else if (arg == "--json") {
      parsed.json = value();
    } else if (arg == "--input") {
      parsed.input_specs.push_back(value());
    } else if (arg == "--output-dir") {
      parsed.output_dir = value();
    } else if (!arg.empty() && arg[0] == '-') {
      throw UsageError("unknown option '" + arg + "' for bench");
    } else if (parsed.model.empty()) {
      parsed.model = arg;
    } else {
      throw UsageError("bench takes one model, got '" + parsed.model +
                       "' and '" + arg + "'");
    }
  }
  if (parsed.model.empty()) throw UsageError("bench needs a model");
  return parsed;
}

// --input specs -> file per input name (NAME=FILE, or FILE for a one-input
// model; a path may itself contain '=').
std::map<std::string, std::string> MatchInputFiles(
    const std::vector<std::string>& specs,
    const std::vector<ValueInfo>& inputs) {
  std::map<std::string, std::string> files;
  for (const std::string& spec : specs) {
    std::string name;
    std::string file = spec;
    const size_t equals = spec.find('=');
    if (equals != std::string::npos) {
      for (const ValueInfo& info : inputs) {
        if (info.name == spec.substr(0, equals)) name = info.name;
      }
      if (!name.empty()) file = spec.substr(equals + 1);
    }
    if (name.empty()) {
      if (inputs.size() != 1) {
        throw UsageError("--input '" + spec +
                         "' names no input of the model; use NAME=FILE.npy");
      }
      name = inputs[0].name;
    }
    if (!files.emplace(name, file).second) {
      throw UsageError("input '" + name + "' is given twice");
    }
  }
  return files;
}

struct BenchInput {
  std::string name;
  std::string origin;
  Tensor tensor;
};

// The inputs of every run: the given .npy files, else seeded standard
// normal data (int64: zeros, valid as indices and shapes) of the declared
// shape with every dim that is not fixed set to `batch`.
std::vector<BenchInput> MakeInputs(const Session& session,
                                   const BenchArgs& args) {
  const std::map<std::string, std::string> files =
      MatchInputFiles(args.input_specs, session.inputs());
  std::vector<BenchInput> inputs;
  for (size_t i = 0; i < session.inputs().size(); ++i) {
    const ValueInfo& info = session.inputs()[i];
    BenchInput input{info.name, "", Tensor()};
    const auto file = files.find(info.name);
    if (file != files.end()) {
      if (info.dtype != DataType::kFloat32) {
        throw InvalidArgumentError("input '" + info.name + "' is " +
                                       DataTypeName(info.dtype) +
                                       "; .npy inputs are float32",
                                   ErrorContext{file->second, "", ""});
      }
      const NpyArrayF32 array = ReadNpyF32(file->second);
      input.tensor = Tensor::FromFloats(array.shape, array.data);
      input.origin = "from " + file->second;
      // The throughput counts --batch samples per run: a file must agree.
      if (info.shape && info.shape->size() == array.shape.size()) {
        for (size_t d = 0; d < array.shape.size(); ++d) {
          if (!(*info.shape)[d].known() && array.shape[d] != args.batch) {
            throw InvalidArgumentError(
                "input '" + info.name + "' has " + (*info.shape)[d].ToString() +
                    " = " + std::to_string(array.shape[d]) + " (axis " +
                    std::to_string(d) + ") but --batch is " +
                    std::to_string(args.batch),
                ErrorContext{file->second, "", ""});
          }
        }
      }
    } else {
      if (!info.shape) {
        throw UsageError("input '" + info.name +
                         "' declares no shape; give it with --input " +
                         info.name + "=FILE.npy");
      }
      std::vector<int64_t> shape;
      for (const runtime::Dimension& d : *info.shape) {
        shape.push_back(d.known() ? d.value : args.batch);
      }
      if (info.dtype == DataType::kInt64) {
        input.tensor = Tensor::Zeros(DataType::kInt64, shape);
        input.origin = "zeros";
      } else {
        std::vector<float> values(static_cast<size_t>(ShapeNumElements(shape)));
        const uint32_t seed = static_cast<uint32_t>(i);
        std::mt19937 generator(seed);
        std::normal_distribution<float> normal(0.0f, 1.0f);
        for (float& v : values) v = normal(generator);
        input.tensor = Tensor::FromFloats(shape, values);
        input.origin = "random normal, seed " + std::to_string(seed);
      }
    }
    inputs.push_back(std::move(input));
  }
  return inputs;
}

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

std::string Number(double v) {
  if (!std::isfinite(v) || v < 0) return "null";
  char text[64];
  std::snprintf(text, sizeof(text), "%.6g", v);
  return text;
}

std::string JsonShape(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    s += (i ? ", " : "") + std::to_string(shape[i]);
  }
  return s + "]";
}

struct LatencyStats {
  double min = 0, p50 = 0, p90 = 0, p99 = 0, mean = 0, max = 0, total = 0;
};

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

std::string ProfileJson(const runtime::ProgramProfile& profile) {
  using graph::JsonQuote;
  const double run_ms = 1e3 * profile.seconds / profile.runs;
  double steps_ms = 0;
  std::string ops = "[";
  for (const OpShare& op : OpShares(profile)) {
    steps_ms += op.ms;
    ops += std::string(ops.size() > 1 ? ", " : "") +
           "{\"op\": " + JsonQuote(op.op) +
           ", \"nodes\": " + std::to_string(op.nodes) +
           ", \"ms_per_run\": " + Number(op.ms) + "}";
  }
  ops += "]";
  std::string nodes = "[";
  for (const runtime::StepProfile& step : profile.steps) {
    nodes += std::string(nodes.size() > 1 ? ", " : "") +
             "{\"node\": " + JsonQuote(step.node) +
             ", \"op\": " + JsonQuote(step.op) + ", \"ms_per_run\": " +
             Number(1e3 * step.seconds / static_cast<double>(step.calls)) + "}";
  }
  nodes += "]";
  return "{\"runs\": " + std::to_string(profile.runs) +
         ", \"ms_per_run\": " + Number(run_ms) +
         ", \"outside_kernels_ms_per_run\": " +
         Number(std::max(0.0, run_ms - steps_ms)) + ", \"ops\": " + ops +
         ", \"nodes\": " + nodes + "}";
}

void WriteTextFile(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  out.close();
  if (!out) {
    throw IoError("cannot write the JSON report", ErrorContext{path, "", ""});
  }
}

// Writes every float32 output as DIR/<sanitized name>.npy; returns the
// file per output name.
std::map<std::string, std::string> WriteOutputs(
    const std::string& dir, const Session& session,
    const std::map<std::string, Tensor>& outputs) {
  std::error_code error;
  fs::create_directories(dir, error);
  if (error) {
    throw IoError("cannot create the output folder: " + error.message(),
                  ErrorContext{dir, "", ""});
  }
  std::map<std::string, std::string> written;
  std::set<std::string> used;
  for (const ValueInfo& info : session.outputs()) {
    const Tensor& tensor = outputs.at(info.name);
    if (tensor.dtype() != DataType::kFloat32) continue;
    // Distinct names can sanitize to one file name: number the rest.
    const std::string base = SanitizeFileName(info.name);
    std::string file = base;
    for (int n = 2; !used.insert(file).second; ++n) {
      file = base + "_" + std::to_string(n);
    }
    const std::string path = (fs::path(dir) / (file + ".npy")).string();
    WriteNpyF32(path, tensor.shape(), tensor.data<float>());
    written[info.name] = path;
  }
  return written;
}

}  // namespace

double Percentile(const std::vector<double>& sorted, double p) {
  const double rank = p / 100.0 * static_cast<double>(sorted.size() - 1);
  const size_t below = static_cast<size_t>(std::floor(rank));
  const size_t above = std::min(below + 1, sorted.size() - 1);
  const double fraction = rank - static_cast<double>(below);
  return sorted[below] + fraction * (sorted[above] - sorted[below]);
}

int RunBench(const std::vector<std::string>& args) {
  const BenchArgs parsed = ParseBenchArgs(args);
  runtime::SessionOptions options;
  options.threads = parsed.threads;
  options.fold = parsed.fold;

  const double rss_before_load = ResidentMegabytes();
  const Clock::time_point load_start = Clock::now();
  const std::unique_ptr<Session> session = Session::Load(parsed.model, options);
  const double create_ms = Milliseconds(load_start, Clock::now());
  const double rss_after_load = ResidentMegabytes();

  const int64_t samples = SamplesPerRun(*session, parsed);
  const std::vector<BenchInput> bench_inputs = MakeInputs(*session, parsed);
  std::map<std::string, Tensor> inputs;
  for (const BenchInput& input : bench_inputs) {
    inputs.emplace(input.name, input.tensor);
  }

  // The first run plans the input shapes and JIT-compiles the oneDNN
  // primitives: reported apart from the steady state.
  Progress progress;
  double first_run_ms = -1;
  std::map<std::string, Tensor> outputs;
  for (int i = 0; i < parsed.warmup; ++i) {
    const Clock::time_point start = Clock::now();
    outputs = session->Run(inputs);
    const double ms = Milliseconds(start, Clock::now());
    if (i == 0) first_run_ms = ms;
    progress.Update("warmup", i + 1, parsed.warmup, ms);
  }
  // Only the timed runs count in a profile (FOLDRT_PROFILE=1 included).
  if (parsed.profile) runtime::SetProfiling(true);
  if (runtime::ProfilingEnabled()) runtime::ResetProfile();

  const Usage usage_before = CurrentUsage();
  std::vector<double> latencies;
  latencies.reserve(static_cast<size_t>(parsed.iterations));
  for (int i = 0; i < parsed.iterations; ++i) {
    const Clock::time_point start = Clock::now();
    outputs = session->Run(inputs);
    latencies.push_back(Milliseconds(start, Clock::now()));
    progress.Update("run", i + 1, parsed.iterations, latencies.back());
  }
  progress.Clear();
  const Usage usage_after = CurrentUsage();
  const double rss_after_runs = ResidentMegabytes();
  // ru_maxrss and /proc/self/statm are sampled differently (the kernel
  // updates the high-water mark lazily): the peak is the largest of all.
  const double peak_rss =
      std::max({usage_after.peak_rss_mb, rss_after_load, rss_after_runs});
  if (first_run_ms < 0) first_run_ms = latencies.front();

  std::vector<runtime::ProgramProfile> profile;
  if (parsed.profile) {
    profile = runtime::ProfileSnapshot();
    runtime::SetProfiling(false);
    // Reported here; nothing left for FOLDRT_PROFILE's report at exit.
    runtime::ResetProfile();
  }

  const LatencyStats stats = Summarize(latencies);
  const double throughput =
      static_cast<double>(samples) * parsed.iterations / (stats.total / 1e3);
  const double faults_per_run = static_cast<double>(usage_after.minor_faults -
                                                    usage_before.minor_faults) /
                                parsed.iterations;
  const graph::FoldReport& report = session->fold_report();
  const size_t batch_norms = report.batch_norms.size();
  const size_t folded =
      batch_norms - report.CountFate(graph::BatchNormFate::kNotFolded);

  std::map<std::string, std::string> written;
  if (!parsed.output_dir.empty()) {
    written = WriteOutputs(parsed.output_dir, *session, outputs);
  }

  std::printf("model %s\n", parsed.model.c_str());
  if (parsed.fold) {
    std::printf("BatchNormalization: %zu of %zu folded\n", folded, batch_norms);
  } else {
    std::printf("BatchNormalization: not folded (--no-fold)\n");
  }
  for (const BenchInput& input : bench_inputs) {
    std::printf("input '%s': %s %s, %s\n", input.name.c_str(),
                DataTypeName(input.tensor.dtype()),
                ShapeToString(input.tensor.shape()).c_str(),
                input.origin.c_str());
  }
  std::printf("batch %lld, %d thread%s, %d warmup, %d timed runs\n",
              static_cast<long long>(samples), session->threads(),
              session->threads() == 1 ? "" : "s", parsed.warmup,
              parsed.iterations);
  std::printf("session creation  %10.3f ms\n", create_ms);
  std::printf("first run         %10.3f ms\n", first_run_ms);
  std::printf(
      "latency ms        min %.3f  p50 %.3f  p90 %.3f  p99 %.3f  mean %.3f  "
      "max %.3f\n",
      stats.min, stats.p50, stats.p90, stats.p99, stats.mean, stats.max);
  std::printf("throughput        %10.1f samples/s\n", throughput);
  std::printf(
      "memory MB         RSS before load %.1f, after load %.1f, after runs "
      "%.1f, peak %.1f\n",
      rss_before_load, rss_after_load, rss_after_runs, peak_rss);
  std::printf("page faults/run   %10.1f\n", faults_per_run);
  for (const auto& [name, path] : written) {
    std::printf("output '%s' -> %s\n", name.c_str(), path.c_str());
  }
  for (const runtime::ProgramProfile& p : profile) {
    std::printf("%s", runtime::FormatProfile(p, 15).c_str());
  }

  if (!parsed.json.empty()) {
    using graph::JsonQuote;
    std::string json = "{\n";
    json += "  \"model\": " + JsonQuote(parsed.model) + ",\n";
    json += "  \"batch\": " + std::to_string(samples) + ",\n";
    json += "  \"threads\": " + std::to_string(session->threads()) + ",\n";
    json += "  \"warmup\": " + std::to_string(parsed.warmup) + ",\n";
    json += "  \"iterations\": " + std::to_string(parsed.iterations) + ",\n";
    json +=
        std::string("  \"fold\": ") + (parsed.fold ? "true" : "false") + ",\n";
    json += "  \"batch_norms\": " + std::to_string(batch_norms) +
            ", \"batch_norms_folded\": " +
            std::to_string(parsed.fold ? folded : 0) + ",\n";
    json += "  \"inputs\": [";
    for (size_t i = 0; i < bench_inputs.size(); ++i) {
      json += std::string(i ? ", " : "") +
              "{\"name\": " + JsonQuote(bench_inputs[i].name) +
              ", \"shape\": " + JsonShape(bench_inputs[i].tensor.shape()) +
              ", \"source\": " + JsonQuote(bench_inputs[i].origin) + "}";
    }
    json += "],\n";
    json += "  \"session_create_ms\": " + Number(create_ms) + ",\n";
    json += "  \"first_run_ms\": " + Number(first_run_ms) + ",\n";
    json += "  \"latency_ms\": {\"min\": " + Number(stats.min) +
            ", \"p50\": " + Number(stats.p50) +
            ", \"p90\": " + Number(stats.p90) +
            ", \"p99\": " + Number(stats.p99) +
            ", \"mean\": " + Number(stats.mean) +
            ", \"max\": " + Number(stats.max) + "},\n";
    json += "  \"latencies_ms\": [";
    for (size_t i = 0; i < latencies.size(); ++i) {
      json += (i ? ", " : "") + Number(latencies[i]);
    }
    json += "],\n";
    json += "  \"throughput_samples_per_s\": " + Number(throughput) + ",\n";
    json += "  \"rss_before_load_mb\": " + Number(rss_before_load) + ",\n";
    json += "  \"rss_after_load_mb\": " + Number(rss_after_load) + ",\n";
    json += "  \"rss_after_runs_mb\": " + Number(rss_after_runs) + ",\n";
    json += "  \"peak_rss_mb\": " + Number(peak_rss) + ",\n";
    json += "  \"minor_page_faults_per_run\": " + Number(faults_per_run);
    if (!written.empty()) {
      json += ",\n  \"outputs\": {";
      bool first = true;
      for (const auto& [name, path] : written) {
        json += std::string(first ? "" : ", ") + JsonQuote(name) + ": " +
                JsonQuote(path);
        first = false;
      }
      json += "}";
    }
    if (parsed.profile) {
      json += ",\n  \"profile\": " +
              (profile.empty() ? std::string("null") : ProfileJson(profile[0]));
    }
    json += "\n}\n";
    WriteTextFile(parsed.json, json);
  }
  return 0;
}

}  // namespace foldrt
