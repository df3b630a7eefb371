#include "ops/matmul.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstdint>
#include <memory>
#include <ostream>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "core/error.h"
#include "core/tensor.h"
#include "ops/activation.h"
#include "ops/ref/gemm_ref.h"
#include "ops/ref/matmul_ref.h"
#include "ops/ref/shape_util.h"
#include "tests/ops/ops_test_util.h"

namespace foldrt::ops {
namespace {

using test::Abs;
using test::Count;
using test::CountMismatches;
using test::Expected;
using test::Random;

// Expected output and its error bound.
//
// oneDNN sums K products per output in float in an order of its choosing;
// alpha is folded into B (one more rounding per product) and beta * C into
// the bias (one rounding). Whatever the order, the error is at most
// gamma_{K+2} * S, gamma_n = n u / (1 - n u), u = FLT_EPSILON / 2, with
// S = |alpha| sum |a| |b| + |beta| |c| per output (Higham 3.1). So
//   |got - ref| <= atol + rtol * |ref|,  atol = (K + 3) * FLT_EPSILON * S
// (about twice that), rtol = FLT_EPSILON for the double reference's final
// rounding; activations are 1-Lipschitz.
Expected GemmReference(const std::vector<float>& a,
                       const std::vector<int64_t>& a_dims,
                       const std::vector<float>& b,
                       const std::vector<int64_t>& b_dims, const float* c,
                       const std::vector<int64_t>& c_dims,
                       const ref::GemmParams& params, const Activation& act) {
  const std::vector<int64_t> y_dims = ref::GemmOutputShape(
      a_dims, b_dims, c != nullptr ? &c_dims : nullptr, params);
  Expected e;
  e.ref.resize(Count(y_dims));
  ref::GemmRef(a.data(), a_dims, b.data(), b_dims, c, c_dims, params,
               e.ref.data());
  for (float& v : e.ref) v = ApplyActivation(act, v);
  std::vector<float> abs_c;
  if (c != nullptr) abs_c = Abs(std::vector<float>(c, c + Count(c_dims)));
  ref::GemmParams abs_params = params;
  abs_params.alpha = std::fabs(params.alpha);
  abs_params.beta = std::fabs(params.beta);
  e.atol.resize(e.ref.size());
  ref::GemmRef(Abs(a).data(), a_dims, Abs(b).data(), b_dims,
               c != nullptr ? abs_c.data() : nullptr, c_dims, abs_params,
               e.atol.data());
  const int64_t k = params.trans_a ? a_dims[0] : a_dims[1];
  for (float& s : e.atol) s *= (k + 3) * FLT_EPSILON;
  return e;
}

struct MatMulCase {
  std::vector<int64_t> a_dims;
  std::vector<int64_t> b_dims;
  bool with_bias;
  float alpha;
};

void PrintTo(const MatMulCase& c, std::ostream* os) {
  *os << "A " << ShapeToString(c.a_dims) << " B " << ShapeToString(c.b_dims)
      << (c.with_bias ? " bias" : "") << " alpha " << c.alpha;
}

class MatMulSweep : public ::testing::TestWithParam<MatMulCase> {};

TEST_P(MatMulSweep, MatchesReference) {
  const MatMulCase& mc = GetParam();
  std::mt19937 rng(99);
  const int64_t k = mc.b_dims[0];
  const int64_t n = mc.b_dims.size() == 2 ? mc.b_dims[1] : 1;
  const std::vector<float> b = Random(k * n, rng);
  const std::vector<float> bias = Random(n, rng);
  const std::vector<float> a = Random(Count(mc.a_dims), rng);
  const float* bias_ptr = mc.with_bias ? bias.data() : nullptr;
  // The reference: numpy.matmul's shape, values from Gemm on the (M, K)
  // flattening of A.
  const std::vector<int64_t> y_dims =
      ref::MatMulOutputShape(mc.a_dims, mc.b_dims);
  const int64_t m = static_cast<int64_t>(Count(mc.a_dims)) / k;
  ref::GemmParams params;
  params.alpha = mc.alpha;
  for (const Activation& act : test::SweepActivations()) {
    const MatMul op(b.data(), mc.b_dims, bias_ptr, mc.alpha, act);
    ASSERT_EQ(op.OutputDims(mc.a_dims), y_dims);
    const Expected e =
        GemmReference(a, {m, k}, b, {k, n}, bias_ptr, {n}, params, act);
    for (int threads : {1, 2}) {
      std::vector<float> y(Count(y_dims), NAN);
      op.Run(a.data(), mc.a_dims, y.data(), threads);
      std::ostringstream what;
      PrintTo(mc, &what);
      what << " act " << act.ToString() << " threads " << threads;
      EXPECT_EQ(CountMismatches(y, e, what.str()), 0) << what.str();
    }
  }
}

INSTANTIATE_TEST_SUITE_P(
    Configs, MatMulSweep,
    ::testing::Values(MatMulCase{{1, 1}, {1, 1}, true, 1.0f},
                      MatMulCase{{1, 17}, {17, 3}, true, 1.0f},
                      MatMulCase{{3, 64}, {64, 17}, false, 1.0f},
                      MatMulCase{{5, 3}, {3, 100}, true, 0.5f},
                      MatMulCase{{64, 300}, {300, 33}, true, -2.0f},
                      MatMulCase{{2, 3, 40}, {40, 24}, true, 1.0f},
                      MatMulCase{{2, 1, 3, 16}, {16, 5}, false, 1.0f},
                      MatMulCase{{37}, {37, 8}, true, 1.0f},
                      MatMulCase{{4, 9}, {9}, true, 1.0f},
                      MatMulCase{{9}, {9}, false, 2.0f},
                      MatMulCase{{3, 2048}, {2048, 10}, true, 1.0f},
                      MatMulCase{{128, 256}, {256, 128}, true, 1.0f}));

struct GemmCase {
  int64_t m, k, n;
  bool trans_a, trans_b;
  bool with_c;
  std::vector<int64_t> c_dims;
  float alpha, beta;
};

void PrintTo(const GemmCase& c, std::ostream* os) {
  *os << "M " << c.m << " K " << c.k << " N " << c.n
      << (c.trans_a ? " transA" : "") << (c.trans_b ? " transB" : "")
      << (c.with_c ? " C " + ShapeToString(c.c_dims) : " no C") << " alpha "
      << c.alpha << " beta " << c.beta;
}

std::vector<GemmCase> GemmCases() {
  std::vector<GemmCase> cases;
  const int64_t sizes[][3] = {{1, 17, 3}, {3, 64, 17}, {33, 100, 65}};
  for (const auto& s : sizes) {
    const int64_t n = s[2];
    const std::vector<std::vector<int64_t>> c_shapes = {
        {}, {1}, {n}, {1, 1}, {1, n}};
    for (bool trans_a : {false, true}) {
      for (bool trans_b : {false, true}) {
        cases.push_back(
            {s[0], s[1], n, trans_a, trans_b, false, {}, 1.0f, 1.0f});
        for (const auto& c : c_shapes) {
          cases.push_back(
              {s[0], s[1], n, trans_a, trans_b, true, c, 0.75f, -1.5f});
        }
      }
    }
  }
  return cases;
}

class GemmSweep : public ::testing::TestWithParam<GemmCase> {};

TEST_P(GemmSweep, MatchesReference) {
  const GemmCase& gc = GetParam();
  std::mt19937 rng(5);
  const std::vector<int64_t> a_dims = gc.trans_a
                                          ? std::vector<int64_t>{gc.k, gc.m}
                                          : std::vector<int64_t>{gc.m, gc.k};
  const std::vector<int64_t> b_dims = gc.trans_b
                                          ? std::vector<int64_t>{gc.n, gc.k}
                                          : std::vector<int64_t>{gc.k, gc.n};
  const std::vector<float> a = Random(Count(a_dims), rng);
  const std::vector<float> b = Random(Count(b_dims), rng);
  const std::vector<float> c = Random(Count(gc.c_dims), rng);
  const float* c_ptr = gc.with_c ? c.data() : nullptr;
  ref::GemmParams params;
  params.trans_a = gc.trans_a;
  params.trans_b = gc.trans_b;
  params.alpha = gc.alpha;
  params.beta = gc.beta;
  GemmAttributes attrs;
  attrs.trans_a = gc.trans_a;
  attrs.trans_b = gc.trans_b;
  attrs.alpha = gc.alpha;
  attrs.beta = gc.beta;
  for (const Activation& act : test::SweepActivations()) {
    const Gemm op(b.data(), b_dims, c_ptr, gc.c_dims, attrs, act);
    ASSERT_EQ(op.OutputDims(a_dims), (std::vector<int64_t>{gc.m, gc.n}));
    const Expected e =
        GemmReference(a, a_dims, b, b_dims, c_ptr, gc.c_dims, params, act);
    for (int threads : {1, 2}) {
      std::vector<float> y(gc.m * gc.n, NAN);
      op.Run(a.data(), a_dims, y.data(), threads);
      std::ostringstream what;
      PrintTo(gc, &what);
      what << " act " << act.ToString() << " threads " << threads;
      EXPECT_EQ(CountMismatches(y, e, what.str()), 0) << what.str();
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Configs, GemmSweep, ::testing::ValuesIn(GemmCases()));

// B shared instead of copied (the runtime's constants): transB read through
// strides, several M (each its own primitive, the later ones reordering B
// from the first packed copy) and thread counts; B stays alive through the
// op after the caller lets go, and is freed with it at the latest.
TEST(GemmTest, SharedBMatchesReferenceAndOutlivesTheCaller) {
  std::mt19937 rng(8);
  const int64_t k = 70, n = 33;
  for (const bool trans_b : {false, true}) {
    for (const float alpha : {1.0f, -0.5f}) {
      const std::vector<int64_t> b_dims =
          trans_b ? std::vector<int64_t>{n, k} : std::vector<int64_t>{k, n};
      const std::vector<float> b = Random(Count(b_dims), rng);
      const std::vector<float> c = Random(n, rng);
      bool freed = false;
      std::shared_ptr<const float> shared = test::SharedCopy(b, &freed);
      GemmAttributes attrs;
      attrs.trans_b = trans_b;
      attrs.alpha = alpha;
      attrs.beta = 0.75f;
      ref::GemmParams params;
      params.trans_b = trans_b;
      params.alpha = alpha;
      params.beta = 0.75f;
      {
        const Gemm op(SharedFloats{std::move(shared)}, b_dims, c.data(), {n},
                      attrs, Activation::Relu());
        for (const int64_t m : {1, 37, 2}) {
          for (int threads : {1, 2}) {
            const std::vector<float> a = Random(m * k, rng);
            const Expected e = GemmReference(a, {m, k}, b, b_dims, c.data(),
                                             {n}, params, Activation::Relu());
            std::vector<float> y(m * n, NAN);
            op.Run(a.data(), {m, k}, y.data(), threads);
            const std::string what =
                std::string("trans_b ") + (trans_b ? "1" : "0") + " alpha " +
                std::to_string(alpha) + " M " + std::to_string(m) +
                " threads " + std::to_string(threads);
            EXPECT_EQ(CountMismatches(y, e, what), 0) << what;
          }
        }
      }
      EXPECT_TRUE(freed);
    }
  }
}

TEST(MatMulTest, SharedBMatchesReference) {
  std::mt19937 rng(9);
  const int64_t k = 40, n = 24;
  const std::vector<float> b = Random(k * n, rng);
  const std::shared_ptr<const float> shared = test::SharedCopy(b);
  const MatMul op(SharedFloats{shared}, {k, n}, nullptr);
  for (const int64_t m : {3, 1}) {
    const std::vector<float> a = Random(m * k, rng);
    const Expected e = GemmReference(a, {m, k}, b, {k, n}, nullptr, {}, {},
                                     Activation::None());
    std::vector<float> y(m * n, NAN);
    op.Run(a.data(), {m, k}, y.data(), 1);
    EXPECT_EQ(CountMismatches(y, e, "shared B"), 0);
  }
}

TEST(MatMulTest, ZeroRows) {
  const std::vector<float> b(12, 1.0f);
  const MatMul op(b.data(), {3, 4}, nullptr);
  EXPECT_EQ(op.OutputDims({2, 0, 3}), (std::vector<int64_t>{2, 0, 4}));
  op.Run(nullptr, {2, 0, 3}, nullptr, 1);
}

TEST(MatMulTest, ConcurrentRunsOnOneObject) {
  std::mt19937 rng(21);
  const int64_t k = 96, n = 40;
  const std::vector<float> b = Random(k * n, rng);
  const std::vector<float> bias = Random(n, rng);
  const MatMul op(b.data(), {k, n}, bias.data(), 1.0f, Activation::Relu());
  std::vector<test::ConcurrentJob> jobs = {{{1, k}, 2}, {{3, 7, k}, 1}};
  for (test::ConcurrentJob& job : jobs) {
    job.x = Random(Count(job.x_dims), rng);
    const int64_t m = static_cast<int64_t>(job.x.size()) / k;
    job.e = GemmReference(job.x, {m, k}, b, {k, n}, bias.data(), {n}, {},
                          Activation::Relu());
  }
  test::ExpectConcurrentRunsMatch(op, std::move(jobs), 50);
}

TEST(MatMulTest, RejectsBadInput) {
  const std::vector<float> b(64, 1.0f);
  EXPECT_THROW(MatMul(nullptr, {4, 4}, nullptr), InvalidArgumentError);
  EXPECT_THROW(MatMul(b.data(), {}, nullptr), InvalidArgumentError);
  EXPECT_THROW(MatMul(b.data(), {4, 0}, nullptr), InvalidArgumentError);
  EXPECT_THROW(MatMul(b.data(), {2, 4, 4}, nullptr), UnsupportedError);

  const MatMul op(b.data(), {4, 8}, nullptr);
  test::ExpectRejectedWithoutWritingOutput(
      op, {{}, {5}, {3, 5}, {2, -3, 4}, {4, 3}});
}

TEST(GemmTest, RejectsBadInput) {
  const std::vector<float> b(64, 1.0f), c(64, 1.0f);
  const GemmAttributes plain;
  EXPECT_THROW(Gemm(nullptr, {4, 4}, nullptr, {}, plain), InvalidArgumentError);
  EXPECT_THROW(Gemm(b.data(), {16}, nullptr, {}, plain), InvalidArgumentError);
  EXPECT_THROW(Gemm(b.data(), {4, 0}, nullptr, {}, plain),
               InvalidArgumentError);
  // C must broadcast to N = 8 columns.
  EXPECT_THROW(Gemm(b.data(), {4, 8}, c.data(), {5}, plain),
               InvalidArgumentError);
  EXPECT_THROW(Gemm(b.data(), {4, 8}, c.data(), {1, 2}, plain),
               InvalidArgumentError);
  EXPECT_THROW(Gemm(b.data(), {4, 8}, c.data(), {1, 1, 8}, plain),
               InvalidArgumentError);
  // A C with one row per M ties the op to one M.
  EXPECT_THROW(Gemm(b.data(), {4, 8}, c.data(), {3, 8}, plain),
               UnsupportedError);
  EXPECT_THROW(Gemm(b.data(), {4, 8}, c.data(), {3, 1}, plain),
               UnsupportedError);

  GemmAttributes trans;
  trans.trans_a = true;
  trans.trans_b = true;
  const Gemm op(b.data(), {8, 4}, nullptr, {}, trans);  // K = 4, N = 8
  EXPECT_EQ(op.OutputDims({4, 3}), (std::vector<int64_t>{3, 8}));
  test::ExpectRejectedWithoutWritingOutput(op,
                                           {{4}, {3, 4}, {1, 4, 3}, {-4, 3}});
}

}  // namespace
}  // namespace foldrt::ops
