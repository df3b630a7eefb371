#include "tools/foldrt/run_command.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <limits>
#include <map>
#include <random>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "graph/passes/fold_report.h"
#include "core/error.h"
#include "core/npy.h"
#include "core/tensor.h"
#include "runtime/session.h"
#include "tools/foldrt/fold_command.h"
#include "tools/foldrt/model_check.h"

namespace foldrt {

const char kRunUsage[] =
    "foldrt run MODEL.onnx [--input NAME=FILE.npy]... [--output-dir DIR]\n"
    "           [--threads N] [--no-fold] [--expect NAME=REF.npy]...\n"
    "  runs the model once (BatchNormalization folded at load) and prints\n"
    "  each output's shape and range, and the top-5 classes of a (1, K)\n"
    "  output; convolutions run the direct algorithm (one run does not pay\n"
    "  back Winograd's weight transform; FOLDRT_WINOGRAD=1 allows it)\n"
    "  --input NAME=FILE    float32 .npy for input NAME (repeatable); a\n"
    "                       one-input model also takes --input FILE.npy;\n"
    "                       inputs not given get seeded random normal data\n"
    "                       of the declared shape (symbolic dims = 1)\n"
    "  --output-dir DIR     write DIR/<output name>.npy for every output\n"
    "  --threads N          0 = all cores (default 0)\n"
    "  --no-fold            run every BatchNormalization standalone\n"
    "  --expect NAME=REF    check output NAME against float32 .npy REF\n"
    "                       (repeatable; a one-output model also takes\n"
    "                       --expect REF.npy): relative L2 <= 1e-4 and\n"
    "                       max|diff| <= 1e-3 * max|REF|, else exit 1\n";

namespace {

namespace fs = std::filesystem;
using runtime::Session;
using runtime::ValueInfo;

struct RunArgs {
  std::string model;
  std::vector<std::string> input_specs;
  std::vector<std::string> expect_specs;
  std::string output_dir;
  int threads = 0;
  bool fold = true;
};

int ParseThreads(const std::string& value) {
  try {
    size_t used = 0;
    const int threads = std::stoi(value, &used);
    if (used == value.size() && threads >= 0) return threads;
  } catch (const std::logic_error&) {
  }
  throw UsageError("bad value '" + value +
                   "' for --threads (expected 0 or a positive count)");
}

RunArgs ParseRunArgs(const std::vector<std::string>& args) {
  RunArgs parsed;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    auto value = [&]() -> const std::string& {
      if (i + 1 >= args.size()) throw UsageError(arg + " needs a value");
      return args[++i];
    };
    if (arg == "--input") {
      parsed.input_specs.push_back(value());
    } else if (arg == "--expect") {
      parsed.expect_specs.push_back(value());
    } else if (arg == "--output-dir") {
      parsed.output_dir = value();
    } else if (arg == "--threads") {
      parsed.threads = ParseThreads(value());
    } else if (arg == "--no-fold") {
      parsed.fold = false;
    } else if (!arg.empty() && arg[0] == '-') {
      throw UsageError("unknown option '" + arg + "' for run");
    } else if (parsed.model.empty()) {
      parsed.model = arg;
    } else {
      throw UsageError("run takes one model, got '" + parsed.model + "' and '" +
                       arg + "'");
    }
  }
  if (parsed.model.empty()) throw UsageError("run needs a model");
  return parsed;
}

std::string ValueNames(const std::vector<ValueInfo>& values) {
  std::string names;
  for (const ValueInfo& info : values) {
    names += (names.empty() ? "'" : ", '") + info.name + "'";
  }
  return names;
}

// --input (kind "input") or --expect (kind "output") specs -> file per
// input or output name.
std::map<std::string, std::string> MatchFiles(
    const std::vector<std::string>& specs, const std::vector<ValueInfo>& values,
    const std::string& kind) {
  std::map<std::string, std::string> files;
  for (const std::string& spec : specs) {
    std::string name;
    std::string file = spec;
    const size_t equals = spec.find('=');
    bool named = false;
    if (equals != std::string::npos) {
      const std::string prefix = spec.substr(0, equals);
      for (const ValueInfo& info : values) named = named || info.name == prefix;
      if (named) {
        name = prefix;
        file = spec.substr(equals + 1);
      }
    }
    if (!named) {
      // A path may contain '=' too: a spec naming no value is a file for
      // the only one.
      if (values.size() != 1) {
        throw UsageError(std::string(kind == "input" ? "--input" : "--expect") +
                         " '" + spec + "' names no " + kind +
                         " of the model; use NAME=FILE.npy with one of " +
                         ValueNames(values));
      }
      name = values[0].name;
    }
    if (!files.emplace(name, file).second) {
      throw UsageError(kind + " '" + name + "' is given twice");
    }
  }
  return files;
}

// Seeded standard normal data (int64 inputs: zeros, which are valid
// indices and shapes) of the declared shape, symbolic and unknown dims 1.
// At most `max_elements`: a model declaring (N, 100000, 100000) would
// otherwise end in bad_alloc here, before Session::Run checks its limit.
void PrintOutputSummary(const std::string& name, const Tensor& tensor,
                        const std::string& written_to) {
  std::printf("output '%s': %s %s", name.c_str(), DataTypeName(tensor.dtype()),
              ShapeToString(tensor.shape()).c_str());
  const int64_t count = tensor.NumElements();
  if (tensor.dtype() == DataType::kFloat32 && count > 0) {
    const float* data = tensor.data<float>();
    const auto [lo, hi] = std::minmax_element(data, data + count);
    double sum = 0.0;
    for (int64_t i = 0; i < count; ++i) sum += data[i];
    std::printf("  min %.6g  max %.6g  mean %.6g", *lo, *hi, sum / count);
  }
  std::printf("%s\n", written_to.c_str());
  // A classifier's scores: (1, K).
  if (tensor.dtype() == DataType::kFloat32 && tensor.rank() == 2 &&
      tensor.shape()[0] == 1 && tensor.shape()[1] > 1) {
    const float* scores = tensor.data<float>();
    std::vector<int64_t> order(static_cast<size_t>(tensor.shape()[1]));
    for (size_t i = 0; i < order.size(); ++i) {
      order[i] = static_cast<int64_t>(i);
    }
    const size_t top = std::min<size_t>(5, order.size());
    std::partial_sort(order.begin(), order.begin() + top, order.end(),
                      [&](int64_t a, int64_t b) {
                        return scores[a] > scores[b] ||
                               (scores[a] == scores[b] && a < b);
                      });
    std::printf("  top-%zu:", top);
    for (size_t i = 0; i < top; ++i) {
      std::printf("%s class %lld (%.6g)", i ? "," : "",
                  static_cast<long long>(order[i]), scores[order[i]]);
    }
    std::printf("\n");
  }
}

// Compares output `name` with the reference read from `file` and prints one
// line. Returns why they do not match, or "" when they do.
std::string CheckExpected(const std::string& name, const Tensor& got,
                          const std::string& file, const NpyArrayF32& ref) {
  std::string problem;
  if (got.dtype() != DataType::kFloat32) {
    problem = "output '" + name + "' is " + DataTypeName(got.dtype()) +
              "; --expect compares float32 outputs";
  } else if (got.shape() != ref.shape) {
    problem = "output '" + name + "' is " + ShapeToString(got.shape()) +
              " but " + file + " holds " + ShapeToString(ref.shape);
  }
  if (!problem.empty()) {
    std::printf("expect '%s' = %s: MISMATCH (%s)\n", name.c_str(), file.c_str(),
                problem.c_str());
    return problem;
  }
  const OutputDeviation d =
      CompareOutputs(got.data<float>(), ref.data.data(), ref.data.size());
  char numbers[160];
  std::snprintf(numbers, sizeof(numbers),
                "relative L2 %.3g (limit %.0e), max|diff| %.3g = %.3g of "
                "max|ref| (limit %.0e)",
                d.relative_l2, kMaxRelativeL2, d.max_abs, d.max_abs_ratio,
                kMaxAbsOverMaxRef);
  if (d.non_finite > 0) {
    problem = "output '" + name + "' has " + std::to_string(d.non_finite) +
              " NaN or infinite values";
  } else if (!d.within_tolerance()) {
    problem = "output '" + name + "' does not match " + file + ": " + numbers;
  }
  std::printf("expect '%s' = %s: %s: %s\n", name.c_str(), file.c_str(), numbers,
              problem.empty() ? "ok" : "MISMATCH");
  return problem;
}

}  // namespace

