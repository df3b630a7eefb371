// Whole-model latency: Session::Run at batch 1 on 1 and 2 threads, with
// BatchNormalization folded at load and with every BN standalone (--no-fold).
//
// Models: the bundled default model (tools/demo/model.onnx, ShuffleNetV2
// x0.5), every mini model in tests/data, and every .onnx file in
// FOLDRT_MODELS_DIR when it is set, e.g. the full-size torchvision models the
// opt-in full_models test exports and caches:
//
//   ctest --test-dir build -L full_models   # or tools/full_models.py --out DIR
//   FOLDRT_MODELS_DIR=build/tests/tools/full_models build/bench/session_bench
//
// Inputs are seeded standard normal data of the declared shape with every
// symbolic dim 1. Load, fold, weight packing and the first run (which plans
// the shape and builds the primitives) happen before the timed loop, so the
// time is the steady-state latency of one Run. Benchmark names are
// session_run/<model>/threads:<n>/<fold|no_fold>; items_per_second counts
// images (batch 1: runs per second).
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "graph/passes/fold_report.h"
#include "core/tensor.h"
#include "runtime/session.h"

namespace foldrt::runtime {
namespace {

namespace fs = std::filesystem;

struct BenchModel {
  std::string name;  // demo/..., data/..., or models_dir/...
  std::string path;
};

std::vector<BenchModel> OnnxFilesIn(const fs::path& folder,
                                    const std::string& prefix) {
  std::vector<BenchModel> models;
  std::error_code error;
  for (const fs::directory_entry& entry :
       fs::directory_iterator(folder, error)) {
    if (entry.path().extension() == ".onnx" && entry.is_regular_file()) {
      models.push_back(
          {prefix + "/" + entry.path().stem().string(), entry.path().string()});
    }
  }
  // directory_iterator's order is unspecified; the report should not be.
  std::sort(
      models.begin(), models.end(),
      [](const BenchModel& a, const BenchModel& b) { return a.name < b.name; });
  return models;
}

std::vector<BenchModel> Models() {
  const fs::path source(FOLDRT_SOURCE_DIR);
  std::vector<BenchModel> models = {
      {"demo/shufflenet_v2_x0_5", (source / "tools/demo/model.onnx").string()}};
  for (BenchModel& m : OnnxFilesIn(source / "tests/data", "data")) {
    models.push_back(std::move(m));
  }
  if (const char* dir = std::getenv("FOLDRT_MODELS_DIR"); dir != nullptr) {
    for (BenchModel& m : OnnxFilesIn(dir, "models_dir")) {
      models.push_back(std::move(m));
    }
  }
  return models;
}

// Seeded standard normal data (int64 inputs: zeros) of each input's declared
// shape, symbolic dims 1. Throws std::runtime_error for an undeclared shape.
std::map<std::string, Tensor> RandomInputs(const Session& session) {
  std::map<std::string, Tensor> inputs;
  std::mt19937 generator(0);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  for (const ValueInfo& info : session.inputs()) {
    if (!info.shape) {
      throw std::runtime_error("input '" + info.name + "' declares no shape");
    }
    std::vector<int64_t> shape;
    for (const Dimension& d : *info.shape) {
      shape.push_back(d.known() ? d.value : 1);
    }
    if (info.dtype == DataType::kInt64) {
      inputs.emplace(info.name, Tensor::Zeros(DataType::kInt64, shape));
      continue;
    }
    std::vector<float> values(static_cast<size_t>(ShapeNumElements(shape)));
    for (float& v : values) v = normal(generator);
    inputs.emplace(info.name, Tensor::FromFloats(shape, values));
  }
  return inputs;
}

// Google Benchmark calls a benchmark function several times while it picks
// the iteration count; a full-size model takes a second or more to load, so
// the last session stays loaded. One at a time bounds the memory (VGG-11 is
// 0.5 GB of weights), and the registration order keeps a model's runs
// together.
struct LoadedSession {
  std::string path;
  int threads = 0;
  bool fold = false;
  std::unique_ptr<Session> session;
  std::map<std::string, Tensor> inputs;
};

LoadedSession& Load(const std::string& path, int threads, bool fold) {
  static LoadedSession loaded;
  if (loaded.session == nullptr || loaded.path != path ||
      loaded.threads != threads || loaded.fold != fold) {
    loaded.session.reset();  // free the previous model before loading
    SessionOptions options;
    options.threads = threads;
    options.fold = fold;
    loaded.session = Session::Load(path, options);
    loaded.inputs = RandomInputs(*loaded.session);
    loaded.path = path;
    loaded.threads = threads;
    loaded.fold = fold;
    loaded.session->Run(loaded.inputs);  // plans the shape, builds primitives
  }
  return loaded;
}

void BM_SessionRun(benchmark::State& state, const BenchModel& model,
                   int threads, bool fold) {
  LoadedSession* loaded = nullptr;
  try {
    loaded = &Load(model.path, threads, fold);
  } catch (const std::exception& e) {
    state.SkipWithError(e.what());
    return;
  }
  const Session& session = *loaded->session;
  for (auto _ : state) {
    std::map<std::string, Tensor> outputs = session.Run(loaded->inputs);
    benchmark::DoNotOptimize(outputs);
  }
  int64_t batch = 1;
  for (const ValueInfo& info : session.inputs()) {
    if (info.shape && !info.shape->empty() && (*info.shape)[0].known()) {
      batch = (*info.shape)[0].value;
    }
  }
  state.SetItemsProcessed(state.iterations() * batch);
  if (fold) {
    const graph::FoldReport& report = session.fold_report();
    state.counters["BN_total"] = static_cast<double>(report.batch_norms.size());
    state.counters["BN_standalone"] =
        static_cast<double>(report.CountFate(graph::BatchNormFate::kNotFolded));
  }
}

void RegisterAll() {
  for (const BenchModel& model : Models()) {
    for (const int threads : {1, 2}) {
      for (const bool fold : {true, false}) {
        const std::string name = "session_run/" + model.name +
                                 "/threads:" + std::to_string(threads) +
                                 (fold ? "/fold" : "/no_fold");
        benchmark::RegisterBenchmark(name.c_str(), BM_SessionRun, model,
                                     threads, fold)
            ->UseRealTime()
            ->Unit(benchmark::kMillisecond);
      }
    }
  }
}

}  // namespace
}  // namespace foldrt::runtime

int main(int argc, char** argv) {
  foldrt::runtime::RegisterAll();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
