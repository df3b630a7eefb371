#include "ops/pool.h"

#include <gtest/gtest.h>

#include <cfloat>
#include <cmath>
#include <cstdint>
#include <ostream>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "ops/ref/pool_ref.h"
#include "ops/ref/shape_util.h"
#include "runtime/core/error.h"

namespace foldrt::ops {
namespace {

std::vector<float> Random(size_t n, std::mt19937& rng) {
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  std::vector<float> v(n);
  for (float& f : v) f = u(rng);
  return v;
}

std::vector<float> Abs(std::vector<float> v) {
  for (float& f : v) f = std::fabs(f);
  return v;
}

size_t Count(const std::vector<int64_t>& dims) {
  return static_cast<size_t>(ref::ShapeElementCount(dims));
}

const char* Name(PoolKind kind) {
  switch (kind) {
    case PoolKind::kMax:
      return "max";
    case PoolKind::kAverage:
      return "avg";
    case PoolKind::kGlobalAverage:
      return "global_avg";
    case PoolKind::kGlobalMax:
      return "global_max";
  }
  return "?";
}

PoolAttributes Attrs(PoolKind kind, std::vector<int64_t> kernel,
                     std::vector<int64_t> strides = {},
                     std::vector<int64_t> pads_begin = {},
                     std::vector<int64_t> pads_end = {},
                     std::vector<int64_t> dilations = {},
                     bool ceil_mode = false, bool count_include_pad = false) {
  PoolAttributes a;
  a.kind = kind;
  a.kernel = std::move(kernel);
  a.strides = std::move(strides);
  a.pads_begin = std::move(pads_begin);
  a.pads_end = std::move(pads_end);
  a.dilations = std::move(dilations);
  a.ceil_mode = ceil_mode;
  a.count_include_pad = count_include_pad;
  return a;
}

ref::PoolParams ToParams(const PoolAttributes& a) {
  ref::PoolParams p = ref::DefaultPoolParams(a.kernel);
  if (!a.strides.empty()) p.strides = a.strides;
  if (!a.dilations.empty()) p.dilations = a.dilations;
  if (!a.pads_begin.empty()) p.pads_begin = a.pads_begin;
  if (!a.pads_end.empty()) p.pads_end = a.pads_end;
  p.ceil_mode = a.ceil_mode;
  p.count_include_pad = a.count_include_pad;
  return p;
}

// Expected output and its bound.
//
// A max is exact (one of the inputs): atol = 0, rtol = 0. An average of a
// window of W inputs sums them in float in some order and divides (or
// multiplies by a rounded reciprocal), and under ceil_mode with
// count_include_pad foldrt rescales edge outputs once more: at most
// gamma_{W+2} * sum|x| / divisor of error. So
//   |got - ref| <= atol + rtol * |ref|,  atol = (W + 3) * FLT_EPSILON * m,
// m = mean of |x| over the window with the op's divisor (the reference on
// |x|), rtol = FLT_EPSILON for the reference's own rounding.
struct Expected {
  std::vector<float> ref;
  std::vector<float> atol;
};

Expected Reference(const PoolAttributes& attrs, const std::vector<float>& x,
                   const std::vector<int64_t>& x_dims) {
  Expected e;
  int64_t window = 1;
  switch (attrs.kind) {
    case PoolKind::kMax:
      e.ref.resize(Count(ref::PoolOutputShape(x_dims, ToParams(attrs))));
      ref::MaxPoolRef(x.data(), x_dims, ToParams(attrs), e.ref.data());
      e.atol.assign(e.ref.size(), 0.0f);
      return e;
    case PoolKind::kGlobalMax: {
      // A 1-D max window over the flattened (N, C, S) input: the reference
      // takes 1 to 3 spatial axes, global pooling any number.
      const int64_t spatial =
          static_cast<int64_t>(Count(x_dims) / x_dims[0] / x_dims[1]);
      e.ref.resize(Count(ref::GlobalPoolOutputShape(x_dims)));
      ref::MaxPoolRef(x.data(), {x_dims[0], x_dims[1], spatial},
                      ref::DefaultPoolParams({spatial}), e.ref.data());
      e.atol.assign(e.ref.size(), 0.0f);
      return e;
    }
    case PoolKind::kAverage:
      e.ref.resize(Count(ref::PoolOutputShape(x_dims, ToParams(attrs))));
      ref::AveragePoolRef(x.data(), x_dims, ToParams(attrs), e.ref.data());
      e.atol.resize(e.ref.size());
      ref::AveragePoolRef(Abs(x).data(), x_dims, ToParams(attrs),
                          e.atol.data());
      for (int64_t k : attrs.kernel) window *= k;
      break;
    case PoolKind::kGlobalAverage:
      e.ref.resize(Count(ref::GlobalPoolOutputShape(x_dims)));
      ref::GlobalAveragePoolRef(x.data(), x_dims, e.ref.data());
      e.atol.resize(e.ref.size());
      ref::GlobalAveragePoolRef(Abs(x).data(), x_dims, e.atol.data());
      window = static_cast<int64_t>(Count(x_dims) / x_dims[0] / x_dims[1]);
      break;
  }
  for (float& m : e.atol) m *= (window + 3) * FLT_EPSILON;
  return e;
}

int CountMismatches(const std::vector<float>& got, const Expected& e,
                    const std::string& what) {
  int bad = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    const float tol = e.atol[i] + FLT_EPSILON * std::fabs(e.ref[i]);
    if (!(std::fabs(got[i] - e.ref[i]) <= tol)) {
      if (++bad <= 5) {
        ADD_FAILURE() << what << ": y[" << i << "] = " << got[i]
                      << ", expected " << e.ref[i] << " +- " << tol;
      }
    }
  }
  return bad;
}

struct PoolCase {
  std::string name;
  std::vector<int64_t> x_dims;  // batch overwritten per run
  PoolAttributes attrs;
};

void PrintTo(const PoolCase& c, std::ostream* os) { *os << c.name; }

// The windows MaxPool and both AveragePool modes run over. Sizes chosen so
// that ceil_mode adds a window (growing oneDNN's end pad), drops one that
// would start in the end padding, or changes nothing.
struct Window {
  std::string name;
  std::vector<int64_t> x_dims, kernel, strides, pads_begin, pads_end;
  bool ceil_mode;
};

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
  };
  std::vector<PoolCase> cases;
  for (const Window& w : windows) {
    cases.push_back({"max_" + w.name, w.x_dims,
                     Attrs(PoolKind::kMax, w.kernel, w.strides, w.pads_begin,
                           w.pads_end, {}, w.ceil_mode)});
    for (bool include_pad : {false, true}) {
      cases.push_back(
          {(include_pad ? "avg_incl_" : "avg_excl_") + w.name, w.x_dims,
           Attrs(PoolKind::kAverage, w.kernel, w.strides, w.pads_begin,
                 w.pads_end, {}, w.ceil_mode, include_pad)});
    }
  }
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
    const std::string prefix = std::string(Name(kind)) + "_";
    PoolAttributes a;
    a.kind = kind;
    cases.push_back({prefix + "1d", {1, 5, 13}, a});
    cases.push_back({prefix + "2d_7x7", {1, 17, 7, 7}, a});
    cases.push_back({prefix + "2d_1x1", {1, 3, 1, 1}, a});
    cases.push_back({prefix + "3d", {1, 4, 3, 4, 5}, a});
    cases.push_back({prefix + "4d", {1, 2, 2, 3, 2, 3}, a});
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