std::string SanitizeFileName(const std::string& name) {
  std::string out;
  for (const char c : name) {
    const bool keep = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                      (c >= '0' && c <= '9') || c == '.' || c == '_' ||
                      c == '-';
    out += keep ? c : '_';
  }
  if (out.empty() || out == "." || out == "..") out = "_";
  return out;
}

int RunModel(const std::vector<std::string>& args) {
  const RunArgs parsed = ParseRunArgs(args);
  runtime::SessionOptions options;
  options.threads = parsed.threads;
  options.fold = parsed.fold;
  // One run: Winograd's timing and weight transform would cost more than
  // it saves (resnet18: +0.2 s against a 15 ms run).
  options.winograd = false;
  const std::unique_ptr<Session> session = Session::Load(parsed.model, options);

  const std::map<std::string, std::string> files =
      MatchFiles(parsed.input_specs, session->inputs(), "input");
  // References are read before the run, so a bad file fails fast.
  std::map<std::string, std::pair<std::string, NpyArrayF32>> expected;
  for (const auto& [name, file] :
       MatchFiles(parsed.expect_specs, session->outputs(), "output")) {
    expected.emplace(name, std::make_pair(file, ReadNpyF32(file)));
  }
  std::map<std::string, Tensor> inputs;
  std::printf("model %s\n", parsed.model.c_str());
  if (parsed.fold) {
    const graph::FoldReport& report = session->fold_report();
    const size_t total = report.batch_norms.size();
    std::printf("BatchNormalization: %zu of %zu folded\n",
                total - report.CountFate(graph::BatchNormFate::kNotFolded),
                total);
  } else {
    std::printf("BatchNormalization: not folded (--no-fold)\n");
  }
  for (size_t i = 0; i < session->inputs().size(); ++i) {
    const ValueInfo& info = session->inputs()[i];
    const auto file = files.find(info.name);
    Tensor tensor;
    std::string origin;
    if (file != files.end()) {
      if (info.dtype != DataType::kFloat32) {
        throw InvalidArgumentError("input '" + info.name + "' is " +
                                       DataTypeName(info.dtype) +
                                       "; .npy inputs are float32",
                                   ErrorContext{file->second, "", ""});
      }
      NpyArrayF32 array = ReadNpyF32(file->second);
      tensor = Tensor::FromFloats(array.shape, array.data);
      origin = "from " + file->second;
    } else {
      const uint32_t seed = static_cast<uint32_t>(i);
      tensor = RandomInput(info, seed, options.max_tensor_elements);
      origin = info.dtype == DataType::kFloat32
                   ? "random normal, seed " + std::to_string(seed)
                   : "zeros";
    }
    std::printf("input '%s': %s %s, %s\n", info.name.c_str(),
                DataTypeName(tensor.dtype()),
                ShapeToString(tensor.shape()).c_str(), origin.c_str());
    inputs.emplace(info.name, std::move(tensor));
  }

  const auto start = std::chrono::steady_clock::now();
  const std::map<std::string, Tensor> outputs = session->Run(inputs);
  const double ms = std::chrono::duration<double, std::milli>(
                        std::chrono::steady_clock::now() - start)
                        .count();
  std::printf("ran in %.3f ms on %d thread%s\n", ms, session->threads(),
              session->threads() == 1 ? "" : "s");

  if (!parsed.output_dir.empty()) {
    std::error_code error;
    fs::create_directories(parsed.output_dir, error);
    if (error) {
      throw IoError("cannot create the output folder: " + error.message(),
                    ErrorContext{parsed.output_dir, "", ""});
    }
  }
  std::set<std::string> used_names;
  for (const ValueInfo& info : session->outputs()) {
    const Tensor& tensor = outputs.at(info.name);
    std::string written_to;
    if (!parsed.output_dir.empty()) {
      if (tensor.dtype() != DataType::kFloat32) {
        written_to = "  (not written: .npy outputs are float32)";
      } else {
        // Distinct names can sanitize to one file name: number the rest.
        const std::string base = SanitizeFileName(info.name);
        std::string file = base;
        for (int n = 2; !used_names.insert(file).second; ++n) {
          file = base + "_" + std::to_string(n);
        }
        const std::string path =
            (fs::path(parsed.output_dir) / (file + ".npy")).string();
        WriteNpyF32(path, tensor.shape(), tensor.data<float>());
        written_to = " -> " + path;
      }
    }
    PrintOutputSummary(info.name, tensor, written_to);
  }
  std::vector<std::string> mismatches;
  for (const auto& [name, reference] : expected) {
    const std::string problem = CheckExpected(
        name, outputs.at(name), reference.first, reference.second);
    if (!problem.empty()) mismatches.push_back(problem);
  }
  if (!mismatches.empty()) {
    throw Error(mismatches.front() +
                (mismatches.size() > 1
                     ? " (and " + std::to_string(mismatches.size() - 1) +
                           " more outputs)"
                     : ""));
  }
  return 0;
}

}  // namespace foldrt
