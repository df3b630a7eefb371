// Sigmoid and Swish kernels (ops/eltwise-inl.h, ops/eltwise.h) against the
// double references of ops/ref/eltwise_ref.h, on every Highway target this
// CPU supports (HWY_EXPORT_AND_TEST_P), and through the dispatching entry
// points.
//
// Tolerance: kMaxUlp = 4 units in the last place of the correctly rounded
// result (the reference is computed in double and rounded once). The
// kernels compute e = exp(-|x|) (Highway's Exp: at most 1 ULP, documented),
// 1 + e (1/2 ULP), Swish's x * e (1/2 ULP) and one division (1/2 ULP), so the
// float result is within about 2.5 ULP of the exact value, and the
// reference's own rounding adds 1/2 ULP: 3 ULP, plus one for margin. In the
// subnormal range (sigmoid(x) for x < -87.3) an ULP is the fixed 2^-149, and
// the same bound holds in that unit. 4 ULP is a relative error below 5e-7,
// under the 1e-6 relative the issue allows.
//
// One exception, Swish for x < -87.3: there e = e^x is itself subnormal,
// i.e. known only to within 2^-149 absolute, and x * e carries that error
// times |x|. The bound there is |x| * 2^-149 plus the 4 ULP, i.e. below
// 2e-43 absolute on results below 1e-36 in magnitude. (The Sigmoid -> Mul
// graph computed in float has the same limitation: its sigmoid is subnormal
// there too.)
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "tests/ops/eltwise_test.cc"
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include "hwy/foreach_target.h"  // IWYU pragma: keep
#include "hwy/highway.h"
#include "hwy/tests/hwy_gtest.h"
#include "ops/eltwise-inl.h"
#include "ops/ref/eltwise_ref.h"

#ifndef FOLDRT_TESTS_OPS_ELTWISE_TEST_ONCE_
#define FOLDRT_TESTS_OPS_ELTWISE_TEST_ONCE_
namespace foldrt::ops::eltwise_test {

constexpr uint32_t kMaxUlp = 4;

// Distance in representable floats; +0 and -0 are the same point, two NaNs
// are equal, a NaN and a number are as far apart as possible.
inline uint32_t UlpDistance(float a, float b) {
  if (std::isnan(a) || std::isnan(b)) {
    return std::isnan(a) && std::isnan(b) ? 0 : UINT32_MAX;
  }
  auto ordered = [](float f) {
    int32_t i;
    std::memcpy(&i, &f, sizeof(i));
    // Negative floats: sign-magnitude to two's complement, so that the
    // integers are ordered like the floats (-0 and +0 both map to 0).
    return static_cast<int64_t>(i < 0 ? -(i & 0x7fffffff) : i);
  };
  const int64_t d = ordered(a) - ordered(b);
  const int64_t ad = d < 0 ? -d : d;
  return ad > UINT32_MAX ? UINT32_MAX : static_cast<uint32_t>(ad);
}

// Whether `got` is within the tolerance above of the reference `want`.
inline bool Close(bool swish, float x, float got, float want) {
  if (UlpDistance(got, want) <= kMaxUlp) return true;
  const double unit = std::numeric_limits<float>::denorm_min();
  return swish && x < -87.0f && !std::isnan(got) &&
         std::fabs(static_cast<double>(got) - want) <=
             (std::fabs(x) + kMaxUlp) * unit;
}

// The first element not Close to the reference, or -1.
inline int64_t FirstMismatch(bool swish, const float* x, const float* got,
                             const float* want, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    if (!Close(swish, x[i], got[i], want[i])) return static_cast<int64_t>(i);
  }
  return -1;
}

inline std::vector<float> RandomFloats(size_t n, uint32_t seed, float lo,
                                       float hi) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(lo, hi);
  std::vector<float> v(n);
  for (float& f : v) f = u(rng);
  return v;
}

inline float FromBits(uint32_t bits) {
  float f;
  std::memcpy(&f, &bits, sizeof(f));
  return f;
}

