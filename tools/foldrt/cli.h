// What the foldrt commands share on the command line (CLI11): the usage
// error, one subcommand per command, and options whose values foldrt's own
// parsers check (so "3x", "two" and "-1" are refused the same way by every
// command, with the same message).
#ifndef FOLDRT_TOOLS_FOLDRT_CLI_H_
#define FOLDRT_TOOLS_FOLDRT_CLI_H_

#include <cstdint>
#include <functional>
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

// Adds `name` to `app` as a subcommand. `summary` is its line in the
// command list of `foldrt --help`, `synopsis` ("foldrt fold IN.onnx -o
// OUT.onnx ...") its line under the list; the synopsis and `description`
// (lines indented by two spaces) head the command's own --help.
CLI::App* AddCommand(CLI::App* app, const std::string& name,
                     const std::string& summary, const std::string& synopsis,
                     const std::string& description);

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
