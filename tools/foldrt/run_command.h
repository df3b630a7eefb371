// `foldrt run`: loads a model into a runtime Session (BN folded unless
// --no-fold), runs it on .npy inputs or on seeded random data of the
// declared input shapes, writes every output as .npy and prints a summary.
#ifndef FOLDRT_TOOLS_FOLDRT_RUN_COMMAND_H_
#define FOLDRT_TOOLS_FOLDRT_RUN_COMMAND_H_

#include "tools/foldrt/cli.h"

namespace foldrt {

// Adds `run` to `app`. The returned run throws UsageError for bad
// arguments and foldrt::Error for a model or input that does not work.
CommandRun AddRunCommand(CLI::App* app);

}  // namespace foldrt

#endif  // FOLDRT_TOOLS_FOLDRT_RUN_COMMAND_H_
