// LayoutReorder against ops/layout.h's ElementOffset, for every pair of
// layouts, channel counts with and without padding in the last block, rank
// 3 to 5, and the padding of blocked outputs (zero even when the buffer
// held garbage). Also ZeroChannelPadding and Conv's layout-aware Run.
#include "ops/layout_reorder.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "core/error.h"
#include "ops/conv.h"
#include "ops/layout.h"

namespace foldrt::ops {
namespace {

constexpr Layout kLayouts[] = {Layout::kNchw, Layout::kNhwc, Layout::kNChw8c,
                               Layout::kNChw16c};

// The logical tensor value at (n, c, s): distinct for every element.
float Value(size_t n, size_t c, size_t s) {
  return static_cast<float>(n * 100000 + c * 1000 + s) * 0.5f + 0.25f;
}

// A buffer of `shape` in `layout` holding Value() (padding: `padding`).
std::vector<float> Fill(const ChannelShape& shape, Layout layout,
                        float padding) {
  std::vector<float> buffer(BufferElements(shape, layout), padding);
  for (size_t n = 0; n < shape.batch; ++n) {
    for (size_t c = 0; c < shape.channels; ++c) {
      for (size_t s = 0; s < shape.spatial; ++s) {
        buffer[ElementOffset(shape, layout, n, c, s)] = Value(n, c, s);
      }
    }
  }
  return buffer;
}

// Every logical element in place, and every padding float exactly 0.
void ExpectHolds(const std::vector<float>& buffer, const ChannelShape& shape,
                 Layout layout) {
  std::vector<bool> logical(buffer.size(), false);
  for (size_t n = 0; n < shape.batch; ++n) {
    for (size_t c = 0; c < shape.channels; ++c) {
      for (size_t s = 0; s < shape.spatial; ++s) {
        const size_t at = ElementOffset(shape, layout, n, c, s);
        logical[at] = true;
        ASSERT_EQ(buffer[at], Value(n, c, s)) << n << "," << c << "," << s;
      }
    }
  }
  for (size_t i = 0; i < buffer.size(); ++i) {
    if (!logical[i]) {
      ASSERT_EQ(buffer[i], 0.0f) << "padding float " << i;
    }
  }
}

TEST(LayoutReorderTest, EveryPairOfLayouts) {
  const std::vector<std::vector<int64_t>> shapes = {
      {2, 3, 5},    {1, 16, 4, 4},    {2, 17, 3, 5}, {3, 24, 2, 3},
      {1, 8, 1, 1}, {2, 20, 2, 2, 3}, {1, 64, 7, 7}};
  for (const std::vector<int64_t>& dims : shapes) {
    const ChannelShape shape = SplitChannelShape(dims);
    for (Layout from : kLayouts) {
      for (Layout to : kLayouts) {
        SCOPED_TRACE(std::to_string(dims.size()) +
                     "-d C=" + std::to_string(shape.channels) + " " +
                     LayoutName(from) + " -> " + LayoutName(to));
        // Padding of the source is zero (the invariant); the destination
        // starts as garbage, which the reorder must overwrite.
        const std::vector<float> x = Fill(shape, from, 0.0f);
        std::vector<float> y(BufferElements(shape, to),
                             std::numeric_limits<float>::quiet_NaN());
        for (int threads : {1, 2}) {
          LayoutReorder(dims, from, to).Run(x.data(), y.data(), threads);
          ExpectHolds(y, shape, to);
        }
      }
    }
  }
}

TEST(LayoutReorderTest, ZeroBatchWritesNothingAndBadRanksThrow) {
  LayoutReorder empty({0, 16, 4, 4}, Layout::kNchw, Layout::kNChw16c);
  empty.Run(nullptr, nullptr, 1);
  EXPECT_THROW(LayoutReorder({2, 16}, Layout::kNchw, Layout::kNChw16c),
               InvalidArgumentError);
  EXPECT_THROW(LayoutReorder({1, 2, 2, 2, 2, 2}, Layout::kNhwc, Layout::kNchw),
               InvalidArgumentError);
  EXPECT_THROW(LayoutReorder({1}, Layout::kNchw, Layout::kNchw),
               InvalidArgumentError);
}

TEST(LayoutTest, ZeroChannelPaddingTouchesOnlyThePadding) {
  for (Layout layout : {Layout::kNChw8c, Layout::kNChw16c}) {
    for (size_t channels : {3u, 8u, 17u, 24u}) {
      const ChannelShape shape{2, channels, 5};
      std::vector<float> buffer = Fill(shape, layout, 7.0f);
      ZeroChannelPadding(buffer.data(), shape, layout);
      ExpectHolds(buffer, shape, layout);
    }
  }
  // Plain layouts have no padding: nothing changes.
  const ChannelShape shape{1, 3, 4};
  std::vector<float> buffer = Fill(shape, Layout::kNhwc, 7.0f);
  const std::vector<float> before = buffer;
  ZeroChannelPadding(buffer.data(), shape, Layout::kNhwc);
  EXPECT_EQ(buffer, before);
}

// Conv::Run with explicit layouts computes what the plain Run computes,
// for every src/dst pair, with channel counts that leave padding.
TEST(ConvLayoutsTest, EveryLayoutPairMatchesThePlainRun) {
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  struct Case {
    std::vector<int64_t> x_dims, w_dims;
    int64_t groups;
  };
  const Case cases[] = {{{2, 20, 6, 5}, {24, 20, 3, 3}, 1},
                        {{1, 3, 7, 7}, {17, 3, 3, 3}, 1},
                        {{2, 24, 5, 5}, {24, 1, 3, 3}, 24},
                        {{1, 16, 9}, {8, 16, 3}, 1}};
  for (const Case& c : cases) {
    size_t w_count = 1;
    for (int64_t d : c.w_dims) w_count *= static_cast<size_t>(d);
    std::vector<float> w(w_count);
    for (float& v : w) v = u(rng);
    std::vector<float> bias(static_cast<size_t>(c.w_dims[0]));
    for (float& v : bias) v = u(rng);
    ConvAttributes attrs;
    attrs.pads_begin.assign(c.x_dims.size() - 2, 1);
    attrs.pads_end.assign(c.x_dims.size() - 2, 1);
    attrs.groups = c.groups;
    const Conv conv(w.data(), c.w_dims, bias.data(), attrs, Activation::Relu());
    const std::vector<int64_t> y_dims = conv.OutputDims(c.x_dims);
    const ChannelShape xs = SplitChannelShape(c.x_dims);
    const ChannelShape ys = SplitChannelShape(y_dims);
    std::vector<float> x_plain(BufferElements(xs, Layout::kNchw));
    for (float& v : x_plain) v = u(rng);
    std::vector<float> want(BufferElements(ys, Layout::kNchw));
    conv.Run(x_plain.data(), c.x_dims, want.data(), 1);
    for (Layout src : kLayouts) {
      for (Layout dst : kLayouts) {
        SCOPED_TRACE(std::string(LayoutName(src)) + " -> " + LayoutName(dst) +
                     ", x " + std::to_string(c.x_dims[1]) + " channels");
        std::vector<float> x(BufferElements(xs, src), 0.0f);
        LayoutReorder(c.x_dims, Layout::kNchw, src)
            .Run(x_plain.data(), x.data(), 1);
        std::vector<float> y(BufferElements(ys, dst),
                             std::numeric_limits<float>::quiet_NaN());
        conv.Run(x.data(), c.x_dims, src, y.data(), dst, 2);
        std::vector<float> got(want.size());
        LayoutReorder(y_dims, dst, Layout::kNchw).Run(y.data(), got.data(), 1);
        for (size_t i = 0; i < want.size(); ++i) {
          ASSERT_NEAR(got[i], want[i], 1e-5f * (1.0f + std::fabs(want[i])))
              << "element " << i;
        }
        // The padding of a blocked y is zero.
        const size_t block = ChannelBlock(dst);
        const size_t tail = ys.channels % block;
        if (block > 1 && tail != 0) {
          for (size_t n = 0; n < ys.batch; ++n) {
            for (size_t s = 0; s < ys.spatial; ++s) {
              const size_t last = ElementOffset(ys, dst, n, ys.channels - 1, s);
              for (size_t j = 1; j < block - tail + 1; ++j) {
                ASSERT_EQ(y[last + j], 0.0f);
              }
            }
          }
        }
      }
    }
    // The layouts oneDNN prefers are ones foldrt names.
    const Conv::Layouts preferred = conv.PreferredLayouts(c.x_dims);
    EXPECT_NE(std::string(LayoutName(preferred.src)), "?");
    EXPECT_NE(std::string(LayoutName(preferred.dst)), "?");
  }
}

}  // namespace
}  // namespace foldrt::ops
