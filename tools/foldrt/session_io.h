// What `foldrt run` and `foldrt bench` share: the model and session options
// on the command line, loading the session, the inputs of a run (--input
// files or seeded random data), and printing and writing what it produced.
#ifndef FOLDRT_TOOLS_FOLDRT_SESSION_IO_H_
#define FOLDRT_TOOLS_FOLDRT_SESSION_IO_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/tensor.h"
#include "runtime/session.h"
#include "tools/foldrt/cli.h"

namespace foldrt {

struct SessionArgs {
  std::string model;
  int threads = 0;
  bool fold = true;
  std::vector<std::string> input_specs;  // --input NAME=FILE or FILE
  std::string output_dir;
};

// Adds MODEL.onnx, --input, --output-dir, --threads (default
// `args->threads`) and --no-fold to `command`. `input_help` and
// `output_dir_help` say what the command does with them.
void AddSessionOptions(CLI::App* command, const std::string& input_help,
                       const std::string& output_dir_help, SessionArgs* args);

// The session of `args` (threads, folding) with `options`' other fields.
std::unique_ptr<runtime::Session> LoadSession(const SessionArgs& args,
                                              runtime::SessionOptions options);

// --input (kind "input") or --expect (kind "output") specs -> file per
// input or output name: NAME=FILE, or FILE alone for the only one (a path
// may contain '=' too). Throws UsageError for a spec naming none of
// `values` or a name given twice.
std::map<std::string, std::string> MatchFiles(
    const std::vector<std::string>& specs,
    const std::vector<runtime::ValueInfo>& values, const std::string& kind);

struct ModelInput {
  std::string name;
  std::string file;    // the .npy it came from; empty when generated
  std::string origin;  // "from FILE", "random normal, seed 0", "zeros"
  Tensor tensor;
};

// The session's inputs: the --input files, else seeded standard normal
// data (int64: zeros, valid as indices and shapes) of the declared shape,
// every dim that is not fixed set to `free_dim`, input i seeded with i.
std::vector<ModelInput> MakeInputs(const runtime::Session& session,
                                   const std::vector<std::string>& specs,
                                   int64_t free_dim, int64_t max_elements);

// "model FILE" and "BatchNormalization: 2 of 2 folded" (or "not folded
// (--no-fold)") on stdout.
void PrintModel(const runtime::Session& session, const SessionArgs& args);

// One line per input: name, type, shape and where its data came from.
void PrintInputs(const std::vector<ModelInput>& inputs);

// The inputs by name, as Session::Run takes them.
std::map<std::string, Tensor> InputsByName(
    const std::vector<ModelInput>& inputs);

// Writes every float32 output as DIR/<sanitized name>.npy (distinct names
// that sanitize alike are numbered); returns the file per output name.
std::map<std::string, std::string> WriteOutputs(
    const std::string& dir, const runtime::Session& session,
    const std::map<std::string, Tensor>& outputs);

// `name` as a file name: characters other than letters, digits, '.', '_'
// and '-' become '_'; "", "." and ".." become "_" (so a model cannot write
// outside the output folder).
std::string SanitizeFileName(const std::string& name);

}  // namespace foldrt

#endif  // FOLDRT_TOOLS_FOLDRT_SESSION_IO_H_
