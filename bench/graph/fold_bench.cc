// `foldrt fold` on a big model: load + fold + write against plain load +
// write of the same file, and the fold passes alone. The model is not in the
// repository (~100 MB); make it with
//
//   /usr/bin/python3 tools/export_torchvision.py resnet50 /tmp/resnet50_bn.onnx
//   FOLDRT_BENCH_MODEL=/tmp/resnet50_bn.onnx build/bench/fold_bench
//
// Without FOLDRT_BENCH_MODEL every benchmark is skipped with that hint.
// Written models go to FOLDRT_BENCH_OUT_DIR (default: the system temp
// folder) and are removed at exit. Peak memory is not measured here; run
// the CLI under /usr/bin/time -v for that.
//
// Counters: file_MB is the input size; bytes_per_second counts the input
// file's bytes once per iteration.
#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "graph/graph.h"
#include "graph/onnx_io.h"
#include "graph/passes/batch_norm_fold.h"

namespace foldrt::graph {
namespace {

namespace fs = std::filesystem;

// The model path, or "" after reporting the skip.
std::string ModelPath(benchmark::State& state) {
  const char* path = std::getenv("FOLDRT_BENCH_MODEL");
  std::error_code error;
  if (path == nullptr || !fs::is_regular_file(path, error)) {
    state.SkipWithError(
        "set FOLDRT_BENCH_MODEL to an .onnx file, e.g. from "
        "'/usr/bin/python3 tools/export_torchvision.py resnet50 "
        "/tmp/resnet50_bn.onnx'");
    return {};
  }
  return path;
}

std::string OutputPath() {
  const char* dir = std::getenv("FOLDRT_BENCH_OUT_DIR");
  const fs::path folder =
      dir != nullptr ? fs::path(dir) : fs::temp_directory_path();
  return (folder / "foldrt_fold_bench_out.onnx").string();
}

void SetFileCounters(benchmark::State& state, const std::string& path) {
  const auto size = static_cast<int64_t>(fs::file_size(path));
  state.SetBytesProcessed(state.iterations() * size);
  state.counters["file_MB"] = static_cast<double>(size) / 1e6;
}

void BM_LoadWrite(benchmark::State& state) {
  const std::string path = ModelPath(state);
  if (path.empty()) return;
  const std::string out = OutputPath();
  for (auto _ : state) {
    Model model = LoadOnnxModel(path);
    SaveOnnxModel(model, out);
  }
  SetFileCounters(state, path);
  std::remove(out.c_str());
}

void BM_LoadFoldWrite(benchmark::State& state) {
  const std::string path = ModelPath(state);
  if (path.empty()) return;
  const std::string out = OutputPath();
  size_t folded = 0;
  for (auto _ : state) {
    Model model = LoadOnnxModel(path);
    const FoldReport report = FoldBatchNormalization(model);
    folded = report.CountFate(BatchNormFate::kFoldedBackward) +
             report.CountFate(BatchNormFate::kFoldedForward);
    SaveOnnxModel(model, out);
  }
  SetFileCounters(state, path);
  state.counters["bn_folded"] = static_cast<double>(folded);
  std::remove(out.c_str());
}

// The passes alone, on a model already in memory (the copy that gives each
// iteration an unfolded model is not timed).
void BM_FoldOnly(benchmark::State& state) {
  const std::string path = ModelPath(state);
  if (path.empty()) return;
  const Model original = LoadOnnxModel(path);
  for (auto _ : state) {
    state.PauseTiming();
    Model model = original;
    state.ResumeTiming();
    benchmark::DoNotOptimize(FoldBatchNormalization(model));
    state.PauseTiming();
    model = Model();  // free outside the timed region
    state.ResumeTiming();
  }
  SetFileCounters(state, path);
}

BENCHMARK(BM_LoadWrite)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_LoadFoldWrite)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_FoldOnly)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
}  // namespace foldrt::graph

BENCHMARK_MAIN();
