#include "tools/foldrt/fold_command.h"

#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "graph/graph.h"
#include "graph/onnx_io.h"
#include "graph/passes/batch_norm_fold.h"
#include "graph/passes/fold_report.h"

namespace foldrt {

const char kFoldUsage[] =
    "foldrt fold IN.onnx -o OUT.onnx [--report FILE.json] [--no-forward] "
    "[--force]\n"
    "  folds every BatchNormalization it can into the neighbouring Conv,\n"
    "  ConvTranspose, Gemm or MatMul and prints where each BN went or why it\n"
    "  stayed\n"
    "  -o, --output OUT     the folded model (written atomically)\n"
    "  --report FILE.json   also write the fold report as JSON\n"
    "  --no-forward         fold only into the preceding op, never into the\n"
    "                       following one\n"
    "  --force              allow OUT to be IN itself (fold in place)\n";

namespace {

namespace fs = std::filesystem;

struct FoldArgs {
  std::string input;
  std::string output;
  std::string report;
  bool forward = true;
  bool force = false;
};

FoldArgs ParseFoldArgs(const std::vector<std::string>& args) {
  FoldArgs parsed;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    auto value = [&]() -> const std::string& {
      if (i + 1 >= args.size()) throw UsageError(arg + " needs a value");
      return args[++i];
    };
    if (arg == "-o" || arg == "--output") {
      parsed.output = value();
    } else if (arg == "--report") {
      parsed.report = value();
    } else if (arg == "--no-forward") {
      parsed.forward = false;
    } else if (arg == "--force") {
      parsed.force = true;
    } else if (!arg.empty() && arg[0] == '-') {
      throw UsageError("unknown option '" + arg + "' for fold");
    } else if (parsed.input.empty()) {
      parsed.input = arg;
    } else {
      throw UsageError("fold takes one input model, got '" + parsed.input +
                       "' and '" + arg + "'");
    }
  }
  if (parsed.input.empty()) throw UsageError("fold needs an input model");
  if (parsed.output.empty()) throw UsageError("fold needs -o OUT.onnx");
  return parsed;
}

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

}  // namespace

int RunFold(const std::vector<std::string>& args) {
  const FoldArgs parsed = ParseFoldArgs(args);
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
  graph::FoldOptions options;
  options.forward = parsed.forward;
  const graph::FoldReport report =
      graph::FoldBatchNormalization(model, options);

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

}  // namespace foldrt
