// foldrt command-line tool. Every error becomes one line on stderr and a
// non-zero exit status.
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>
#include <string_view>
#include <vector>

#include "ops/batch_norm.h"
#include "core/error.h"
#include "core/logging.h"
#include "core/npy.h"
#include "tools/foldrt/bench_command.h"
#include "tools/foldrt/fold_command.h"
#include "tools/foldrt/inspect_command.h"
#include "tools/foldrt/run_command.h"

namespace foldrt {
namespace {

constexpr char kUsage[] =
    "usage: foldrt <command> [options]\n"
    "\n"
    "commands:\n"
    "  batchnorm   apply inference-mode BatchNormalization to a .npy tensor\n"
    "  bench       time a model: latency percentiles, throughput, memory\n"
    "  fold        fold BatchNormalization into neighbouring ops of a model\n"
    "  inspect     summarize a model: layers, shapes, parameters, BN folds\n"
    "  run         run a model on .npy inputs (or random data)\n"
    "\n"
    "foldrt batchnorm --input X.npy --params P.npy [options]\n"
    "  X.npy        float32 tensor (N, C, ...) in C order (see --layout)\n"
    "  P.npy        float32 (4, C): rows gamma, beta, running mean, running "
    "var\n"
    "  --eps E              epsilon (default 1e-5)\n"
    "  --layout L           X.npy's axis order: nchw (default) for\n"
    "                       (N, C, ...), nhwc for (N, ..., C), channels\n"
    "                       last; Y.npy has the same shape and order\n"
    "  --activation A       none (default), relu, or clip:MIN,MAX\n"
    "  --kernel K           auto (default), hwy, onednn or ref\n"
    "  --threads T          0 = all cores (default 1)\n"
    "  --output Y.npy       write the result (otherwise only printed)\n";

constexpr char kGlobalOptions[] =
    "global options: -v (debug log), -q (errors only), --help\n";

ops::Activation ParseActivation(const std::string& s) {
  if (s == "none") return ops::Activation::None();
  if (s == "relu") return ops::Activation::Relu();
  if (s.rfind("clip:", 0) == 0) {
    const std::string bounds = s.substr(5);
    const size_t comma = bounds.find(',');
    if (comma != std::string::npos) {
      try {
        size_t used_lo = 0, used_hi = 0;
        const float lo = std::stof(bounds.substr(0, comma), &used_lo);
        const float hi = std::stof(bounds.substr(comma + 1), &used_hi);
        if (used_lo == comma && used_hi == bounds.size() - comma - 1) {
          return ops::Activation::Clip(lo, hi);
        }
      } catch (const std::logic_error&) {
      }
    }
  }
  throw UsageError("bad --activation '" + s +
                   "' (expected none, relu or clip:MIN,MAX)");
}

float ParseFloat(const std::string& flag, const std::string& s) {
  try {
    size_t used = 0;
    const float v = std::stof(s, &used);
    if (used == s.size()) return v;
  } catch (const std::logic_error&) {
  }
  throw UsageError("bad value '" + s + "' for " + flag);
}

int ParseInt(const std::string& flag, const std::string& s) {
  try {
    size_t used = 0;
    const int v = std::stoi(s, &used);
    if (used == s.size()) return v;
  } catch (const std::logic_error&) {
  }
  throw UsageError("bad value '" + s + "' for " + flag);
}

std::string ShapeString(const std::vector<int64_t>& dims) {
  std::string s = "(";
  for (size_t i = 0; i < dims.size(); ++i) {
    s += (i ? ", " : "") + std::to_string(dims[i]);
  }
  return s + ")";
}

// Prints a tensor of logical shape (N, C, ...) channel by channel.
void PrintTensor(const std::vector<float>& y, const std::vector<int64_t>& dims,
                 ops::Layout layout) {
  const ops::ChannelShape s = ops::SplitChannelShape(dims);
  constexpr size_t kMaxPerChannel = 16;
  for (size_t n = 0; n < s.batch; ++n) {
    for (size_t c = 0; c < s.channels; ++c) {
      std::printf("  [n=%zu c=%zu]", n, c);
      for (size_t i = 0; i < s.spatial && i < kMaxPerChannel; ++i) {
        std::printf(" %9.4f", y[ops::ElementOffset(s, layout, n, c, i)]);
      }
      if (s.spatial > kMaxPerChannel) std::printf(" ...");
      std::printf("\n");
    }
  }
}

int RunBatchNorm(const std::vector<std::string>& args) {
  std::string input, params, output;
  float eps = kDefaultBatchNormEpsilon;
  ops::Layout layout = ops::Layout::kNchw;
  ops::Activation act;
  ops::BatchNormImpl impl = ops::BatchNormImpl::kAuto;
  int threads = 1;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& flag = args[i];
    auto value = [&]() -> const std::string& {
      if (i + 1 >= args.size()) throw UsageError(flag + " needs a value");
      return args[++i];
    };
    if (flag == "--input") {
      input = value();
    } else if (flag == "--params") {
      params = value();
    } else if (flag == "--output") {
      output = value();
    } else if (flag == "--eps") {
      eps = ParseFloat(flag, value());
    } else if (flag == "--layout") {
      layout = ops::ParseLayout(value());
      if (ops::ChannelBlock(layout) != 1) {
        throw UsageError("--layout must be nchw or nhwc for .npy files");
      }
    } else if (flag == "--activation") {
      act = ParseActivation(value());
    } else if (flag == "--kernel") {
      impl = ops::ParseBatchNormImpl(value());
    } else if (flag == "--threads") {
      threads = ParseInt(flag, value());
    } else {
      throw UsageError("unknown option '" + flag + "' for batchnorm");
    }
  }
  if (input.empty() || params.empty()) {
    throw UsageError("batchnorm needs --input and --params");
  }

