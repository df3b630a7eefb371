// `foldrt inspect`: a model summary in the spirit of Keras's
// model.summary(): every node with its output shapes (from ONNX shape
// inference) and parameter count, the parameter totals split into trainable
// and non-trainable, and for every BatchNormalization its epsilon, channel
// axis and what `foldrt fold` would do with it.
#ifndef FOLDRT_TOOLS_FOLDRT_INSPECT_COMMAND_H_
#define FOLDRT_TOOLS_FOLDRT_INSPECT_COMMAND_H_

#include <string>
#include <vector>

namespace foldrt {

// The `inspect` section of `foldrt --help`.
extern const char kInspectUsage[];

// Runs `foldrt inspect` with the arguments after the command name and
// prints the summary (a table, or JSON with --json) on stdout. Returns the
// exit status; throws UsageError (tools/foldrt/fold_command.h) for bad
// arguments and foldrt::Error for a model that cannot be read.
int RunInspect(const std::vector<std::string>& args);

}  // namespace foldrt

#endif  // FOLDRT_TOOLS_FOLDRT_INSPECT_COMMAND_H_
