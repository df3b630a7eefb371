#include "tools/foldrt/fold_command.h"

#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "graph/graph.h"
#include "graph/onnx_io.h"
#include "graph/passes/batch_norm_fold.h"
#include "graph/passes/fold_report.h"
#include "runtime/reference_evaluator.h"
#include "runtime/session.h"
#include "tools/foldrt/cli.h"
#include "tools/foldrt/model_check.h"

namespace foldrt {

namespace {

namespace fs = std::filesystem;

struct FoldArgs {
  std::string input;
  std::string output;
  std::string report;
  bool forward = true;
  bool force = false;
  bool verify = false;
};

// Both paths name the same file: equal after resolving links and dots
// (the second may not exist yet), or the same inode (hard links).
bool SameFile(const std::string& existing, const std::string& other) {
  std::error_code error;
  const fs::path a = fs::canonical(existing, error);
  if (error) return false;
  const fs::path b = fs::weakly_canonical(other, error);
  if (!error && a == b) return true;
  return fs::equivalent(existing, other, error) && !error;
}

// Writes `bytes` through a temporary file in the target's folder; returns
// the temporary's name, to be renamed into place by CommitFile.
std::string WriteTemporary(const std::string& path, const std::string& bytes) {
  const ErrorContext where{path, "", ""};
  const fs::path target(path);
  fs::path folder = target.parent_path();
  if (folder.empty()) folder = ".";
  std::string temp =
      (folder / ("." + target.filename().string() + ".tmp-XXXXXX")).string();
  const int fd = mkstemp(temp.data());
  if (fd < 0) {
    throw IoError("cannot create a file in '" + folder.string() +
                      "': " + std::strerror(errno),
                  where);
  }
  size_t written = 0;
  while (written < bytes.size()) {
    const ssize_t n =
        ::write(fd, bytes.data() + written, bytes.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const std::string reason = std::strerror(errno);
      ::close(fd);
      ::unlink(temp.c_str());
      throw IoError("writing failed: " + reason, where);
    }
    written += static_cast<size_t>(n);
  }
  if (::fchmod(fd, S_IRUSR | S_IWUSR | S_IRGRP | S_IROTH) != 0 ||
      ::close(fd) != 0) {
    const std::string reason = std::strerror(errno);
    ::unlink(temp.c_str());
    throw IoError("writing failed: " + reason, where);
  }
  return temp;
}

void CommitFile(const std::string& temp, const std::string& path) {
  if (std::rename(temp.c_str(), path.c_str()) != 0) {
    const std::string reason = std::strerror(errno);
    ::unlink(temp.c_str());
    throw IoError("cannot move the finished file into place: " + reason,
                  ErrorContext{path, "", ""});
  }
}

// --verify: the folded model runs in the Session and the original on the
// reference evaluator (runtime/reference_evaluator.h: the scalar references,
// double accumulation), on the same seeded random inputs, batch 1 for
// symbolic dims. So a fold that changes what the model computes fails, and
// so does a kernel that disagrees with the reference on this model. Throws
// FormatError, so nothing is written, when an output differs beyond the
// whole-model tolerance; prints the worst deviation otherwise.
void VerifyFold(const graph::Model& original, const graph::Model& folded) {
  runtime::SessionOptions options;
  options.fold = false;
  options.winograd = false;  // one run: the direct algorithm is cheaper
  const auto after = runtime::Session::FromModel(folded, options);
  std::map<std::string, Tensor> inputs;
  uint32_t seed = 1;
  for (const runtime::ValueInfo& info : after->inputs()) {
    inputs.emplace(info.name,
                   RandomInput(info, seed++, options.max_tensor_elements));
  }
  const std::map<std::string, Tensor> want =
      runtime::EvaluateReference(original, inputs);
  const std::map<std::string, Tensor> got = after->Run(inputs);
  double worst = 0.0;
  for (const auto& [name, reference] : want) {
    const auto it = got.find(name);
    if (it == got.end() || it->second.shape() != reference.shape() ||
        it->second.dtype() != reference.dtype()) {
      throw FormatError("--verify: output '" + name +
                            "' changed name, shape or type after folding; "
                            "nothing written",
                        ErrorContext{original.source, "", ""});
    }
    if (reference.dtype() != DataType::kFloat32) {
      if (it->second.ToVector<int64_t>() != reference.ToVector<int64_t>()) {
        throw FormatError("--verify: int64 output '" + name +
                              "' of the folded model differs from the "
                              "original's reference run; nothing written",
                          ErrorContext{original.source, "", ""});
      }
      continue;
    }
    const OutputDeviation d =
        CompareOutputs(it->second.data<float>(), reference.data<float>(),
                       static_cast<size_t>(reference.NumElements()));
    if (!d.within_tolerance()) {
      char numbers[200];
      std::snprintf(numbers, sizeof(numbers),
                    "relative L2 %.3g (limit %.0e), max|diff| %.3g of "
                    "max|original| (limit %.0e), %lld non-finite",
                    d.relative_l2, kMaxRelativeL2, d.max_abs_ratio,
                    kMaxAbsOverMaxRef, static_cast<long long>(d.non_finite));
      throw FormatError("--verify: output '" + name +
                            "' of the folded model differs from the original's "
                            "reference run: " +
                            numbers + "; nothing written",
                        ErrorContext{original.source, "", ""});
    }
    worst = std::max(worst, d.relative_l2);
  }
  std::printf(
      "verified: %zu output%s agree on seeded random inputs (worst "
      "relative L2 %.3g)\n",
      want.size(), want.size() == 1 ? "" : "s", worst);
}

int RunFold(const FoldArgs& parsed) {
  if (SameFile(parsed.input, parsed.output) && !parsed.force) {
    throw UsageError("output '" + parsed.output + "' is the input model '" +
                     parsed.input + "'; pass --force to fold in place");
  }
  if (!parsed.report.empty() && (SameFile(parsed.input, parsed.report) ||
                                 parsed.report == parsed.output ||
                                 SameFile(parsed.output, parsed.report))) {
    throw UsageError("--report '" + parsed.report +
                     "' would overwrite a model file");
  }

  graph::Model model = graph::LoadOnnxModel(parsed.input);
  // Only --verify needs the unfolded graph after folding.
  std::optional<graph::Model> original;
  if (parsed.verify) original = model;
  graph::FoldOptions options;
  options.forward = parsed.forward;
  const graph::FoldReport report =
      graph::FoldBatchNormalization(model, options);
  if (original) VerifyFold(*original, model);

  // The report goes to a temporary first, so a failure on either file
  // leaves neither behind.
  std::string report_temp;
  if (!parsed.report.empty()) {
    report_temp =
        WriteTemporary(parsed.report, graph::FoldReportToJson(report));
  }
  try {
    graph::SaveOnnxModel(model, parsed.output);
  } catch (...) {
    if (!report_temp.empty()) ::unlink(report_temp.c_str());
    throw;
  }
  if (!report_temp.empty()) CommitFile(report_temp, parsed.report);

  std::fputs(graph::FormatFoldReportTable(report).c_str(), stdout);
  std::printf("wrote %s\n", parsed.output.c_str());
  if (!parsed.report.empty()) {
    std::printf("wrote %s\n", parsed.report.c_str());
  }
  return 0;
}

constexpr CommandInfo kFoldCommand = {
    "fold", "fold BatchNormalization into neighbouring ops of a model",
    "foldrt fold IN.onnx -o OUT.onnx [--report FILE.json] [--no-forward] "
    "[--force] [--verify]",
    "  folds every BatchNormalization it can into the neighbouring Conv,\n"
    "  ConvTranspose, Gemm or MatMul and prints where each BN went or why\n"
    "  it stayed\n"};

void AddFoldOptions(CLI::App* command, FoldArgs* args) {
  AddModelArgument(command, "IN.onnx", "the model to fold", &args->input);
  command
      ->add_option("-o,--output", args->output,
                   "the folded model (written atomically)")
      ->type_name("OUT")
      ->required();
  command
      ->add_option("--report", args->report,
                   "also write the fold report as JSON")
      ->type_name("FILE.json");
  command->add_flag_callback(
      "--no-forward", [args] { args->forward = false; },
      "fold only into the preceding op, never into the following one");
  command->add_flag("--force", args->force,
                    "allow OUT to be IN itself (fold in place)");
  command->add_flag("--verify", args->verify,
                    "run the original and the folded model on the same seeded "
                    "random inputs and write nothing unless every output "
                    "agrees (relative L2 <= 1e-4, max|diff| <= 1e-3 * "
                    "max|original|)");
}

}  // namespace

CommandRun AddFoldCommand(CLI::App* app) {
  return AddCommand(app, kFoldCommand, AddFoldOptions, RunFold);
}

}  // namespace foldrt
