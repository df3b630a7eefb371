// `foldrt bench`: times a model in a runtime Session the way a peer
// comparison needs it (bench/peers/compare.py runs it beside ONNX Runtime
// and OpenCV): session creation, first run, latency percentiles and
// throughput over many runs, resident memory, and optionally the per-op
// profile of the runtime (runtime/program.h).
#ifndef FOLDRT_TOOLS_FOLDRT_BENCH_COMMAND_H_
#define FOLDRT_TOOLS_FOLDRT_BENCH_COMMAND_H_

#include <string>
#include <vector>

namespace foldrt {

// The `bench` section of `foldrt --help`.
extern const char kBenchUsage[];

// Runs `foldrt bench` with the arguments after the command name. Returns the
// exit status; throws UsageError (tools/foldrt/fold_command.h) for bad
// arguments and foldrt::Error for a model or input that does not work.
int RunBench(const std::vector<std::string>& args);

// The p-th percentile (0 <= p <= 100) of `sorted` (ascending, not empty),
// interpolating linearly between the closest ranks as numpy.percentile
// does by default, so that the peers' figures are computed the same way.
double Percentile(const std::vector<double>& sorted, double p);

}  // namespace foldrt

#endif  // FOLDRT_TOOLS_FOLDRT_BENCH_COMMAND_H_
