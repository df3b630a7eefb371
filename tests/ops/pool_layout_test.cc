// ops::Pool in the layouts it takes (nchw, nhwc, nChw8c, nChw16c): every
// kind against the reference with the padding channels zeroed, which
// layouts it accepts, and that x is never written.
#include <gtest/gtest.h>

#include "ops/pool.h"

#if defined(__linux__)
#include <sys/mman.h>
#include <unistd.h>
#endif

#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>
#include <sstream>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "core/error.h"
#include "core/tensor.h"
#include "ops/layout.h"
#include "tests/ops/ops_test_util.h"
#include "tests/ops/pool_test_util.h"

namespace foldrt::ops {
namespace {

using test::Attrs;
using test::Count;
using test::Expected;
using test::ExpectRunInLayoutMatches;
using test::PoolCase;
using test::Random;
using test::Reference;
using test::ToLayout;
using test::Window;

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
  std::vector<PoolCase> pools = WindowCases(windows);
  for (PoolKind kind : {PoolKind::kGlobalAverage, PoolKind::kGlobalMax}) {
    PoolAttributes a;
    a.kind = kind;
    pools.push_back(
        {std::string(PoolKindName(kind)) + "_7x5", {1, 0, 7, 5}, a});
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
}  // namespace
}  // namespace foldrt::ops