// The ceil_mode corner cases pinned to numbers worked out by hand with
// PyTorch's rules (torch.nn.functional.avg_pool1d / max_pool1d on
// x = 0, 1, ..., in - 1), independent of the reference implementation.
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
  struct Job {
    std::vector<int64_t> x_dims;
    int threads;
    std::vector<float> x;
    Expected e;
    int mismatches = 0;
  };
  std::vector<Job> jobs = {{{1, 17, 12, 13}, 2, {}, {}, 0},
                           {{3, 17, 12, 13}, 1, {}, {}, 0}};
  for (Job& job : jobs) {
    job.x = Random(Count(job.x_dims), rng);
    job.e = Reference(attrs, job.x, job.x_dims);
  }
  std::vector<std::thread> threads;
  for (Job& job : jobs) {
    threads.emplace_back([&pool, &job] {
      for (int iter = 0; iter < 50; ++iter) {
        std::vector<float> y(job.e.ref.size(), NAN);
        pool.Run(job.x.data(), job.x_dims, y.data(), job.threads);
        job.mismatches += CountMismatches(y, job.e, "concurrent");
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(jobs[0].mismatches, 0);
  EXPECT_EQ(jobs[1].mismatches, 0);
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
  const std::vector<float> x(1000, 1.0f);
  const std::vector<std::pair<const Pool*, std::vector<int64_t>>> bad = {
      {&pool, {1, 3, 9}},        // 1-D input for a 2-D window
      {&pool, {1, 3, 9, 9, 9}},  // 3-D input for a 2-D window
      {&pool, {1, 3, 2, 9}},     // window taller than the input
      {&pool, {1, 3, -9, 9}},    // negative dim
      {&global, {1, 3}},         // no spatial axes
      {&global, {1, 3, 0, 4}},   // empty spatial extent
  };
  for (const auto& [op, dims] : bad) {
    EXPECT_THROW(op->OutputDims(dims), InvalidArgumentError)
        << ref::ShapeToString(dims);
    std::vector<float> y(100, 42.0f);
    EXPECT_THROW(op->Run(x.data(), dims, y.data(), 1), InvalidArgumentError)
        << ref::ShapeToString(dims);
    EXPECT_EQ(y, std::vector<float>(100, 42.0f));
  }
}

}  // namespace
}  // namespace foldrt::ops
