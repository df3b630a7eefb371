// Test data and the tolerance every BN kernel test uses.
//
// Tolerance |got - ref| <= atol + rtol * |ref|, with
//   rtol = 2 * FLT_EPSILON: the kernel rounds a*x + b once (FMA) and the
//          reference rounds the double result once, so each is within half
//          an ulp of the exact value: at most one ulp = FLT_EPSILON*|ref|
//          apart; doubled for margin.
//   atol = FLT_EPSILON * (max |a*x| + max |b|) over the tensor: targets
//          without FMA (SSSE3, SSE4, EMU128) round a*x before adding b,
//          an error of half an ulp of |a*x| that cancellation can leave much
//          larger than an ulp of |y|; and the check against the textbook
//          formula also sees a and b rounded to float once (half an ulp of
//          each). Activations (ReLU, Clip) never increase a difference.
// NaN must be NaN and infinities must match exactly.
#ifndef FOLDRT_TESTS_OPS_BATCH_NORM_TEST_UTIL_H_
#define FOLDRT_TESTS_OPS_BATCH_NORM_TEST_UTIL_H_

#include <gtest/gtest.h>

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstddef>
#include <random>
#include <vector>

namespace foldrt::ops::bn_test {

struct BnParams {
  std::vector<float> gamma, beta, mean, var;
  float eps = 1e-5f;
};

// Non-trivial statistics: negative gammas, non-zero means, variances far
// from 1. Trivial ones (mean 0, var 1, gamma 1, beta 0) hide bugs.
inline BnParams RandomBnParams(size_t channels, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> g(-1.5f, 1.5f), v(0.05f, 4.0f);
  std::normal_distribution<float> n(0.0f, 1.0f);
  BnParams p;
  for (size_t c = 0; c < channels; ++c) {
    p.gamma.push_back(g(rng));
    p.beta.push_back(n(rng));
    p.mean.push_back(n(rng));
    p.var.push_back(v(rng));
  }
  return p;
}

inline std::vector<float> RandomTensor(size_t n, uint32_t seed,
                                       float lo = -3.0f, float hi = 3.0f) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(lo, hi);
  std::vector<float> x(n);
  for (float& v : x) v = u(rng);
  return x;
}

// atol of the header comment for one tensor.
inline double BnAbsTolerance(const std::vector<float>& scale,
                             const std::vector<float>& shift, const float* x,
                             size_t n) {
  double max_x = 0.0;
  for (size_t i = 0; i < n; ++i) {
    if (std::isfinite(x[i])) max_x = std::max(max_x, std::fabs(double{x[i]}));
  }
  double max_ax = 0.0, max_b = 0.0;
  for (size_t c = 0; c < scale.size(); ++c) {
    max_ax = std::max(max_ax, std::fabs(double{scale[c]}) * max_x);
    max_b = std::max(max_b, std::fabs(double{shift[c]}));
  }
  return FLT_EPSILON * (max_ax + max_b) + FLT_MIN;
}

inline constexpr double kBnRelTolerance = 2 * FLT_EPSILON;

inline ::testing::AssertionResult NearBn(const float* got, const float* ref,
                                         size_t n, double atol) {
  for (size_t i = 0; i < n; ++i) {
    const float g = got[i], r = ref[i];
    bool ok;
    if (std::isnan(r)) {
      ok = std::isnan(g);
    } else if (std::isinf(r)) {
      ok = g == r;
    } else {
      ok = std::fabs(double{g} - r) <= atol + kBnRelTolerance * std::fabs(r);
    }
    if (!ok) {
      return ::testing::AssertionFailure()
             << "element " << i << ": got " << g << ", reference " << r
             << " (atol " << atol << ", rtol " << kBnRelTolerance << ")";
    }
  }
  return ::testing::AssertionSuccess();
}

}  // namespace foldrt::ops::bn_test

#endif  // FOLDRT_TESTS_OPS_BATCH_NORM_TEST_UTIL_H_
