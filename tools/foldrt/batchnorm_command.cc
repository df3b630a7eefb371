// `foldrt batchnorm`: inference-mode BatchNormalization (ops/batch_norm.h)
// applied to a .npy tensor, printing the per-channel affine and the result.
#include "tools/foldrt/batchnorm_command.h"

#include <CLI/CLI.hpp>
#include <cstdio>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/npy.h"
#include "core/tensor.h"
#include "ops/batch_norm.h"
#include "tools/foldrt/cli.h"

namespace foldrt {

namespace {

struct BatchNormArgs {
  std::string input;
  std::string params;
  std::string output;
  float eps = kDefaultBatchNormEpsilon;
  ops::Layout layout = ops::Layout::kNchw;
  ops::Activation act;
  ops::BatchNormImpl impl = ops::BatchNormImpl::kAuto;
  int threads = 1;
};

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

int RunBatchNorm(const BatchNormArgs& args) {
  const std::string& input = args.input;
  const std::string& params = args.params;
  const std::string& output = args.output;
  const float eps = args.eps;
  const ops::Layout layout = args.layout;
  const ops::Activation& act = args.act;
  const ops::BatchNormImpl impl = args.impl;
  const int threads = args.threads;
  const NpyArrayF32 x = ReadNpyF32(input);
  const NpyArrayF32 p = ReadNpyF32(params);
  if (p.shape.size() != 2 || p.shape[0] != 4) {
    throw FormatError(
        "BN parameters must have shape (4, C), got " + ShapeToString(p.shape),
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
      input.c_str(), ShapeToString(x.shape).c_str(), ops::LayoutName(layout), c,
      eps, act.ToString().c_str(),
      ops::BatchNormImplName(bn.SelectImpl(dims, layout)));
  std::printf("per-channel affine y = a*x + b:\n");
  for (size_t i = 0; i < c; ++i) {
    std::printf("  c=%zu  a=%.6g  b=%.6g\n", i, bn.affine().scale[i],
                bn.affine().shift[i]);
  }
  std::printf("output %s:\n", ShapeToString(x.shape).c_str());
  PrintTensor(y, dims, layout);
  if (!output.empty()) {
    WriteNpyF32(output, x.shape, y.data());
    std::printf("wrote %s\n", output.c_str());
  }
  return 0;
}

constexpr CommandInfo kBatchNormCommand = {
    "batchnorm", "apply inference-mode BatchNormalization to a .npy tensor",
    "foldrt batchnorm --input X.npy --params P.npy [options]",
    "  X.npy        float32 tensor (N, C, ...) in C order (see --layout)\n"
    "  P.npy        float32 (4, C): rows gamma, beta, running mean, running "
    "var\n"};

void AddBatchNormOptions(CLI::App* command, BatchNormArgs* args) {
  command->add_option("--input", args->input, "the tensor X.npy")
      ->type_name("X.npy")
      ->required();
  command->add_option("--params", args->params, "the parameters P.npy (4, C)")
      ->type_name("P.npy")
      ->required();
  command
      ->add_option("--output", args->output,
                   "write the result (otherwise only printed)")
      ->type_name("Y.npy");
  AddConvertedOption(command, "--eps", "E", "epsilon (default 1e-5)",
                     [args](const std::string& flag, const std::string& value) {
                       args->eps = ParseFloat(flag, value);
                     });
  AddConvertedOption(
      command, "--layout", "L",
      "X.npy's axis order: nchw (default) for (N, C, ...), nhwc for (N, ..., "
      "C), channels last; Y.npy has the same shape and order",
      [args](const std::string&, const std::string& value) {
        args->layout = ops::ParseLayout(value);
        if (ops::ChannelBlock(args->layout) != 1) {
          throw UsageError("--layout must be nchw or nhwc for .npy files");
        }
      });
  AddConvertedOption(command, "--activation", "A",
                     "none (default), relu, or clip:MIN,MAX",
                     [args](const std::string&, const std::string& value) {
                       args->act = ParseActivation(value);
                     });
  AddConvertedOption(command, "--kernel", "K",
                     "auto (default), hwy, onednn or ref",
                     [args](const std::string&, const std::string& value) {
                       args->impl = ops::ParseBatchNormImpl(value);
                     });
  AddConvertedOption(command, "--threads", "T", "0 = all cores (default 1)",
                     [args](const std::string& flag, const std::string& value) {
                       args->threads = ParseInt(flag, value);
                     });
}

}  // namespace

CommandRun AddBatchNormCommand(CLI::App* app) {
  return AddCommand(app, kBatchNormCommand, AddBatchNormOptions, RunBatchNorm);
}

}  // namespace foldrt
