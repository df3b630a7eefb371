// `foldrt fold`: folds the BatchNormalization nodes of an ONNX model into
// their neighbours and writes the folded model, printing (and optionally
// saving as JSON) the fold report.
#ifndef FOLDRT_TOOLS_FOLDRT_FOLD_COMMAND_H_
#define FOLDRT_TOOLS_FOLDRT_FOLD_COMMAND_H_

#include <string>
#include <vector>

#include "core/error.h"

namespace foldrt {

// A command-line mistake; main prints it with a pointer to --help and exits
// with status 2.
class UsageError : public Error {
 public:
  using Error::Error;
};

// The `fold` section of `foldrt --help`.
extern const char kFoldUsage[];

// Runs `foldrt fold` with the arguments after the command name. Returns the
// exit status; throws UsageError for bad arguments and foldrt::Error for
// bad input or failed writes, in which case no output file is left behind.
int RunFold(const std::vector<std::string>& args);

}  // namespace foldrt

#endif  // FOLDRT_TOOLS_FOLDRT_FOLD_COMMAND_H_