// Inputs at the edges: saturation, overflow of e^-x, the subnormal range of
// the result, subnormal inputs, signed zeros, infinities and NaN.
inline std::vector<float> SpecialValues() {
  const float inf = std::numeric_limits<float>::infinity();
  const float max = std::numeric_limits<float>::max();
  const float min = std::numeric_limits<float>::min();
  const float denorm = std::numeric_limits<float>::denorm_min();
  return {0.0f,
          -0.0f,
          1.0f,
          -1.0f,
          16.5f,
          -16.5f,
          17.0f,
          -17.0f,
          17.5f,
          -17.5f,
          87.3f,
          -87.3f,
          88.0f,
          -88.0f,
          88.8f,
          -88.8f,
          100.0f,
          -100.0f,
          103.9f,
          -103.9f,
          104.0f,
          -104.0f,
          104.1f,
          -104.1f,
          110.0f,
          -110.0f,
          1e10f,
          -1e10f,
          1e30f,
          -1e30f,
          max,
          -max,
          inf,
          -inf,
          min,
          -min,
          denorm,
          -denorm,
          3 * denorm,
          -5 * denorm,
          min / 3,
          -min / 7,
          std::numeric_limits<float>::quiet_NaN(),
          -std::numeric_limits<float>::quiet_NaN(),
          FromBits(0x7fa00000u)};
}

}  // namespace foldrt::ops::eltwise_test
#endif  // FOLDRT_TESTS_OPS_ELTWISE_TEST_ONCE_

