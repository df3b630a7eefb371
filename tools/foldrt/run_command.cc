#include "tools/foldrt/run_command.h"

#include <CLI/CLI.hpp>
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

#include "core/error.h"
#include "core/npy.h"
#include "core/tensor.h"
#include "graph/passes/fold_report.h"
#include "runtime/session.h"
#include "tools/foldrt/cli.h"
#include "tools/foldrt/model_check.h"
#include "tools/foldrt/session_io.h"

namespace foldrt {

namespace {

namespace fs = std::filesystem;
using runtime::Session;
using runtime::ValueInfo;

struct RunArgs {
  SessionArgs session;
  std::vector<std::string> expect_specs;
};

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

int RunModel(const RunArgs& parsed) {
  runtime::SessionOptions options;
  // One run: Winograd's timing and weight transform would cost more than
  // it saves (resnet18: +0.2 s against a 15 ms run).
  options.winograd = false;
  const std::unique_ptr<Session> session = LoadSession(parsed.session, options);

  // Files are matched before anything runs, so a bad spec fails fast.
  MatchFiles(parsed.session.input_specs, session->inputs(), "input");
  // References are read before the run, so a bad file fails fast.
  std::map<std::string, std::pair<std::string, NpyArrayF32>> expected;
  for (const auto& [name, file] :
       MatchFiles(parsed.expect_specs, session->outputs(), "output")) {
    expected.emplace(name, std::make_pair(file, ReadNpyF32(file)));
  }
  PrintModel(*session, parsed.session);
  const std::vector<ModelInput> inputs = MakeInputs(
      *session, parsed.session.input_specs, 1, options.max_tensor_elements);
  PrintInputs(inputs);

  const auto start = std::chrono::steady_clock::now();
  const std::map<std::string, Tensor> outputs =
      session->Run(InputsByName(inputs));
  const double ms = std::chrono::duration<double, std::milli>(
                        std::chrono::steady_clock::now() - start)
                        .count();
  std::printf("ran in %.3f ms on %d thread%s\n", ms, session->threads(),
              session->threads() == 1 ? "" : "s");

  const std::string& output_dir = parsed.session.output_dir;
  std::map<std::string, std::string> written;
  if (!output_dir.empty()) {
    written = WriteOutputs(output_dir, *session, outputs);
  }
  for (const ValueInfo& info : session->outputs()) {
    std::string written_to;
    if (!output_dir.empty()) {
      const auto file = written.find(info.name);
      written_to = file == written.end()
                       ? "  (not written: .npy outputs are float32)"
                       : " -> " + file->second;
    }
    PrintOutputSummary(info.name, outputs.at(info.name), written_to);
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

constexpr CommandInfo kRunCommand = {
    "run", "run a model on .npy inputs (or random data)",
    "foldrt run MODEL.onnx [--input NAME=FILE.npy]... [--output-dir DIR]\n"
    "           [--threads N] [--no-fold] [--expect NAME=REF.npy]...",
    "  runs the model once (BatchNormalization folded at load) and prints\n"
    "  each output's shape and range, and the top-5 classes of a (1, K)\n"
    "  output; convolutions run the direct algorithm (one run does not pay\n"
    "  back Winograd's weight transform; FOLDRT_WINOGRAD=1 allows it)\n"};

void AddRunOptions(CLI::App* command, RunArgs* args) {
  AddSessionOptions(
      command,
      "float32 .npy for input NAME (repeatable); a one-input model also "
      "takes --input FILE.npy; inputs not given get seeded random normal "
      "data of the declared shape (symbolic dims = 1)",
      "write DIR/<output name>.npy for every output", &args->session);
  command
      ->add_option("--expect", args->expect_specs,
                   "check output NAME against float32 .npy REF "
                   "(repeatable; a one-output model also takes --expect "
                   "REF.npy): relative L2 <= 1e-4 and max|diff| <= 1e-3 * "
                   "max|REF|, else exit 1")
      ->type_name("NAME=REF")
      ->allow_extra_args(false);
}

}  // namespace

CommandRun AddRunCommand(CLI::App* app) {
  return AddCommand(app, kRunCommand, AddRunOptions, RunModel);
}

}  // namespace foldrt
