// `foldrt fold`: folds the BatchNormalization nodes of an ONNX model into
// their neighbours and writes the folded model, printing (and optionally
// saving as JSON) the fold report.
#ifndef FOLDRT_TOOLS_FOLDRT_FOLD_COMMAND_H_
#define FOLDRT_TOOLS_FOLDRT_FOLD_COMMAND_H_

#include "tools/foldrt/cli.h"

namespace foldrt {

// Adds `fold` to `app`. The returned run throws UsageError for bad
// arguments and foldrt::Error for bad input or failed writes, in which case
// no output file is left behind.
CommandRun AddFoldCommand(CLI::App* app);

}  // namespace foldrt

#endif  // FOLDRT_TOOLS_FOLDRT_FOLD_COMMAND_H_