HWY_BEFORE_NAMESPACE();
namespace foldrt {
namespace ops {
namespace HWY_NAMESPACE {

using eltwise_test::Close;
using eltwise_test::FirstMismatch;
using eltwise_test::UlpDistance;

using KernelFn = void (*)(const float*, float*, size_t);
using RefFn = void (*)(const float*, float*, size_t);

struct Kernel {
  const char* name;
  KernelFn run;
  RefFn ref;
  bool swish;
};

const Kernel kKernels[] = {{"sigmoid", SigmoidSpanF32, ref::SigmoidRef, false},
                           {"swish", SwishSpanF32, ref::SwishRef, true}};

// Guard floats around the output detect writes outside [y, y + n).
constexpr size_t kGuard = 16;
constexpr float kSentinel = -12345.0f;

// Every length from 0 to four vectors plus tails, and a few long ones; input
// and output at 0, 1 and 3 floats past a 64-byte boundary; in place and not.
void TestAllLengthsOffsetsInPlace() {
  const size_t lanes = hn::Lanes(hn::ScalableTag<float>());
  std::vector<size_t> lengths;
  for (size_t n = 0; n <= 4 * lanes + 3; ++n) lengths.push_back(n);
  for (size_t n : {size_t{100}, size_t{1000}, size_t{1001}, size_t{4099}}) {
    lengths.push_back(n);
  }
  uint32_t seed = 1;
  for (const Kernel& k : kKernels) {
    for (size_t n : lengths) {
      for (size_t offset : {0, 1, 3}) {
        for (bool in_place : {false, true}) {
          SCOPED_TRACE(::testing::Message()
                       << k.name << " n " << n << " offset " << offset
                       << " in_place " << in_place);
          const std::vector<float> x =
              eltwise_test::RandomFloats(n, ++seed, -20.0f, 20.0f);
          std::vector<float> want(n);
          k.ref(x.data(), want.data(), n);
          // Regions of guard + data + guard, rounded to 16 floats so that
          // x and y sit at the same offset from a 64-byte boundary.
          const size_t region = (n + 2 * kGuard + offset + 15) / 16 * 16;
          std::vector<float> storage(2 * region + 16, kSentinel);
          const uintptr_t base = reinterpret_cast<uintptr_t>(storage.data());
          float* aligned =
              storage.data() + ((64 - base % 64) % 64) / sizeof(float);
          float* px = aligned + kGuard + offset;
          float* py = in_place ? px : px + region;
          std::copy(x.begin(), x.end(), px);
          k.run(px, py, n);
          const int64_t bad =
              FirstMismatch(k.swish, x.data(), py, want.data(), n);
          ASSERT_EQ(bad, -1)
              << "x " << x[bad] << " got " << py[bad] << " want " << want[bad];
          for (size_t i = 1; i <= kGuard; ++i) {
            ASSERT_EQ(py[-static_cast<ptrdiff_t>(i)], kSentinel)
                << "wrote before y";
            ASSERT_EQ(py[n + i - 1], kSentinel) << "wrote past y";
          }
          if (!in_place) {
            for (size_t i = 0; i < n; ++i) ASSERT_EQ(px[i], x[i]) << i;
          }
        }
      }
    }
  }
}

// The special values at every position of a span several vectors long (so
// that each passes through the main loop, the overlapping tail and the
// short-span path), with the exact results the contract promises.
void TestSpecialValues() {
  const std::vector<float> specials = eltwise_test::SpecialValues();
  const float inf = std::numeric_limits<float>::infinity();
  const size_t lanes = hn::Lanes(hn::ScalableTag<float>());
  for (size_t n : {size_t{1}, lanes > 1 ? lanes - 1 : 1, 3 * lanes + 1}) {
    for (size_t start = 0; start < specials.size(); ++start) {
      std::vector<float> x(n);
      for (size_t i = 0; i < n; ++i) {
        x[i] = specials[(start + i) % specials.size()];
      }
      for (const Kernel& k : kKernels) {
        SCOPED_TRACE(::testing::Message()
                     << k.name << " n " << n << " start " << start);
        std::vector<float> got(n), want(n);
        k.run(x.data(), got.data(), n);
        k.ref(x.data(), want.data(), n);
        for (size_t i = 0; i < n; ++i) {
          const float v = x[i];
          SCOPED_TRACE(::testing::Message() << "x " << v);
          EXPECT_TRUE(Close(k.swish, v, got[i], want[i]))
              << "got " << got[i] << " want " << want[i] << " ("
              << UlpDistance(got[i], want[i]) << " ULP)";
          EXPECT_EQ(std::isnan(got[i]), std::isnan(want[i]));
          const bool sigmoid = !k.swish;
          if (std::isnan(v)) {
            EXPECT_TRUE(std::isnan(got[i]));
          } else if (sigmoid) {
            // Never NaN, inside [0, 1], saturating exactly.
            EXPECT_FALSE(std::isnan(got[i]));
            EXPECT_GE(got[i], 0.0f);
            EXPECT_LE(got[i], 1.0f);
            if (v >= 17.0f) {
              EXPECT_EQ(got[i], 1.0f);
            }
            if (v <= -104.0f) {
              EXPECT_EQ(got[i], 0.0f);
            }
            if (std::fabs(v) < 1e-30f) {
              EXPECT_EQ(got[i], 0.5f);
            }
          } else if (v == -inf) {
            EXPECT_TRUE(std::isnan(got[i]));  // -inf * 0, as Sigmoid -> Mul
          } else {
            EXPECT_FALSE(std::isnan(got[i]));
            if (v >= 17.0f) {
              EXPECT_EQ(got[i], v);
            }
            if (v <= -120.0f) {
              EXPECT_EQ(got[i], 0.0f);
            }
          }
        }
      }
    }
  }
}

// Checks got/want for inputs x like FirstMismatch, and prints the largest
// ULP distance outside Swish's subnormal exception (for the record).
void ExpectAllClose(const Kernel& k, const float* x, const float* got,
                    const float* want, size_t n) {
  uint32_t worst = 0;
  float worst_x = 0.0f;
  size_t failures = 0;
  int64_t first = -1;
  for (size_t i = 0; i < n; ++i) {
    if (!Close(k.swish, x[i], got[i], want[i])) {
      if (failures++ == 0) first = static_cast<int64_t>(i);
    }
    if (k.swish && x[i] < -87.0f) continue;
    const uint32_t d = UlpDistance(got[i], want[i]);
    if (d > worst) {
      worst = d;
      worst_x = x[i];
    }
  }
  EXPECT_EQ(failures, 0u) << "first at x " << x[first] << ": got " << got[first]
                          << " want " << want[first] << " ("
                          << UlpDistance(got[first], want[first]) << " ULP)";
  printf("%s on %s: %zu values, at most %u ULP (at x = %.9g)\n", k.name,
         hwy::TargetName(HWY_TARGET), n, worst, worst_x);
}

// Every kernel on `x` against its scalar reference.
void ExpectKernelsMatchReference(const std::vector<float>& x) {
  std::vector<float> got(x.size()), want(x.size());
  for (const Kernel& k : kKernels) {
    SCOPED_TRACE(k.name);
    k.run(x.data(), got.data(), x.size());
    k.ref(x.data(), want.data(), x.size());
    ExpectAllClose(k, x.data(), got.data(), want.data(), x.size());
  }
}

// Every 997th float bit pattern (4.3 million values over the whole line,
// every sign, exponent and NaN payload range): within the tolerance of the
// reference, NaN exactly for NaN inputs (and Swish(-inf)).
void TestStridedSweepOfAllFloats() {
  constexpr uint64_t kStride = 997;
  std::vector<float> x;
  for (uint64_t bits = 0; bits <= UINT32_MAX; bits += kStride) {
    x.push_back(eltwise_test::FromBits(static_cast<uint32_t>(bits)));
  }
  ExpectKernelsMatchReference(x);
}

// Dense over the range where the results are neither saturated nor
// trivial: [-110, 20] in steps of 1e-4 (1.3 million values).
void TestDenseOverTheInterestingRange() {
  std::vector<float> x;
  for (int64_t i = 0; i <= 1300000; ++i) {
    x.push_back(static_cast<float>(-110.0 + 1e-4 * static_cast<double>(i)));
  }
  ExpectKernelsMatchReference(x);
}

// NOLINTNEXTLINE(google-readability-namespace-comments)
}  // namespace HWY_NAMESPACE
}  // namespace ops
}  // namespace foldrt
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
#include "ops/eltwise.h"

