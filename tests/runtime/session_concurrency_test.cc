// Session::Run from eight threads at once on one Session: each thread runs
// every (input, batch size) variant in its own order, so plans for new shape
// signatures are built while other threads run cached ones, and every
// output must equal, bit for bit, what a second session with the same
// options computed for that variant from one calling thread before.
//
// Also six threads cycling through batch sizes of one model whose plans
// they create concurrently, against a session run from one thread.
//
// tools/dev.sh tsan runs this under ThreadSanitizer. Each run uses
// FOLDRT_CONCURRENCY_TEST_THREADS OpenMP threads (default 2; 1 keeps every
// run on its calling thread, should the uninstrumented libgomp ever produce
// reports tests/tsan.supp does not cover).
#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <ostream>
#include <string>
#include <thread>
#include <vector>

#include "core/npy.h"
#include "core/tensor.h"
#include "runtime/session.h"
#include "tests/runtime/test_models.h"

namespace foldrt::runtime {
namespace {

using foldrt::testing::TestDataPath;

constexpr int kThreads = 8;
constexpr int kRounds = 2;

int ThreadsPerRun() {
  const char* value = std::getenv("FOLDRT_CONCURRENCY_TEST_THREADS");
  return value != nullptr ? std::atoi(value) : 2;
}

// `samples` samples cycling through the file's, each element offset by
// `shift`: distinct inputs per variant, not just distinct shapes.
Tensor Variant(const NpyArrayF32& base, int64_t samples, float shift) {
  std::vector<int64_t> shape = base.shape;
  const size_t per_sample = base.data.size() / static_cast<size_t>(shape[0]);
  std::vector<float> values;
  values.reserve(per_sample * static_cast<size_t>(samples));
  for (int64_t s = 0; s < samples; ++s) {
    const size_t first = static_cast<size_t>(s % shape[0]) * per_sample;
    for (size_t i = 0; i < per_sample; ++i) {
      values.push_back(base.data[first + i] + shift);
    }
  }
  shape[0] = samples;
  return Tensor::FromFloats(shape, values);
}

bool SameBits(const Tensor& a, const Tensor& b) {
  return a.dtype() == b.dtype() && a.shape() == b.shape() &&
         std::memcmp(a.raw_data(), b.raw_data(), a.ByteSize()) == 0;
}

// Runs run(t) for t in [0, threads) on that many threads at once; each
// returns how many of its outputs differed from the expected ones. Expects
// none, and no exception, per thread.
template <typename Run>
void ExpectEveryThreadMatches(int threads, const Run& run) {
  std::vector<int> mismatches(threads, 0);
  std::vector<std::string> errors(threads);
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      try {
        mismatches[t] = run(t);
      } catch (const std::exception& e) {
        errors[t] = e.what();
      }
    });
  }
  for (std::thread& worker : workers) worker.join();
  for (int t = 0; t < threads; ++t) {
    EXPECT_EQ(mismatches[t], 0) << "thread " << t;
    EXPECT_EQ(errors[t], "") << "thread " << t;
  }
}

struct ModelCase {
  std::string model;
  bool fold;
};

void PrintTo(const ModelCase& c, std::ostream* os) {
  *os << c.model << (c.fold ? " folded" : " unfolded");
}

class SessionConcurrencyTest : public ::testing::TestWithParam<ModelCase> {};

TEST_P(SessionConcurrencyTest, EightThreadsMatchOneThread) {
  const ModelCase& param = GetParam();
  const std::string model = TestDataPath(param.model + ".onnx");
  const NpyArrayF32 base = ReadNpyF32(TestDataPath(param.model + ".input.npy"));
  SessionOptions options;
  options.threads = ThreadsPerRun();
  options.fold = param.fold;
  const std::unique_ptr<Session> session = Session::Load(model, options);
  ASSERT_EQ(session->inputs().size(), 1u);
  const std::string input = session->inputs()[0].name;

  // Batch sizes 1..6 (each a new plan), each with its own data.
  struct Case {
    std::map<std::string, Tensor> inputs;
    std::map<std::string, Tensor> expected;
  };
  std::vector<Case> cases;
  for (int64_t batch = 1; batch <= 6; ++batch) {
    Case c;
    c.inputs.emplace(input, Variant(base, batch, 0.125f * batch));
    cases.push_back(std::move(c));
  }
  // The expected outputs come from a separate session, so that the
  // concurrent runs below also race to build every plan of `session`.
  const std::unique_ptr<Session> reference = Session::Load(model, options);
  for (Case& c : cases) c.expected = reference->Run(c.inputs);

  ExpectEveryThreadMatches(kThreads, [&](int t) {
    int mismatches = 0;
    for (int round = 0; round < kRounds; ++round) {
      for (size_t i = 0; i < cases.size(); ++i) {
        // Thread t starts at variant t: all signatures are planned at once
        // in the first round, cached in the second.
        const Case& c = cases[(i + t) % cases.size()];
        const std::map<std::string, Tensor> got = session->Run(c.inputs);
        for (const auto& [name, want] : c.expected) {
          const auto it = got.find(name);
          if (it == got.end() || !SameBits(it->second, want)) ++mismatches;
        }
      }
    }
    return mismatches;
  });
}

INSTANTIATE_TEST_SUITE_P(
    Models, SessionConcurrencyTest,
    ::testing::Values(ModelCase{"resnet_basic_block", true},
                      ModelCase{"densenet_dense_block", true},
                      ModelCase{"efficientnet_mbconv_se", false},
                      ModelCase{"mlp_bn1d", false}),
    [](const ::testing::TestParamInfo<ModelCase>& info) {
      return info.param.model + (info.param.fold ? "_folded" : "_unfolded");
    });

TEST(SessionTest, ConcurrentRunsEqualSequentialRuns) {
  // Several threads, each cycling through batch sizes, on one session
  // whose plans they create concurrently.
  const std::string model = TestDataPath("efficientnet_mbconv_se.onnx");
  const NpyArrayF32 base =
      ReadNpyF32(TestDataPath("efficientnet_mbconv_se.input.npy"));
  const std::vector<int64_t> batches = {1, 2, 3, 5};
  SessionOptions options;
  options.threads = 2;
  std::vector<Tensor> expected;
  {
    const std::unique_ptr<Session> sequential = Session::Load(model, options);
    for (int64_t batch : batches) {
      expected.push_back(
          sequential->Run({{"input", Variant(base, batch, 0.0f)}})
              .at("output"));
    }
  }
  const std::unique_ptr<Session> session = Session::Load(model, options);
  constexpr int kIterations = 8;
  ExpectEveryThreadMatches(/*threads=*/6, [&](int t) {
    int mismatches = 0;
    for (int i = 0; i < kIterations; ++i) {
      const size_t which = (t + i) % batches.size();
      const Tensor got =
          session->Run({{"input", Variant(base, batches[which], 0.0f)}})
              .at("output");
      if (!SameBits(got, expected[which])) ++mismatches;
    }
    return mismatches;
  });
}

}  // namespace
}  // namespace foldrt::runtime
