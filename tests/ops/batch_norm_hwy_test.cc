// Per-target tests of the Highway BN kernels (ops/batch_norm-inl.h): every
// target this CPU supports runs the same checks against ops/ref, through
// Highway's HWY_EXPORT_AND_TEST_P.

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "tests/ops/batch_norm_hwy_test.cc"
#include <cmath>
#include <limits>
#include <vector>

#include "hwy/cache_control.h"
#include "hwy/foreach_target.h"  // IWYU pragma: keep
#include "hwy/highway.h"
#include "hwy/tests/hwy_gtest.h"
#include "ops/batch_norm-inl.h"
#include "ops/ref/batch_norm_ref.h"
#include "tests/ops/batch_norm_test_util.h"

HWY_BEFORE_NAMESPACE();
namespace foldrt {
namespace ops {
namespace HWY_NAMESPACE {

const Activation kActivations[] = {Activation::None(), Activation::Relu(),
                                   Activation::Clip(-0.5f, 0.75f)};

// Guard floats around the output detect writes outside [y, y + count).
constexpr size_t kGuard = 16;  // a multiple of 16 keeps offset 0 aligned
constexpr float kSentinel = -12345.0f;

struct Buffers {
  std::vector<float> storage;
  float* x;
  float* y;
};

// x and y at `offset` floats from a 64-byte boundary (misaligned for
// offset % lanes != 0), y == x when in place, sentinels around y.
Buffers MakeBuffers(const std::vector<float>& x, size_t offset, bool in_place) {
  Buffers b;
  const size_t n = x.size();
  // Each region (guard, data, guard) is rounded to 16 floats so that y sits
  // at the same offset from a 64-byte boundary as x.
  const size_t region = (n + 2 * kGuard + offset + 15) / 16 * 16;
  b.storage.assign(2 * region + 16, kSentinel);
  const uintptr_t base = reinterpret_cast<uintptr_t>(b.storage.data());
  float* aligned = b.storage.data() + ((64 - base % 64) % 64) / sizeof(float);
  b.x = aligned + kGuard + offset;
  b.y = in_place ? b.x : b.x + region;
  std::copy(x.begin(), x.end(), b.x);
  return b;
}

void ExpectGuardsIntact(const Buffers& b, size_t n) {
  for (size_t i = 1; i <= kGuard; ++i) {
    ASSERT_EQ(b.y[-static_cast<ptrdiff_t>(i)], kSentinel) << "wrote before y";
    ASSERT_EQ(b.y[n + i - 1], kSentinel) << "wrote past y";
  }
}

// After a kernel wrote buf.y from x with the per-channel affine (a, b): its
// streaming stores flushed, nothing written outside y, and y within the BN
// bound of `ref`.
void ExpectKernelOutput(const Buffers& buf, const std::vector<float>& x,
                        const std::vector<float>& ref,
                        const std::vector<float>& a,
                        const std::vector<float>& b) {
  hwy::FlushStream();
  ExpectGuardsIntact(buf, x.size());
  EXPECT_TRUE(
      bn_test::NearBn(buf.y, ref.data(), x.size(),
                      bn_test::BnAbsTolerance(a, b, x.data(), x.size())));
}

void TestPlaneAllSizesOffsetsActivations() {
  const size_t counts[] = {0,  1,  3,  7,  8,  9,    15,  16,
                           17, 31, 33, 64, 65, 1000, 1001};
  uint32_t seed = 1;
  for (size_t count : counts) {
    for (size_t offset : {0, 1, 3}) {
      for (const Activation& act : kActivations) {
        for (bool in_place : {false, true}) {
          const bool stream = (count + offset) % 2 == 1;
          SCOPED_TRACE(::testing::Message()
                       << "count " << count << " offset " << offset << " act "
                       << act.ToString() << " in_place " << in_place
                       << " stream " << stream);
          const std::vector<float> x = bn_test::RandomTensor(count, ++seed);
          const std::vector<float> a = {-1.75f}, b = {0.625f};
          std::vector<float> ref(count);
          ref::BatchNormAffineRef(x.data(), ref.data(), {1, 1, count},
                                  Layout::kNchw, a.data(), b.data(), act);
          Buffers buf = MakeBuffers(x, offset, in_place);
          BatchNormNchwRangeF32(buf.x, buf.y, 0, count, count, 1, a.data(),
                                b.data(), stream, act);
          ExpectKernelOutput(buf, x, ref, a, b);
        }
      }
    }
  }
}

// NCHW slices as the threads cut them: starting and ending inside planes,
// planes shorter and longer than a vector, in place and not.
void TestNchwRangeSlicesCutPlanes() {
  uint32_t seed = 300;
  for (size_t spatial : {1, 3, 7, 16, 49, 61}) {
    const size_t channels = 5, batch = 2;
    const size_t n = batch * channels * spatial;
    const bn_test::BnParams p = bn_test::RandomBnParams(channels, ++seed);
    const std::vector<size_t> cuts = {0, n / 7, n / 3 + 1, n - 2, n};
    for (const Activation& act : kActivations) {
      for (bool in_place : {false, true}) {
        SCOPED_TRACE(::testing::Message()
                     << "spatial " << spatial << " act " << act.ToString()
                     << " in_place " << in_place);
        const std::vector<float> x = bn_test::RandomTensor(n, ++seed);
        std::vector<float> ref(n);
        ref::BatchNormAffineRef(x.data(), ref.data(),
                                {batch, channels, spatial}, Layout::kNchw,
                                p.gamma.data(), p.beta.data(), act);
        Buffers buf = MakeBuffers(x, 0, in_place);
        for (size_t k = 0; k + 1 < cuts.size(); ++k) {
          BatchNormNchwRangeF32(buf.x, buf.y, cuts[k], cuts[k + 1], spatial,
                                channels, p.gamma.data(), p.beta.data(),
                                /*stream=*/k == 1, act);
        }
        ExpectKernelOutput(buf, x, ref, p.gamma, p.beta);
      }
    }
  }
}

// NHWC rows: every channel count through each code path (vector multiple,
// short periodic pattern, long pattern, row-by-row fallback).
void TestRowsAllChannelCounts() {
  const size_t channel_counts[] = {1,  2,  3,  5,   8,    16,
                                   17, 24, 64, 100, 1001, 2048};
  const size_t row_counts[] = {0, 1, 2, 3, 7, 33};
  uint32_t seed = 100;
  for (size_t c : channel_counts) {
    const bn_test::BnParams p = bn_test::RandomBnParams(c, ++seed);
    for (size_t rows : row_counts) {
      for (size_t offset : {0, 1}) {
        for (const Activation& act : kActivations) {
          const bool in_place = (rows + offset) % 2 == 0;
          const bool stream = (c + rows) % 2 == 1;
          SCOPED_TRACE(::testing::Message()
                       << "C " << c << " rows " << rows << " offset " << offset
                       << " act " << act.ToString() << " in_place "
                       << in_place);
          const size_t n = rows * c;
          const std::vector<float> x = bn_test::RandomTensor(n, ++seed);
          std::vector<float> ref(n);
          // The row kernel takes scale/shift directly; gamma/beta stand in.
          ref::BatchNormAffineRef(x.data(), ref.data(), {1, c, rows},
                                  Layout::kNhwc, p.gamma.data(), p.beta.data(),
                                  act);
          Buffers buf = MakeBuffers(x, offset, in_place);
          BatchNormRowsF32(buf.x, buf.y, rows, c, c, p.gamma.data(),
                           p.beta.data(), stream, act);
          ExpectKernelOutput(buf, x, ref, p.gamma, p.beta);
        }
      }
    }
  }
}

// Blocked rows with channel padding: padded lanes hold NaN on input and must
// come out as exactly 0 whatever the activation (Clip(1, 6) of 0 would be 1).
void TestBlockedRowsZeroPadding() {
  uint32_t seed = 500;
  for (size_t block : {8, 16}) {
    for (size_t valid = 1; valid <= block; ++valid) {
      for (size_t rows : {1, 5, 64}) {
        for (const Activation& act : {Activation::None(), Activation::Relu(),
                                      Activation::Clip(1.0f, 6.0f)}) {
          SCOPED_TRACE(::testing::Message()
                       << "block " << block << " valid " << valid << " rows "
                       << rows << " act " << act.ToString());
          const bn_test::BnParams p = bn_test::RandomBnParams(valid, ++seed);
          std::vector<float> x = bn_test::RandomTensor(rows * block, ++seed);
          for (size_t r = 0; r < rows; ++r) {
            for (size_t c = valid; c < block; ++c) {
              x[r * block + c] = std::numeric_limits<float>::quiet_NaN();
            }
          }
          std::vector<float> ref(x.size());
          ref::BatchNormAffineRef(
              x.data(), ref.data(), {1, valid, rows},
              block == 8 ? Layout::kNChw8c : Layout::kNChw16c, p.gamma.data(),
              p.beta.data(), act);
          Buffers buf = MakeBuffers(x, rows % 2, rows % 3 == 1);
          // Streaming stores where the output is aligned (offset 0).
          BatchNormRowsF32(buf.x, buf.y, rows, block, valid, p.gamma.data(),
                           p.beta.data(), /*stream=*/true, act);
          ExpectKernelOutput(buf, x, ref, p.gamma, p.beta);
          for (size_t r = 0; r < rows; ++r) {
            for (size_t c = valid; c < block; ++c) {
              ASSERT_EQ(buf.y[r * block + c], 0.0f)
                  << "row " << r << " lane " << c;
            }
          }
        }
      }
    }
  }
}

// NaN and infinities propagate as in the reference: 0 * Inf = NaN, Relu and
// Clip keep NaN, Clip bounds infinities.
void TestNonFiniteInputs() {
  const float inf = std::numeric_limits<float>::infinity();
  const float nan = std::numeric_limits<float>::quiet_NaN();
  std::vector<float> x = bn_test::RandomTensor(67, 7);
  x[0] = nan;
  x[5] = inf;
  x[17] = -inf;
  x[40] = nan;
  x[66] = inf;
  for (float a : {2.0f, -3.0f, 0.0f}) {
    for (const Activation& act : kActivations) {
      SCOPED_TRACE(::testing::Message()
                   << "a " << a << " act " << act.ToString());
      const std::vector<float> va = {a}, vb = {0.5f};
      std::vector<float> ref(x.size()), got(x.size());
      ref::BatchNormAffineRef(x.data(), ref.data(), {1, 1, x.size()},
                              Layout::kNchw, va.data(), vb.data(), act);
      BatchNormNchwRangeF32(x.data(), got.data(), 0, x.size(), x.size(), 1,
                            va.data(), vb.data(), false, act);
      EXPECT_TRUE(
          bn_test::NearBn(got.data(), ref.data(), x.size(),
                          bn_test::BnAbsTolerance(va, vb, x.data(), x.size())));
      EXPECT_TRUE(std::isnan(got[0]));
      EXPECT_TRUE(std::isnan(got[40]));
      // The same values across a channel pattern (NHWC, C = 3).
      const std::vector<float> a3 = {a, 1.0f, -1.0f}, b3 = {0.5f, 0.0f, 2.0f};
      std::vector<float> ref3(66), got3(66);
      ref::BatchNormAffineRef(x.data(), ref3.data(), {1, 3, 22}, Layout::kNhwc,
                              a3.data(), b3.data(), act);
      BatchNormRowsF32(x.data(), got3.data(), 22, 3, 3, a3.data(), b3.data(),
                       false, act);
      EXPECT_TRUE(
          bn_test::NearBn(got3.data(), ref3.data(), 66,
                          bn_test::BnAbsTolerance(a3, b3, x.data(), 66)));
    }
  }
}

// NOLINTNEXTLINE(google-readability-namespace-comments)
}  // namespace HWY_NAMESPACE
}  // namespace ops
}  // namespace foldrt
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace foldrt {
namespace ops {

HWY_BEFORE_TEST(BatchNormHwyTest);
HWY_EXPORT_AND_TEST_P(BatchNormHwyTest, TestPlaneAllSizesOffsetsActivations);
HWY_EXPORT_AND_TEST_P(BatchNormHwyTest, TestNchwRangeSlicesCutPlanes);
HWY_EXPORT_AND_TEST_P(BatchNormHwyTest, TestRowsAllChannelCounts);
HWY_EXPORT_AND_TEST_P(BatchNormHwyTest, TestBlockedRowsZeroPadding);
HWY_EXPORT_AND_TEST_P(BatchNormHwyTest, TestNonFiniteInputs);

}  // namespace ops
}  // namespace foldrt
#endif  // HWY_ONCE