  const NpyArrayF32 x = ReadNpyF32(input);
  const NpyArrayF32 p = ReadNpyF32(params);
  if (p.shape.size() != 2 || p.shape[0] != 4) {
    throw FormatError(
        "BN parameters must have shape (4, C), got " + ShapeString(p.shape),
        ErrorContext{params, "", ""});
  }
  const size_t c = static_cast<size_t>(p.shape[1]);
  auto row = [&](size_t r) {
    return std::vector<float>(p.data.begin() + r * c,
                              p.data.begin() + (r + 1) * c);
  };
  // The tensor's logical shape is (N, C, ...) even when its bytes are NHWC:
  // .npy holds (N, ..., C) then, so move the last axis to position 1.
  std::vector<int64_t> dims = x.shape;
  if (layout == ops::Layout::kNhwc && dims.size() >= 2) {
    const int64_t channels = dims.back();
    dims.pop_back();
    dims.insert(dims.begin() + 1, channels);
  }
  const ops::BatchNorm bn(row(0), row(1), row(2), row(3), eps, act, impl);
  std::vector<float> y(x.data.size());
  bn.Run(x.data.data(), x.data.size(), y.data(), y.size(), dims, layout,
         threads);

  std::printf(
      "BatchNormalization on %s %s (%s), C=%zu, eps=%g, activation %s, "
      "kernel %s\n",
      input.c_str(), ShapeString(x.shape).c_str(), ops::LayoutName(layout), c,
      eps, act.ToString().c_str(),
      ops::BatchNormImplName(bn.SelectImpl(dims, layout)));
  std::printf("per-channel affine y = a*x + b:\n");
  for (size_t i = 0; i < c; ++i) {
    std::printf("  c=%zu  a=%.6g  b=%.6g\n", i, bn.affine().scale[i],
                bn.affine().shift[i]);
  }
  std::printf("output %s:\n", ShapeString(x.shape).c_str());
  PrintTensor(y, dims, layout);
  if (!output.empty()) {
    WriteNpyF32(output, x.shape, y.data());
    std::printf("wrote %s\n", output.c_str());
  }
  return 0;
}

int Main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  std::vector<std::string> rest;
  for (const std::string& a : args) {
    if (a == "-v") {
      SetLogLevel("debug");
    } else if (a == "-q") {
      SetLogLevel("error");
    } else if (a == "--help" || a == "-h") {
      std::printf("%s\n%s\n%s\n%s\n%s\n%s", kUsage, kFoldUsage, kInspectUsage,
                  kRunUsage, kBenchUsage, kGlobalOptions);
      return 0;
    } else {
      rest.push_back(a);
    }
  }
  if (rest.empty()) throw UsageError("no command given");
  const std::string command = rest.front();
  rest.erase(rest.begin());
  if (command == "batchnorm") return RunBatchNorm(rest);
  if (command == "fold") return RunFold(rest);
  if (command == "inspect") return RunInspect(rest);
  if (command == "run") return RunModel(rest);
  if (command == "bench") return RunBench(rest);
  throw UsageError("unknown command '" + command + "'");
}

}  // namespace
}  // namespace foldrt

int main(int argc, char** argv) {
  try {
    return foldrt::Main(argc, argv);
  } catch (const foldrt::Error& e) {
    std::fprintf(stderr, "foldrt: error: %s\n", e.what());
    if (dynamic_cast<const foldrt::UsageError*>(&e)) {
      std::fprintf(stderr, "run 'foldrt --help' for usage\n");
    }
    return dynamic_cast<const foldrt::UsageError*>(&e) ? 2 : 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "foldrt: internal error: %s\n", e.what());
    return 1;
  }
}
