#include "ops/pool.h"

#include <gtest/gtest.h>

#if defined(__linux__)
#include <sys/mman.h>
#include <unistd.h>
#endif

#include <cfloat>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <ostream>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <tuple>
#include <utility>
#include <vector>

#include "core/error.h"
#include "core/tensor.h"
#include "hwy/highway.h"
#include "hwy/tests/hwy_gtest.h"
#include "ops/layout.h"
#include "ops/ref/pool_ref.h"
#include "ops/ref/shape_util.h"
#include "tests/ops/ops_test_util.h"

namespace foldrt::ops {
namespace {

using test::Abs;
using test::Count;
using test::CountMismatches;
using test::Expected;
using test::Random;

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

// A logical NCHW tensor in `layout`; channels past C (blocked padding) hold
// `pad`.
std::vector<float> ToLayout(const std::vector<float>& plain,
                            const std::vector<int64_t>& dims, Layout layout,
                            float pad) {
  const ChannelShape shape = SplitChannelShape(dims);
  std::vector<float> out(BufferElements(shape, layout), pad);
  for (size_t n = 0; n < shape.batch; ++n) {
    for (size_t c = 0; c < shape.channels; ++c) {
      for (size_t i = 0; i < shape.spatial; ++i) {
        out[ElementOffset(shape, layout, n, c, i)] =
            plain[(n * shape.channels + c) * shape.spatial + i];
      }
    }
  }
  return out;
}

// The logical NCHW tensor of a buffer in `layout`, and (via *padding) the
// values of its padding channels.
std::vector<float> FromLayout(const std::vector<float>& buffer,
                              const std::vector<int64_t>& dims, Layout layout,
                              std::vector<float>* padding) {
  const ChannelShape shape = SplitChannelShape(dims);
  const size_t block = ChannelBlock(layout);
  const size_t padded = (shape.channels + block - 1) / block * block;
  std::vector<float> plain(shape.batch * shape.channels * shape.spatial);
  padding->clear();
  for (size_t n = 0; n < shape.batch; ++n) {
    for (size_t c = 0; c < padded; ++c) {
      for (size_t i = 0; i < shape.spatial; ++i) {
        const float v = buffer[ElementOffset(shape, layout, n, c, i)];
        if (c < shape.channels) {
          plain[(n * shape.channels + c) * shape.spatial + i] = v;
        } else {
          padding->push_back(v);
        }
      }
    }
  }
  return plain;
}

// Runs `pool` on x (logical NCHW) handed over in `layout`, into a buffer of
// NaNs so that every float must be written: each output within the bound of
// `e`, and the output's padding channels zero.
void ExpectRunInLayoutMatches(const Pool& pool, const std::vector<float>& x,
                              const std::vector<int64_t>& x_dims, Layout layout,
                              int threads, const Expected& e,
                              const std::string& what) {
  const std::vector<int64_t> y_dims = pool.OutputDims(x_dims);
  const std::vector<float> xb = ToLayout(x, x_dims, layout, 0.0f);
  std::vector<float> yb(BufferElements(SplitChannelShape(y_dims), layout), NAN);
  pool.Run(xb.data(), x_dims, layout, yb.data(), threads);
  std::vector<float> padding;
  const std::vector<float> y = FromLayout(yb, y_dims, layout, &padding);
  EXPECT_EQ(CountMismatches(y, e, what), 0) << what;
  int bad_padding = 0;
  for (float v : padding) bad_padding += v != 0.0f;
  EXPECT_EQ(bad_padding, 0) << what << ": padding channels not zero";
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

struct LayoutCase {
  PoolCase pool;
  Layout layout;
};

void PrintTo(const LayoutCase& c, std::ostream* os) {
  *os << c.pool.name << "_" << LayoutName(c.layout);
}

// Every kind on rank-4 inputs in every layout Run takes for them.
std::vector<LayoutCase> LayoutCases() {
  const std::vector<Window> windows = {
      {"k3_s2_p1", {1, 0, 9, 11}, {3, 3}, {2, 2}, {1, 1}, {1, 1}, false},
      {"k2_s2_ceil_adds", {1, 0, 7, 7}, {2, 2}, {2, 2}, {}, {}, true},
      {"k3_s2_p1_ceil_overhang",
       {1, 0, 8, 9},
       {3, 3},
       {2, 2},
       {1, 1},
       {1, 1},
       true},
      {"ceil_drops_window", {1, 0, 4, 6}, {2, 3}, {2, 2}, {0, 1}, {1, 1}, true},
      {"k3_s1_p1", {1, 0, 5, 6}, {3, 3}, {}, {1, 1}, {1, 1}, false},
  };
  std::vector<PoolCase> pools;
  for (const Window& w : windows) {
    pools.push_back({"max_" + w.name, w.x_dims,
                     Attrs(PoolKind::kMax, w.kernel, w.strides, w.pads_begin,
                           w.pads_end, {}, w.ceil_mode)});
    for (bool include_pad : {false, true}) {
      pools.push_back(
          {(include_pad ? "avg_incl_" : "avg_excl_") + w.name, w.x_dims,
           Attrs(PoolKind::kAverage, w.kernel, w.strides, w.pads_begin,
                 w.pads_end, {}, w.ceil_mode, include_pad)});
    }
  }
  for (PoolKind kind : {PoolKind::kGlobalAverage, PoolKind::kGlobalMax}) {
    PoolAttributes a;
    a.kind = kind;
    pools.push_back({std::string(Name(kind)) + "_7x5", {1, 0, 7, 5}, a});
  }
  std::vector<LayoutCase> cases;
  for (const PoolCase& pc : pools) {
    for (Layout layout :
         {Layout::kNchw, Layout::kNhwc, Layout::kNChw8c, Layout::kNChw16c}) {
      cases.push_back({pc, layout});
    }
  }
  return cases;
}

class PoolLayoutSweep : public ::testing::TestWithParam<LayoutCase> {};

TEST_P(PoolLayoutSweep, MatchesReferenceAndZeroesPadding) {
  const LayoutCase& lc = GetParam();
  const PoolCase& pc = lc.pool;
  std::mt19937 rng(79);
  const Pool pool(pc.attrs);
  ASSERT_TRUE(pool.SupportsLayout(lc.layout, 4));
  // Channel counts off and on the 8 / 16 blocks; 130 spans three of the
  // 64-channel chunks of the channels-last global path.
  for (int64_t channels : {3, 17, 24, 40, 16, 64, 130}) {
    for (int64_t batch : {1, 3}) {
      std::vector<int64_t> x_dims = pc.x_dims;
      x_dims[0] = batch;
      x_dims[1] = channels;
      const std::vector<float> x = Random(Count(x_dims), rng);
      const Expected e = Reference(pc.attrs, x, x_dims);
      for (int threads : {1, 2}) {
        std::ostringstream what;
        what << pc.name << " " << LayoutName(lc.layout) << " "
             << ShapeToString(x_dims) << " threads " << threads;
        ExpectRunInLayoutMatches(pool, x, x_dims, lc.layout, threads, e,
                                 what.str());
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Layouts, PoolLayoutSweep,
                         ::testing::ValuesIn(LayoutCases()),
                         [](const auto& info) {
                           return info.param.pool.name + "_" +
                                  LayoutName(info.param.layout);
                         });

TEST(PoolTest, SupportsLayout) {
  const Pool max1d(Attrs(PoolKind::kMax, {2}));
  const Pool max2d(Attrs(PoolKind::kMax, {2, 2}));
  const Pool avg3d(Attrs(PoolKind::kAverage, {2, 2, 2}));
  const Pool global(Attrs(PoolKind::kGlobalAverage, {}));
  for (const Pool* pool : {&max1d, &max2d, &avg3d, &global}) {
    for (size_t rank : {3, 4, 5}) {
      EXPECT_TRUE(pool->SupportsLayout(Layout::kNchw, rank));
      EXPECT_EQ(pool->SupportsLayout(Layout::kNChw8c, rank), rank == 4);
      EXPECT_EQ(pool->SupportsLayout(Layout::kNChw16c, rank), rank == 4);
      EXPECT_EQ(pool->SupportsLayout(Layout::kNhwc, rank), rank == 4);
    }
  }
}

TEST(PoolTest, RejectsUnsupportedLayoutWithoutWritingOutput) {
  const Pool max1d(Attrs(PoolKind::kMax, {2}));
  const Pool avg3d(Attrs(PoolKind::kAverage, {2, 2, 2}));
  const Pool max2d(Attrs(PoolKind::kMax, {2, 2}));
  const Pool global(Attrs(PoolKind::kGlobalMax, {}));
  const std::vector<float> x(4096, 1.0f);
  const std::vector<std::tuple<const Pool*, std::vector<int64_t>, Layout>> bad =
      {
          {&max1d, {1, 16, 8}, Layout::kNChw16c},
          {&max1d, {1, 8, 8}, Layout::kNChw8c},
          {&avg3d, {1, 16, 4, 4, 4}, Layout::kNChw16c},
          {&avg3d, {1, 8, 4, 4, 4}, Layout::kNChw8c},
          {&global, {1, 16, 8}, Layout::kNChw16c},
          {&global, {1, 8, 2, 2, 2}, Layout::kNChw8c},
          {&max1d, {1, 16, 8}, Layout::kNhwc},
          {&avg3d, {1, 8, 4, 4, 4}, Layout::kNhwc},
      };
  for (const auto& [pool, dims, layout] : bad) {
    EXPECT_FALSE(pool->SupportsLayout(layout, dims.size()));
    std::vector<float> y(100, 42.0f);
    EXPECT_THROW(pool->Run(x.data(), dims, layout, y.data(), 1),
                 InvalidArgumentError)
        << ShapeToString(dims) << " " << LayoutName(layout);
    EXPECT_EQ(y, std::vector<float>(100, 42.0f));
  }
  // A blocked layout does not lift a window/rank mismatch.
  std::vector<float> y(100, 42.0f);
  EXPECT_THROW(
      max1d.Run(x.data(), {1, 16, 4, 4}, Layout::kNChw16c, y.data(), 1),
      InvalidArgumentError);
  EXPECT_EQ(y, std::vector<float>(100, 42.0f));
}

#if defined(__linux__)
// x is const: no path may write it, not even zeros into a blocked layout's
// padding channels (some oneDNN versions zero-fill the padded area of a
// memory whenever its handle is set). x lives in read-only pages here, so a
// write would crash the test.
TEST(PoolTest, NeverWritesInput) {
  std::mt19937 rng(81);
  const std::vector<int64_t> x_dims = {2, 17, 9, 10};
  const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  for (Layout layout : {Layout::kNchw, Layout::kNChw8c, Layout::kNChw16c}) {
    const std::vector<float> xb =
        ToLayout(Random(Count(x_dims), rng), x_dims, layout, 0.0f);
    const size_t bytes = (xb.size() * sizeof(float) + page - 1) / page * page;
    void* mem = mmap(nullptr, bytes, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    ASSERT_NE(mem, MAP_FAILED);
    std::memcpy(mem, xb.data(), xb.size() * sizeof(float));
    ASSERT_EQ(mprotect(mem, bytes, PROT_READ), 0);
    const float* x = static_cast<const float*>(mem);
    for (const PoolAttributes& attrs :
         {Attrs(PoolKind::kMax, {3, 3}, {2, 2}, {1, 1}, {1, 1}),
          Attrs(PoolKind::kAverage, {2, 2}, {2, 2}, {}, {}, {}, true, true),
          Attrs(PoolKind::kGlobalAverage, {})}) {
      const Pool pool(attrs);
      const std::vector<int64_t> y_dims = pool.OutputDims(x_dims);
      std::vector<float> y(BufferElements(SplitChannelShape(y_dims), layout));
      pool.Run(x, x_dims, layout, y.data(), 2);
    }
    munmap(mem, bytes);
  }
}
#endif

// The shapes the benchmarks time (VGG-11's first MaxPool, ResNet-50's stem
// MaxPool), where whole vectors of outputs dominate, in every layout.
TEST(PoolTest, ModelShapesMatchReference) {
  std::mt19937 rng(80);
  const std::vector<std::pair<std::vector<int64_t>, PoolAttributes>> shapes = {
      {{1, 64, 224, 224}, Attrs(PoolKind::kMax, {2, 2}, {2, 2})},
      {{1, 64, 112, 112},
       Attrs(PoolKind::kMax, {3, 3}, {2, 2}, {1, 1}, {1, 1})},
      {{1, 72, 56, 56}, Attrs(PoolKind::kAverage, {2, 2}, {2, 2})},
  };
  for (const auto& [x_dims, attrs] : shapes) {
    const Pool pool(attrs);
    const std::vector<float> x = Random(Count(x_dims), rng);
    const Expected e = Reference(attrs, x, x_dims);
    for (Layout layout : {Layout::kNchw, Layout::kNChw8c, Layout::kNChw16c}) {
      ExpectRunInLayoutMatches(
          pool, x, x_dims, layout, 2, e,
          ShapeToString(x_dims) + " " + LayoutName(layout));
    }
  }
}

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
