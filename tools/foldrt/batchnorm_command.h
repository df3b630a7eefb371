// `foldrt batchnorm`: applies inference-mode BatchNormalization to a .npy
// tensor with parameters from another .npy, prints the per-channel affine
// y = a*x + b and the result, and optionally writes it as .npy.
#ifndef FOLDRT_TOOLS_FOLDRT_BATCHNORM_COMMAND_H_
#define FOLDRT_TOOLS_FOLDRT_BATCHNORM_COMMAND_H_

#include "tools/foldrt/cli.h"

namespace foldrt {

// Adds `batchnorm` to `app`. The returned run throws UsageError for bad
// arguments and foldrt::Error for unreadable or mismatched files.
CommandRun AddBatchNormCommand(CLI::App* app);

}  // namespace foldrt

#endif  // FOLDRT_TOOLS_FOLDRT_BATCHNORM_COMMAND_H_
