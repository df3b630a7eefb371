// What the foldrt commands share on the command line (CLI11): the usage
// error, one subcommand per command, and options whose values foldrt's own
// parsers check (so "3x", "two" and "-1" are refused the same way by every
// command, with the same message).
#ifndef FOLDRT_TOOLS_FOLDRT_CLI_H_
#define FOLDRT_TOOLS_FOLDRT_CLI_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "core/error.h"

namespace CLI {
class App;
class Option;
}  // namespace CLI

namespace foldrt {

// A command-line mistake; main prints it with a pointer to the command's
// --help and exits with status 2.
class UsageError : public Error {
 public:
  using Error::Error;
};

// What a command does once CLI11 has parsed its options: returns the exit
// status, throws UsageError for bad arguments and foldrt::Error otherwise.
using CommandRun = std::function<int()>;

struct CommandInfo {
  const char* name;     // "fold"
  const char* summary;  // its line in the command list of `foldrt --help`
  // "foldrt fold IN.onnx -o OUT.onnx ...": its line under that list, and
  // with `description` (lines indented by two spaces) the head of its
  // own --help.
  const char* synopsis;
  const char* description;
};

// Adds `info.name` to `app` as a subcommand (see CommandInfo).
CLI::App* AddSubcommand(CLI::App* app, const CommandInfo& info);

// Adds the command: `add_options` declares its options into an `Args`
// that the returned run hands to `run` once CLI11 has parsed them.
template <typename Args>
CommandRun AddCommand(CLI::App* app, const CommandInfo& info,
                      void (*add_options)(CLI::App* command, Args* args),
                      int (*run)(const Args& args)) {
  auto args = std::make_shared<Args>();
  add_options(AddSubcommand(app, info), args.get());
  return [args, run] { return run(*args); };
}

// The model (or other required file) a command reads, as the positional
// argument `name`.
CLI::Option* AddModelArgument(CLI::App* command, const std::string& name,
                              const std::string& help, std::string* model);

// `value` as a number for option `flag`; UsageError("bad value ...")
// unless all of it is one.
int ParseInt(const std::string& flag, const std::string& value);
float ParseFloat(const std::string& flag, const std::string& value);

// A count in [min, max] (min is 0 or 1): "bad value 'x' for --batch
// (expected a positive count)" otherwise.
int64_t ParseCount(const std::string& flag, const std::string& value,
                   int64_t min, int64_t max);

// An option taking one value per occurrence, converted by
// `convert(flag, value)` (which throws UsageError); every occurrence is
// checked and the last one wins. `flag` is the option's long name.
CLI::Option* AddConvertedOption(
    CLI::App* command, const std::string& names, const std::string& value_name,
    const std::string& help,
    std::function<void(const std::string& flag, const std::string& value)>
        convert);

// --threads, --iterations, ...: a count in [min, INT_MAX] into `target`.
CLI::Option* AddCountOption(CLI::App* command, const std::string& names,
                            const std::string& help, int min, int* target);

}  // namespace foldrt

#endif  // FOLDRT_TOOLS_FOLDRT_CLI_H_
