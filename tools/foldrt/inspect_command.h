// `foldrt inspect`: a model summary in the spirit of Keras's
// model.summary() (model_summary.h), printed as a table or, with --json,
// as JSON on stdout.
#ifndef FOLDRT_TOOLS_FOLDRT_INSPECT_COMMAND_H_
#define FOLDRT_TOOLS_FOLDRT_INSPECT_COMMAND_H_

#include "tools/foldrt/cli.h"

namespace foldrt {

// Adds `inspect` to `app`. The returned run throws UsageError for bad
// arguments and foldrt::Error for a model that cannot be read.
CommandRun AddInspectCommand(CLI::App* app);

}  // namespace foldrt

#endif  // FOLDRT_TOOLS_FOLDRT_INSPECT_COMMAND_H_
