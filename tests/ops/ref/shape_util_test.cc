// The sliding-window geometry shared by Conv, ConvTranspose and pooling.
#include "ops/ref/shape_util.h"

#include <gtest/gtest.h>

#include <limits>
#include <vector>

#include "core/error.h"
#include "core/tensor.h"

namespace foldrt::ops::ref {
namespace {

TEST(ShapeUtilTest, SamePaddingGivesCeilOfInputOverStride) {
  for (int64_t in = 1; in <= 9; ++in) {
    for (int64_t stride = 1; stride <= 3; ++stride) {
      for (int64_t kernel = 1; kernel <= 4; ++kernel) {
        for (AutoPad mode : {AutoPad::kSameUpper, AutoPad::kSameLower}) {
          std::vector<int64_t> begin;
          std::vector<int64_t> end;
          ResolveAutoPad(mode, {in}, {kernel}, {stride}, {1}, &begin, &end);
          const int64_t out =
              SlidingOutputSize(in, kernel, stride, 1, begin[0], end[0], false);
          EXPECT_EQ(out, (in + stride - 1) / stride)
              << "in " << in << " stride " << stride << " kernel " << kernel;
          EXPECT_LE(begin[0] - end[0], 1);
          EXPECT_GE(begin[0] - end[0], -1);
        }
      }
    }
  }
}

// (pad begin, pad end) that ResolveAutoPad leaves for one axis whose pads
// were `begin` and `end` before.
std::vector<int64_t> ResolvedPads(AutoPad mode, int64_t in, int64_t kernel,
                                  int64_t stride, int64_t dilation,
                                  int64_t begin = 7, int64_t end = 7) {
  std::vector<int64_t> pads_begin = {begin};
  std::vector<int64_t> pads_end = {end};
  ResolveAutoPad(mode, {in}, {kernel}, {stride}, {dilation}, &pads_begin,
                 &pads_end);
  EXPECT_EQ(pads_begin.size(), 1u);
  EXPECT_EQ(pads_end.size(), 1u);
  return {pads_begin[0], pads_end[0]};
}

TEST(ShapeUtilTest, OddSamePaddingGoesToTheEndForUpper) {
  using Pads = std::vector<int64_t>;
  // in 6, kernel 3, stride 2: out 3 needs 1 row of padding in total.
  EXPECT_EQ(ResolvedPads(AutoPad::kSameUpper, 6, 3, 2, 1), (Pads{0, 1}));
  EXPECT_EQ(ResolvedPads(AutoPad::kSameLower, 6, 3, 2, 1), (Pads{1, 0}));
  // Dilation widens the window: kernel 3 dilated by 2 spans 5.
  EXPECT_EQ(ResolvedPads(AutoPad::kSameUpper, 5, 3, 1, 2), (Pads{2, 2}));
  EXPECT_EQ(ResolvedPads(AutoPad::kValid, 5, 3, 1, 2), (Pads{0, 0}));
  // NOTSET keeps explicit pads.
  EXPECT_EQ(ResolvedPads(AutoPad::kNotSet, 5, 3, 1, 1, 3, 4), (Pads{3, 4}));
}

TEST(ShapeUtilTest, ParsesAutoPadNames) {
  EXPECT_EQ(ParseAutoPad(""), AutoPad::kNotSet);
  EXPECT_EQ(ParseAutoPad("NOTSET"), AutoPad::kNotSet);
  EXPECT_EQ(ParseAutoPad("VALID"), AutoPad::kValid);
  EXPECT_EQ(ParseAutoPad("SAME_UPPER"), AutoPad::kSameUpper);
  EXPECT_EQ(ParseAutoPad("SAME_LOWER"), AutoPad::kSameLower);
  EXPECT_THROW(ParseAutoPad("same_upper"), InvalidArgumentError);
}

}  // namespace
}  // namespace foldrt::ops::ref

namespace foldrt::ops::ref {
namespace {

// Pads and dilations near INT64_MAX (a hostile model) must not overflow:
// an output size beyond 64 bits is an error, a kernel dilated past the input
// gives an empty output.
TEST(SlidingOutputSizeTest, HugePadsAndDilationsDoNotOverflow) {
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  EXPECT_THROW(SlidingOutputSize(4, 3, 1, 1, kMax / 2, kMax / 2 + 100, false),
               InvalidArgumentError);
  EXPECT_THROW(SlidingOutputSize(4, 3, 1, 1, kMax, kMax, true),
               InvalidArgumentError);
  EXPECT_EQ(SlidingOutputSize(4, 3, 1, kMax, 0, 0, false), 0);
  EXPECT_EQ(SlidingOutputSize(4, 3, 1, 1, 1, 1, false), 4);
}

}  // namespace
}  // namespace foldrt::ops::ref
