#include "tools/foldrt/session_io.h"

#include <CLI/CLI.hpp>
#include <cstdio>
#include <filesystem>
#include <set>
#include <utility>

#include "core/error.h"
#include "core/npy.h"
#include "graph/passes/fold_report.h"
#include "tools/foldrt/model_check.h"

namespace foldrt {

namespace fs = std::filesystem;
using runtime::Session;
using runtime::ValueInfo;

void AddSessionOptions(CLI::App* command, const std::string& input_help,
                       const std::string& output_dir_help, SessionArgs* args) {
  AddModelArgument(command, "MODEL.onnx", "the model", &args->model);
  command->add_option("--input", args->input_specs, input_help)
      ->type_name("NAME=FILE")
      ->allow_extra_args(false);
  command->add_option("--output-dir", args->output_dir, output_dir_help)
      ->type_name("DIR");
  AddCountOption(
      command, "--threads",
      "0 = all cores (default " + std::to_string(args->threads) + ")", 0,
      &args->threads);
  command->add_flag_callback(
      "--no-fold", [args] { args->fold = false; },
      "run every BatchNormalization standalone");
}

std::unique_ptr<Session> LoadSession(const SessionArgs& args,
                                     runtime::SessionOptions options) {
  options.threads = args.threads;
  options.fold = args.fold;
  return Session::Load(args.model, options);
}

namespace {

std::string ValueNames(const std::vector<ValueInfo>& values) {
  std::string names;
  for (const ValueInfo& info : values) {
    names += (names.empty() ? "'" : ", '") + info.name + "'";
  }
  return names;
}

}  // namespace

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

std::vector<ModelInput> MakeInputs(const Session& session,
                                   const std::vector<std::string>& specs,
                                   int64_t free_dim, int64_t max_elements) {
  const std::map<std::string, std::string> files =
      MatchFiles(specs, session.inputs(), "input");
  std::vector<ModelInput> inputs;
  for (size_t i = 0; i < session.inputs().size(); ++i) {
    const ValueInfo& info = session.inputs()[i];
    ModelInput input{info.name, "", "", Tensor()};
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
      input.file = file->second;
      input.origin = "from " + file->second;
    } else {
      const uint32_t seed = static_cast<uint32_t>(i);
      input.tensor = RandomInput(info, seed, max_elements, free_dim);
      input.origin = info.dtype == DataType::kFloat32
                         ? "random normal, seed " + std::to_string(seed)
                         : "zeros";
    }
    inputs.push_back(std::move(input));
  }
  return inputs;
}

void PrintModel(const Session& session, const SessionArgs& args) {
  std::printf("model %s\n", args.model.c_str());
  if (args.fold) {
    const graph::FoldReport& report = session.fold_report();
    const size_t total = report.batch_norms.size();
    std::printf("BatchNormalization: %zu of %zu folded\n",
                total - report.CountFate(graph::BatchNormFate::kNotFolded),
                total);
  } else {
    std::printf("BatchNormalization: not folded (--no-fold)\n");
  }
}

void PrintInputs(const std::vector<ModelInput>& inputs) {
  for (const ModelInput& input : inputs) {
    std::printf("input '%s': %s %s, %s\n", input.name.c_str(),
                DataTypeName(input.tensor.dtype()),
                ShapeToString(input.tensor.shape()).c_str(),
                input.origin.c_str());
  }
}

std::map<std::string, Tensor> InputsByName(
    const std::vector<ModelInput>& inputs) {
  std::map<std::string, Tensor> by_name;
  for (const ModelInput& input : inputs) {
    by_name.emplace(input.name, input.tensor);
  }
  return by_name;
}

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

}  // namespace foldrt
