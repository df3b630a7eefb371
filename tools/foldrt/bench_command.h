// `foldrt bench`: times a model in a runtime Session the way a peer
// comparison needs it (bench/peers/compare.py runs it beside ONNX Runtime
// and OpenCV): session creation, first run, latency percentiles and
// throughput over many runs, resident memory, and optionally the per-op
// profile of the runtime (runtime/program.h).
#ifndef FOLDRT_TOOLS_FOLDRT_BENCH_COMMAND_H_
#define FOLDRT_TOOLS_FOLDRT_BENCH_COMMAND_H_

#include "tools/foldrt/cli.h"

namespace foldrt {

// Adds `bench` to `app`. The returned run throws UsageError for bad
// arguments and foldrt::Error for a model or input that does not work.
CommandRun AddBenchCommand(CLI::App* app);

}  // namespace foldrt

#endif  // FOLDRT_TOOLS_FOLDRT_BENCH_COMMAND_H_
