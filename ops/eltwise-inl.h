// Per-target Highway kernels for Sigmoid and Swish (ops/eltwise.h). Included
// once per target through foreach_target.h (ops/eltwise_hwy.cc and the
// per-target tests), hence the toggling include guard Highway prescribes.
//
// Only raw pointers and sizes come in: no validation, no exceptions. x may
// equal y (in place); nothing is assumed about alignment.

#if defined(FOLDRT_OPS_ELTWISE_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef FOLDRT_OPS_ELTWISE_INL_H_
#undef FOLDRT_OPS_ELTWISE_INL_H_
#else
#define FOLDRT_OPS_ELTWISE_INL_H_
#endif

#include <stddef.h>
#include <string.h>

#include "hwy/contrib/math/math-inl.h"
#include "hwy/highway.h"

HWY_BEFORE_NAMESPACE();
namespace foldrt {
namespace ops {
namespace HWY_NAMESPACE {

namespace hn = hwy::HWY_NAMESPACE;

// e^-|x| in [0, 1]. Highway's Exp is valid on [-FLT_MAX, 104] and returns 0
// below -104, but its float -> int32 conversion of x / ln 2 is out of range
// for huge |x| and undefined for NaN (EMU128 converts with a C++ cast).
// Arguments below -110 (-inf, huge, and NaN: the comparison is false) are
// replaced by -110, which Exp maps to 0 like the originals.
template <class D, class V>
HWY_INLINE V ExpNegAbs(D d, V x) {
  const V kFloor = hn::Set(d, -110.0f);
  const V a = hn::Neg(hn::Abs(x));
  return hn::Exp(d, hn::IfThenElse(hn::Ge(a, kFloor), a, kFloor));
}

// sigmoid(x) = 1 / (1 + e^-x) for x >= 0 and e^x / (1 + e^x) for x < 0:
// both forms with e = e^-|x| <= 1, so nothing overflows, and one division.
// For x >= 17, e < 2^-24 and 1 + e rounds to 1 (exactly 1); for x < -104,
// e = 0 (exactly 0). NaN gives e = 0 and would give 1, hence the select.
template <class D, class V>
HWY_INLINE V SigmoidVec(D d, V x) {
  const V one = hn::Set(d, 1.0f);
  const V e = ExpNegAbs(d, x);
  const V num = hn::IfThenElse(hn::Lt(x, hn::Zero(d)), e, one);
  const V s = hn::Div(num, hn::Add(one, e));
  return hn::IfThenElse(hn::IsNaN(x), x, s);
}

// swish(x) = x * sigmoid(x) = x / (1 + e^-x) for x >= 0 and
// x * e^x / (1 + e^x) for x < 0. NaN stays NaN through the numerator; -inf
// gives -inf * 0 = NaN, as the Sigmoid -> Mul pair does.
template <class D, class V>
HWY_INLINE V SwishVec(D d, V x) {
  const V one = hn::Set(d, 1.0f);
  const V e = ExpNegAbs(d, x);
  const V num = hn::IfThenElse(hn::Lt(x, hn::Zero(d)), hn::Mul(x, e), x);
  return hn::Div(num, hn::Add(one, e));
}

// The largest vector of floats any target in this build may have; sizes the
// stack buffer for spans shorter than one vector (Highway 1.0.3 has no
// LoadN/StoreN).
constexpr size_t kEltwiseMaxLanes = HWY_MAX_BYTES / sizeof(float);

// y[i] = f(x[i]) for i < n. Whole vectors, then the last partial vector as
// one overlapping vector ending at n; it is loaded before anything is
// stored, so recomputing the overlap from it is right even in place. Spans
// shorter than a vector go through a stack buffer, so nothing outside
// [x, x + n) is read or written.
template <class F>
HWY_INLINE void UnarySpan(const float* x, float* y, size_t n, const F& f) {
  const hn::ScalableTag<float> d;
  const size_t N = hn::Lanes(d);
  if (n < N) {
    if (n == 0) return;
    HWY_ALIGN float buf[kEltwiseMaxLanes] = {};
    memcpy(buf, x, n * sizeof(float));
    hn::Store(f(d, hn::Load(d, buf)), d, buf);
    memcpy(y, buf, n * sizeof(float));
    return;
  }
  const auto last = hn::LoadU(d, x + n - N);
  size_t i = 0;
  // Two independent vectors per iteration; the exp polynomial is long
  // enough that out-of-order execution overlaps the rest.
  if (n >= 2 * N) {
    for (; i <= n - 2 * N; i += 2 * N) {
      const auto v0 = hn::LoadU(d, x + i);
      const auto v1 = hn::LoadU(d, x + i + N);
      hn::StoreU(f(d, v0), d, y + i);
      hn::StoreU(f(d, v1), d, y + i + N);
    }
  }
  for (; i + N <= n; i += N) {
    hn::StoreU(f(d, hn::LoadU(d, x + i)), d, y + i);
  }
  if (i < n) hn::StoreU(f(d, last), d, y + n - N);
}

struct SigmoidOp {
  template <class D, class V>
  HWY_INLINE V operator()(D d, V v) const {
    return SigmoidVec(d, v);
  }
};

struct SwishOp {
  template <class D, class V>
  HWY_INLINE V operator()(D d, V v) const {
    return SwishVec(d, v);
  }
};

// Entry points exported per target (ops/eltwise_hwy.cc).
inline HWY_NOINLINE void SigmoidSpanF32(const float* x, float* y, size_t n) {
  UnarySpan(x, y, n, SigmoidOp());
}

inline HWY_NOINLINE void SwishSpanF32(const float* x, float* y, size_t n) {
  UnarySpan(x, y, n, SwishOp());
}

// NOLINTNEXTLINE(google-readability-namespace-comments)
}  // namespace HWY_NAMESPACE
}  // namespace ops
}  // namespace foldrt
HWY_AFTER_NAMESPACE();

#endif  // FOLDRT_OPS_ELTWISE_INL_H_