namespace foldrt {
namespace ops {

HWY_BEFORE_TEST(EltwiseHwyTest);
HWY_EXPORT_AND_TEST_P(EltwiseHwyTest, TestAllLengthsOffsetsInPlace);
HWY_EXPORT_AND_TEST_P(EltwiseHwyTest, TestSpecialValues);
HWY_EXPORT_AND_TEST_P(EltwiseHwyTest, TestStridedSweepOfAllFloats);
HWY_EXPORT_AND_TEST_P(EltwiseHwyTest, TestDenseOverTheInterestingRange);

// The dispatching entry points pick a target and compute the same.
TEST(EltwiseTest, DispatchedKernelsMatchTheReference) {
  std::vector<float> x = eltwise_test::RandomFloats(100003, 7, -30.0f, 30.0f);
  const std::vector<float> specials = eltwise_test::SpecialValues();
  std::copy(specials.begin(), specials.end(), x.begin() + 500);
  const size_t n = x.size();
  std::vector<float> got(n), want(n);
  SigmoidF32(x.data(), got.data(), n);
  ref::SigmoidRef(x.data(), want.data(), n);
  EXPECT_EQ(
      eltwise_test::FirstMismatch(false, x.data(), got.data(), want.data(), n),
      -1);
  SwishF32(x.data(), got.data(), n);
  ref::SwishRef(x.data(), want.data(), n);
  EXPECT_EQ(
      eltwise_test::FirstMismatch(true, x.data(), got.data(), want.data(), n),
      -1);
  // In place.
  std::vector<float> y = x;
  SwishF32(y.data(), y.data(), n);
  EXPECT_EQ(
      eltwise_test::FirstMismatch(true, x.data(), y.data(), want.data(), n),
      -1);
  SigmoidF32(nullptr, nullptr, 0);  // empty spans may come with null pointers
}

}  // namespace ops
}  // namespace foldrt
#endif  // HWY_ONCE
