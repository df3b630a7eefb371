#include "ops/pool.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <random>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "core/error.h"
#include "core/tensor.h"
#include "hwy/highway.h"
#include "hwy/tests/hwy_gtest.h"
#include "ops/layout.h"
#include "tests/ops/ops_test_util.h"
#include "tests/ops/pool_test_util.h"

namespace foldrt::ops {
namespace {

using test::Attrs;
using test::Count;
using test::CountMismatches;
using test::Expected;
using test::ExpectRunInLayoutMatches;
using test::PoolCase;
using test::Random;
using test::Reference;
using test::Window;

// The windows MaxPool and both AveragePool modes run over. Sizes chosen so
// that ceil_mode adds a window (growing oneDNN's end pad), drops one that
// would start in the end padding, or changes nothing.
std::vector<PoolCase> Cases() {
  const std::vector<Window> windows = {
      {"1d_k3_s2_p1", {1, 3, 17}, {3}, {2}, {1}, {1}, false},
      {"1d_k3_s2_ceil_overhang", {1, 5, 8}, {3}, {2}, {0}, {0}, true},
      {"2d_k3_s2_asym", {1, 17, 9, 11}, {3, 3}, {2, 2}, {1, 0}, {0, 1}, false},
      {"2d_k2_s2_ceil_adds", {1, 3, 7, 7}, {2, 2}, {2, 2}, {}, {}, true},
      // H: in 4, k 2, s 2, pad end 1: ceil would add a window starting at
      // 4 = in + pad_begin, in the end padding only, so it is dropped.
      {"2d_ceil_drops_window",
       {1, 5, 4, 6},
       {2, 3},
       {2, 2},
       {0, 1},
       {1, 1},
       true},
      {"2d_k3_s2_p1_ceil_overhang",
       {1, 4, 8, 9},
       {3, 3},
       {2, 2},
       {1, 1},
       {1, 1},
       true},
      {"2d_stem_k3_s2_p1",
       {1, 64, 16, 16},
       {3, 3},
       {2, 2},
       {1, 1},
       {1, 1},
       false},
      {"2d_k5_s1_p2", {1, 3, 6, 6}, {5, 5}, {}, {2, 2}, {2, 2}, false},
      {"3d_k232_ceil",
       {1, 3, 5, 6, 7},
       {2, 3, 2},
       {2, 1, 2},
       {1, 1, 0},
       {0, 1, 1},
       true},
      {"3d_k3_s2", {1, 16, 6, 6, 6}, {3, 3, 3}, {2, 2, 2}, {}, {}, false},
      // Rows wide enough for whole vectors of outputs (16 floats on
      // AVX-512) next to the edge outputs computed one by one: begin pad,
      // ceil_mode overhang, counts that are no multiple of the vector.
      {"2d_k3_s2_p1_wide_ceil",
       {1, 3, 7, 75},
       {3, 3},
       {2, 2},
       {1, 1},
       {1, 1},
       true},
      {"2d_k2_s2_wide", {1, 3, 6, 64}, {2, 2}, {2, 2}, {}, {}, false},
      {"2d_k3_s1_p1_wide", {1, 2, 5, 41}, {3, 3}, {}, {1, 1}, {1, 1}, false},
      {"2d_k4_s2_p1_wide_ceil",
       {1, 2, 6, 70},
       {4, 4},
       {2, 2},
       {1, 1},
       {1, 2},
       true},
      {"1d_k1_s1_wide", {1, 2, 37}, {1}, {}, {}, {}, false},
      {"1d_k2_s2_wide_ceil", {1, 3, 99}, {2}, {2}, {}, {}, true},
      // Strides above 2: the phase-split path (LoadInterleaved3 / 4, and
      // a scalar split for 5).
      {"2d_k3_s3_ceil", {1, 3, 8, 50}, {3, 3}, {3, 3}, {}, {}, true},
      {"2d_k2_s4", {1, 2, 9, 67}, {2, 2}, {4, 4}, {}, {}, false},
      {"1d_k5_s5_p2_ceil", {1, 3, 61}, {5}, {5}, {2}, {2}, true},
      // Odd widths at stride 2 where the last vector of outputs ends exactly
      // at the last input column (4, 8 and 16 lanes): it must not read the
      // column after (the buffer's end for the last row; run under ASan).
      {"1d_k3_s2_w11", {1, 2, 11}, {3}, {2}, {}, {}, false},
      {"1d_k3_s2_w17", {1, 2, 17}, {3}, {2}, {}, {}, false},
      {"1d_k3_s2_w33", {1, 2, 33}, {3}, {2}, {}, {}, false},
      {"2d_k3_s2_p1_w32", {1, 2, 3, 32}, {3, 3}, {2, 2}, {1, 1}, {1, 1}, false},
  };
  std::vector<PoolCase> cases = WindowCases(windows);
  // Dilated MaxPool.
  cases.push_back({"max_2d_dil2_p2",
                   {1, 4, 10, 10},
                   Attrs(PoolKind::kMax, {3, 3}, {}, {2, 2}, {2, 2}, {2, 2})});
  cases.push_back(
      {"max_1d_dil3_s2_ceil",
       {1, 3, 20},
       Attrs(PoolKind::kMax, {3}, {2}, {1}, {0}, {3}, /*ceil_mode=*/true)});
  cases.push_back({"max_3d_dil_mixed",
                   {1, 2, 7, 8, 9},
                   Attrs(PoolKind::kMax, {2, 2, 3}, {1, 2, 2}, {1, 0, 1},
                         {0, 1, 1}, {2, 1, 2})});
  // Global pooling, 1 to 4 spatial axes.
  for (PoolKind kind : {PoolKind::kGlobalAverage, PoolKind::kGlobalMax}) {
    const std::string prefix = std::string(PoolKindName(kind)) + "_";
    PoolAttributes a;
    a.kind = kind;
    cases.push_back({prefix + "1d", {1, 5, 13}, a});
    cases.push_back({prefix + "2d_7x7", {1, 17, 7, 7}, a});
    cases.push_back({prefix + "2d_1x1", {1, 3, 1, 1}, a});
    cases.push_back({prefix + "3d", {1, 4, 3, 4, 5}, a});
    cases.push_back({prefix + "4d", {1, 2, 2, 3, 2, 3}, a});
    cases.push_back({prefix + "2d_56x56", {1, 3, 56, 56}, a});
    cases.push_back({prefix + "2d_15x17", {1, 2, 15, 17}, a});
  }
  return cases;
}

class PoolSweep : public ::testing::TestWithParam<PoolCase> {};

TEST_P(PoolSweep, MatchesReference) {
  const PoolCase& pc = GetParam();
  std::mt19937 rng(77);
  const Pool pool(pc.attrs);
  for (int64_t batch : {1, 3}) {
    std::vector<int64_t> x_dims = pc.x_dims;
    x_dims[0] = batch;
    const std::vector<float> x = Random(Count(x_dims), rng);
    const Expected e = Reference(pc.attrs, x, x_dims);
    ASSERT_EQ(Count(pool.OutputDims(x_dims)), e.ref.size());
    for (int threads : {1, 2}) {
      std::vector<float> y(e.ref.size(), NAN);
      pool.Run(x.data(), x_dims, y.data(), threads);
      std::ostringstream what;
      what << pc.name << " batch " << batch << " threads " << threads;
      EXPECT_EQ(CountMismatches(y, e, what.str()), 0) << what.str();
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Configs, PoolSweep, ::testing::ValuesIn(Cases()),
                         [](const auto& info) { return info.param.name; });

// The plain-layout sweep once per Highway target the CPU supports: the NCHW
// paths of 1-D / 2-D windows and of global pooling are Highway kernels with
// dynamic dispatch.
class PoolHwyTargets : public hwy::TestWithParamTarget {};
HWY_TARGET_INSTANTIATE_TEST_SUITE_P(PoolHwyTargets);

TEST_P(PoolHwyTargets, PlainMatchesReference) {
  std::mt19937 rng(78);
  for (const PoolCase& pc : Cases()) {
    const Pool pool(pc.attrs);
    for (int64_t batch : {1, 3}) {
      std::vector<int64_t> x_dims = pc.x_dims;
      x_dims[0] = batch;
      const std::vector<float> x = Random(Count(x_dims), rng);
      ExpectRunInLayoutMatches(pool, x, x_dims, Layout::kNchw, 2,
                               Reference(pc.attrs, x, x_dims),
                               pc.name + " batch " + std::to_string(batch));
    }
  }
}

TEST(PoolTest, CeilModeMatchesPyTorch) {
  std::vector<float> x(8);
  for (size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>(i);
  const std::vector<int64_t> dims8 = {1, 1, 8};
  {
    // avg_pool1d(x, 3, 2, padding=1, ceil_mode=True, count_include_pad=True):
    // (8 + 2 - 3) / 2 rounds up to 4: windows [-1,2) [1,4) [3,6) [5,8)
    // [7,10). The last one counts the pad at 8 but not position 9 (past the
    // padding), so it divides by 2: 7 / 2. oneDNN alone would divide by 3.
    const Pool pool(
        Attrs(PoolKind::kAverage, {3}, {2}, {1}, {1}, {}, true, true));
    ASSERT_EQ(pool.OutputDims(dims8), (std::vector<int64_t>{1, 1, 5}));
    std::vector<float> y(5);
    pool.Run(x.data(), dims8, y.data(), 1);
    const std::vector<float> expected = {1.0f / 3, 2.0f, 4.0f, 6.0f, 3.5f};
    for (int i = 0; i < 5; ++i) EXPECT_FLOAT_EQ(y[i], expected[i]) << i;
  }
  {
    // Same without count_include_pad: the last window averages x[7] alone.
    const Pool pool(
        Attrs(PoolKind::kAverage, {3}, {2}, {1}, {1}, {}, true, false));
    std::vector<float> y(5);
    pool.Run(x.data(), dims8, y.data(), 1);
    const std::vector<float> expected = {0.5f, 2.0f, 4.0f, 6.0f, 7.0f};
    for (int i = 0; i < 5; ++i) EXPECT_FLOAT_EQ(y[i], expected[i]) << i;
  }
  const std::vector<int64_t> dims7 = {1, 1, 7};
  {
    // max_pool1d(x[:7], 2, 2, ceil_mode=True): (7 - 2) / 2 rounds up to 3,
    // so 4 windows [0,2) [2,4) [4,6) [6,8); the last one sees x[6] alone.
    const Pool pool(Attrs(PoolKind::kMax, {2}, {2}, {}, {}, {}, true));
    ASSERT_EQ(pool.OutputDims(dims7), (std::vector<int64_t>{1, 1, 4}));
    std::vector<float> y(4);
    pool.Run(x.data(), dims7, y.data(), 1);
    EXPECT_EQ(y, (std::vector<float>{1, 3, 5, 6}));
  }
  {
    // max_pool1d(x[:7], 2, 2, padding=1, ceil_mode=True): (7 + 2 - 2) / 2
    // rounds up to 4, but a 5th window would start at 4 * 2 - 1 = 7, past
    // the input (in the end padding), and PyTorch drops it: 4 windows
    // [-1,1) [1,3) [3,5) [5,7).
    const Pool pool(Attrs(PoolKind::kMax, {2}, {2}, {1}, {1}, {}, true));
    ASSERT_EQ(pool.OutputDims(dims7), (std::vector<int64_t>{1, 1, 4}));
    std::vector<float> y(4);
    pool.Run(x.data(), dims7, y.data(), 1);
    EXPECT_EQ(y, (std::vector<float>{0, 2, 4, 6}));
  }
}

TEST(PoolTest, ZeroBatch) {
  const Pool pool(Attrs(PoolKind::kMax, {2, 2}, {2, 2}));
  EXPECT_EQ(pool.OutputDims({0, 3, 4, 4}), (std::vector<int64_t>{0, 3, 2, 2}));
  pool.Run(nullptr, {0, 3, 4, 4}, nullptr, 1);
}

TEST(PoolTest, ConcurrentRunsOnOneObject) {
  std::mt19937 rng(8);
  const PoolAttributes attrs =
      Attrs(PoolKind::kAverage, {3, 3}, {2, 2}, {1, 1}, {1, 1}, {}, true, true);
  const Pool pool(attrs);
  std::vector<test::ConcurrentJob> jobs = {{{1, 17, 12, 13}, 2},
                                           {{3, 17, 12, 13}, 1}};
  for (test::ConcurrentJob& job : jobs) {
    job.x = Random(Count(job.x_dims), rng);
    job.e = Reference(attrs, job.x, job.x_dims);
  }
  test::ExpectConcurrentRunsMatch(pool, std::move(jobs), 50);
}

TEST(PoolTest, RejectsBadConstruction) {
  EXPECT_THROW(Pool(Attrs(PoolKind::kMax, {})), InvalidArgumentError);
  EXPECT_THROW(Pool(Attrs(PoolKind::kMax, {2, 2, 2, 2})), InvalidArgumentError);
  EXPECT_THROW(Pool(Attrs(PoolKind::kMax, {0, 2})), InvalidArgumentError);
  EXPECT_THROW(Pool(Attrs(PoolKind::kMax, {2, 2}, {2})),
               InvalidArgumentError);  // strides for one axis
  EXPECT_THROW(Pool(Attrs(PoolKind::kMax, {2, 2}, {0, 1})),
               InvalidArgumentError);
  EXPECT_THROW(Pool(Attrs(PoolKind::kMax, {2, 2}, {}, {-1, 0})),
               InvalidArgumentError);
  // A pad as large as the window would make windows of padding only.
  EXPECT_THROW(Pool(Attrs(PoolKind::kMax, {2, 2}, {}, {2, 0})),
               InvalidArgumentError);
  EXPECT_THROW(Pool(Attrs(PoolKind::kAverage, {2, 2}, {}, {}, {}, {2, 2})),
               UnsupportedError);
}

TEST(PoolTest, RejectsBadInputWithoutWritingOutput) {
  const Pool pool(Attrs(PoolKind::kMax, {3, 3}, {2, 2}));
  const Pool global(Attrs(PoolKind::kGlobalAverage, {}));
  test::ExpectRejectedWithoutWritingOutput(
      pool, {
                {1, 3, 9},        // 1-D input for a 2-D window
                {1, 3, 9, 9, 9},  // 3-D input for a 2-D window
                {1, 3, 2, 9},     // window taller than the input
                {1, 3, -9, 9},    // negative dim
            });
  test::ExpectRejectedWithoutWritingOutput(
      global, {
                  {1, 3},        // no spatial axes
                  {1, 3, 0, 4},  // empty spatial extent
              });
}

}  // namespace
}  // namespace foldrt::ops
