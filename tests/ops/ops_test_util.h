// Helpers the tests of the prepared ops (Conv, ConvTranspose, MatMul / Gemm,
// Pool) share: random inputs, comparing an output with a reference within a
// per-element bound, and the checks every prepared op gets (bad inputs
// rejected before anything is written, concurrent Runs on one object).
#ifndef FOLDRT_TESTS_OPS_OPS_TEST_UTIL_H_
#define FOLDRT_TESTS_OPS_OPS_TEST_UTIL_H_

#include <gtest/gtest.h>

#include <cfloat>
#include <cmath>
#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "core/error.h"
#include "core/tensor.h"
#include "ops/activation.h"

namespace foldrt::ops::test {

// n values uniform in [-1, 1).
std::vector<float> Random(size_t n, std::mt19937& rng);

// |v| elementwise (the references run on absolute values for the bounds).
std::vector<float> Abs(std::vector<float> v);

// The element count of `dims` (core's checked count, as a size).
size_t Count(const std::vector<int64_t>& dims);

// The activations the fused-activation sweeps run (Clip with both bounds
// finite; conv_test adds one with an infinite bound).
std::vector<Activation> SweepActivations();

// Expected output and its bound: |got - ref| <= atol + FLT_EPSILON * |ref|
// per element. Each test derives atol for its op (see the comment at its
// Reference).
struct Expected {
  std::vector<float> ref;
  std::vector<float> atol;
};

// The Expected output of an op that sums `terms` products (and a bias) per
// output, then applies `act`: run(x, w, bias, y) is its reference, run once
// on the inputs for ref and once on |x|, |w|, |bias| (bias_size floats, or
// null) for atol = (terms + 1) * FLT_EPSILON * that (Conv's and
// ConvTranspose's bound; see conv_test.cc).
template <class Run>
Expected SumOfProductsReference(size_t y_size, const std::vector<float>& x,
                                const std::vector<float>& w, const float* bias,
                                size_t bias_size, const Activation& act,
                                size_t terms, Run&& run) {
  Expected e;
  e.ref.resize(y_size);
  run(x.data(), w.data(), bias, e.ref.data());
  for (float& v : e.ref) v = ApplyActivation(act, v);
  std::vector<float> abs_bias;
  if (bias != nullptr) {
    abs_bias = Abs(std::vector<float>(bias, bias + bias_size));
  }
  e.atol.resize(y_size);
  run(Abs(x).data(), Abs(w).data(), bias != nullptr ? abs_bias.data() : nullptr,
      e.atol.data());
  for (float& s : e.atol) s *= (terms + 1) * FLT_EPSILON;
  return e;
}

// A shared copy of `values`, the way the runtime hands constants to the ops
// (SharedFloats); *freed (when not null) turns true when the last owner lets
// go of it.
std::shared_ptr<const float> SharedCopy(const std::vector<float>& values,
                                        bool* freed = nullptr);

// Number of outputs outside the bound; the first few are reported, prefixed
// with `what`.
int CountMismatches(const std::vector<float>& got, const Expected& e,
                    const std::string& what);

// The sweep of one case of a weighted op (Conv, ConvTranspose): batch 1
// and 3 (x_dims[0] overwritten), x random, op.OutputDims(x_dims) asserted
// equal to output_dims(x_dims), then 1 and 2 threads, each Run into NaNs
// within the bound of reference(x, x_dims). `what` names the case in
// failures. Call under ASSERT_NO_FATAL_FAILURE so that a wrong shape ends
// the test.
template <class Op, class OutputDims, class Reference>
void ExpectBatchesAndThreadsMatch(const Op& op, std::vector<int64_t> x_dims,
                                  std::mt19937& rng, const std::string& what,
                                  OutputDims&& output_dims,
                                  Reference&& reference) {
  for (int64_t batch : {1, 3}) {
    x_dims[0] = batch;
    const std::vector<float> x = Random(Count(x_dims), rng);
    const Expected e = reference(x, x_dims);
    ASSERT_EQ(op.OutputDims(x_dims), output_dims(x_dims));
    for (int threads : {1, 2}) {
      std::vector<float> y(e.ref.size(), NAN);
      op.Run(x.data(), x_dims, y.data(), threads);
      const std::string run = what + " batch " + std::to_string(batch) +
                              " threads " + std::to_string(threads);
      EXPECT_EQ(CountMismatches(y, e, run), 0) << run;
    }
  }
}

// For each of `bad_dims`: op.OutputDims and op.Run (1 thread) throw
// InvalidArgumentError, and Run writes nothing into y.
template <class Op>
void ExpectRejectedWithoutWritingOutput(
    const Op& op, const std::vector<std::vector<int64_t>>& bad_dims) {
  const std::vector<float> x(1000, 1.0f);
  for (const std::vector<int64_t>& dims : bad_dims) {
    EXPECT_THROW(op.OutputDims(dims), InvalidArgumentError)
        << ShapeToString(dims);
    std::vector<float> y(100, 42.0f);
    EXPECT_THROW(op.Run(x.data(), dims, y.data(), 1), InvalidArgumentError)
        << ShapeToString(dims);
    EXPECT_EQ(y, std::vector<float>(100, 42.0f)) << ShapeToString(dims);
  }
}

// One thread's share of ExpectConcurrentRunsMatch: its input shape, thread
// count, input and expected output.
struct ConcurrentJob {
  ConcurrentJob(std::vector<int64_t> dims, int thread_count)
      : x_dims(std::move(dims)), threads(thread_count) {}

  std::vector<int64_t> x_dims;
  int threads;
  std::vector<float> x;
  Expected e;
  int mismatches = 0;
};

// One object, one std::thread per job running op.Run `iterations` times on
// the job's input at once (each building its primitive while the others
// run): every output within its bound.
template <class Op>
void ExpectConcurrentRunsMatch(const Op& op, std::vector<ConcurrentJob> jobs,
                               int iterations) {
  std::vector<std::thread> threads;
  for (ConcurrentJob& job : jobs) {
    threads.emplace_back([&op, &job, iterations] {
      for (int iter = 0; iter < iterations; ++iter) {
        std::vector<float> y(job.e.ref.size(), NAN);
        op.Run(job.x.data(), job.x_dims, y.data(), job.threads);
        job.mismatches += CountMismatches(y, job.e, "concurrent");
      }
    });
  }
  for (std::thread& t : threads) t.join();
  for (const ConcurrentJob& job : jobs) {
    EXPECT_EQ(job.mismatches, 0)
        << ShapeToString(job.x_dims) << " threads " << job.threads;
  }
}

}  // namespace foldrt::ops::test

#endif  // FOLDRT_TESTS_OPS_OPS_TEST_UTIL_H_
