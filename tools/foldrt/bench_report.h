// What `foldrt bench` measured and how it is reported: the figures of one
// bench run, the latency statistics over its timed runs, and the text
// report on stdout and the --json document built from them.
#ifndef FOLDRT_TOOLS_FOLDRT_BENCH_REPORT_H_
#define FOLDRT_TOOLS_FOLDRT_BENCH_REPORT_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "runtime/program.h"
#include "tools/foldrt/session_io.h"

namespace foldrt {

struct LatencyStats {
  double min = 0, p50 = 0, p90 = 0, p99 = 0, mean = 0, max = 0, total = 0;
};

// The statistics of `ms` (not empty).
LatencyStats Summarize(std::vector<double> ms);

// The p-th percentile (0 <= p <= 100) of `sorted` (ascending, not empty),
// interpolating linearly between the closest ranks as numpy.percentile
// does by default, so that the peers' figures are computed the same way.
double Percentile(const std::vector<double>& sorted, double p);

struct BenchFigures {
  std::string model;
  int64_t samples = 0;  // per run: the batch
  int threads = 0;
  int warmup = 0;
  int iterations = 0;
  bool fold = true;
  size_t batch_norms = 0;
  size_t batch_norms_folded = 0;
  const std::vector<ModelInput>* inputs = nullptr;
  double create_ms = 0;
  double first_run_ms = 0;
  std::vector<double> latencies_ms;  // the timed runs, in order
  LatencyStats latency;
  double throughput = 0;  // samples per second over the timed runs
  // Resident memory in MB; -1 where unavailable.
  double rss_before_load_mb = 0;
  double rss_after_load_mb = 0;
  double rss_after_runs_mb = 0;
  double peak_rss_mb = 0;
  double minor_faults_per_run = 0;
  std::map<std::string, std::string> written;  // output name -> .npy file
  bool profile_requested = false;
  std::vector<runtime::ProgramProfile> profile;  // with --profile
};

// The human report on stdout (the inputs were printed before the runs).
void PrintBenchFigures(const BenchFigures& figures);

// The --json document (newline-terminated). Figures are rounded to 6
// significant digits; negative or non-finite ones are null.
std::string BenchFiguresToJson(const BenchFigures& figures);

}  // namespace foldrt

#endif  // FOLDRT_TOOLS_FOLDRT_BENCH_REPORT_H_
