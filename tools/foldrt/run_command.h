// `foldrt run`: loads a model into a runtime Session (BN folded unless
// --no-fold), runs it on .npy inputs or on seeded random data of the
// declared input shapes, writes every output as .npy and prints a summary.
#ifndef FOLDRT_TOOLS_FOLDRT_RUN_COMMAND_H_
#define FOLDRT_TOOLS_FOLDRT_RUN_COMMAND_H_

#include <string>
#include <vector>

namespace foldrt {

// The `run` section of `foldrt --help`.
extern const char kRunUsage[];

// Runs `foldrt run` with the arguments after the command name. Returns the
// exit status; throws UsageError (tools/foldrt/fold_command.h) for bad
// arguments and foldrt::Error for a model or input that does not work.
int RunModel(const std::vector<std::string>& args);

// `name` as a file name: characters other than letters, digits, '.', '_'
// and '-' become '_'; "", "." and ".." become "_" (so a model cannot write
// outside the output folder).
std::string SanitizeFileName(const std::string& name);

}  // namespace foldrt

#endif  // FOLDRT_TOOLS_FOLDRT_RUN_COMMAND_H_
