// Per-target Highway kernels for the per-channel affine y = act(a[c]*x + b[c]).
// Included once per target through foreach_target.h (ops/batch_norm_hwy.cc and
// the per-target tests), hence the toggling include guard Highway prescribes.
//
// Only raw pointers and sizes come in: no tensor objects, no validation, no
// exceptions. x may equal y (in place); nothing is assumed about alignment.

#if defined(FOLDRT_OPS_BATCH_NORM_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef FOLDRT_OPS_BATCH_NORM_INL_H_
#undef FOLDRT_OPS_BATCH_NORM_INL_H_
#else
#define FOLDRT_OPS_BATCH_NORM_INL_H_
#endif

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "hwy/highway.h"
#include "ops/activation.h"

HWY_BEFORE_NAMESPACE();
namespace foldrt {
namespace ops {
namespace HWY_NAMESPACE {

namespace hn = hwy::HWY_NAMESPACE;

// Activations as functors so the element loops are instantiated once per
// activation with no branch inside. Comparisons with NaN are false, so the
// IfThenElse forms below keep NaN, unlike Max/Min whose NaN result differs
// between targets.
struct ActNone {
  template <class D, class V>
  HWY_INLINE V operator()(D /*d*/, V v) const {
    return v;
  }
};

struct ActRelu {
  template <class D, class V>
  HWY_INLINE V operator()(D d, V v) const {
    return hn::IfThenZeroElse(hn::Lt(v, hn::Zero(d)), v);
  }
};

struct ActClip {
  float lo, hi;
  template <class D, class V>
  HWY_INLINE V operator()(D d, V v) const {
    const V vlo = hn::Set(d, lo);
    const V vhi = hn::Set(d, hi);
    v = hn::IfThenElse(hn::Lt(v, vlo), vlo, v);
    return hn::IfThenElse(hn::Gt(v, vhi), vhi, v);
  }
};

// The largest vector of floats any target in this build may have; sizes the
// stack buffers used for tails (Highway 1.0.3 has no LoadN/StoreN, and its
// MaskedLoad may read the whole vector on some targets).
constexpr size_t kMaxFloatLanes = HWY_MAX_BYTES / sizeof(float);

// Periodic scale/shift patterns longer than this are not expanded on the
// stack (AffineRows falls back to row-by-row processing).
constexpr size_t kMaxPatternFloats = 1024;

// Streaming (non-temporal) stores bypass the caches: used only when the
// output is too big to stay cached for the next op anyway (the driver
// decides), and only on vector-aligned addresses.
template <bool kStream, class D, class V>
HWY_INLINE void StoreOut(V v, D d, float* p) {
  if (kStream) {
    hn::Stream(v, d, p);
  } else {
    hn::StoreU(v, d, p);
  }
}

// Applies the affine to fewer than one vector of floats through a stack
// buffer, so that nothing outside [x, x + count) is read or written.
template <class D, class Act>
HWY_INLINE void AffinePartialVector(D d, const float* x, float* y, size_t count,
                                    hn::Vec<D> va, hn::Vec<D> vb,
                                    const Act& act) {
  HWY_ALIGN float buf[kMaxFloatLanes] = {};
  memcpy(buf, x, count * sizeof(float));
  const auto v = act(d, hn::MulAdd(va, hn::Load(d, buf), vb));
  hn::Store(v, d, buf);
  memcpy(y, buf, count * sizeof(float));
}

// NCHW: `count` consecutive elements of one channel plane, scalar a and b.
template <bool kStream, class Act>
HWY_INLINE void AffinePlane(const float* x, float* y, size_t count, float a,
                            float b, const Act& act) {
  const hn::ScalableTag<float> d;
  const size_t N = hn::Lanes(d);
  const auto va = hn::Set(d, a);
  const auto vb = hn::Set(d, b);
  size_t i = 0;
  if (kStream) {
    // Streaming stores need aligned addresses: peel up to one vector.
    const size_t misaligned =
        (reinterpret_cast<uintptr_t>(y) / sizeof(float)) % N;
    const size_t head = misaligned == 0 ? 0 : HWY_MIN(N - misaligned, count);
    if (head) AffinePartialVector(d, x, y, head, va, vb, act);
    i = head;
  }
  // Four independent vectors per iteration hide the FMA latency.
  if (count >= 4 * N) {
    for (; i <= count - 4 * N; i += 4 * N) {
      const auto v0 = hn::LoadU(d, x + i);
      const auto v1 = hn::LoadU(d, x + i + N);
      const auto v2 = hn::LoadU(d, x + i + 2 * N);
      const auto v3 = hn::LoadU(d, x + i + 3 * N);
      StoreOut<kStream>(act(d, hn::MulAdd(va, v0, vb)), d, y + i);
      StoreOut<kStream>(act(d, hn::MulAdd(va, v1, vb)), d, y + i + N);
      StoreOut<kStream>(act(d, hn::MulAdd(va, v2, vb)), d, y + i + 2 * N);
      StoreOut<kStream>(act(d, hn::MulAdd(va, v3, vb)), d, y + i + 3 * N);
    }
  }
  for (; i + N <= count; i += N) {
    StoreOut<kStream>(act(d, hn::MulAdd(va, hn::LoadU(d, x + i), vb)), d,
                      y + i);
  }
  if (i < count) AffinePartialVector(d, x + i, y + i, count - i, va, vb, act);
}

// The same without streaming, for the short planes of late CNN layers
// (7x7 = 49 floats): the partial last vector becomes one overlapping vector
// ending at `count`. It is loaded before anything is stored, so recomputing
// the overlap from it is right even in place.
template <class Act>
HWY_INLINE void AffinePlaneOverlappingTail(const float* x, float* y,
                                           size_t count, float a, float b,
                                           const Act& act) {
  const hn::ScalableTag<float> d;
  const size_t N = hn::Lanes(d);
  if (count < N || count % N == 0) {
    AffinePlane<false>(x, y, count, a, b, act);
    return;
  }
  const auto va = hn::Set(d, a);
  const auto vb = hn::Set(d, b);
  const auto last = hn::LoadU(d, x + count - N);
  AffinePlane<false>(x, y, count - count % N, a, b, act);
  hn::StoreU(act(d, hn::MulAdd(va, last, vb)), d, y + count - N);
}

// `count` floats (a multiple of the period `period`, with period a multiple
// of the vector length) whose channel pattern is pa/pb[0, period). With
// kStream, y must be vector-aligned.
template <bool kStream, class D, class Act>
HWY_INLINE void AffinePeriodic(D d, const float* x, float* y, size_t count,
                               const float* pa, const float* pb, size_t period,
                               const Act& act) {
  const size_t N = hn::Lanes(d);
  if (period == N || period == 2 * N) {
    // One or two vectors per period (a channel block, or NHWC with C equal
    // to one or two vectors of lanes): the pattern lives in registers, the
    // same vector twice when the period is one vector.
    const auto va0 = hn::LoadU(d, pa);
    const auto vb0 = hn::LoadU(d, pb);
    auto va1 = va0;
    auto vb1 = vb0;
    if (period == 2 * N) {
      va1 = hn::LoadU(d, pa + N);
      vb1 = hn::LoadU(d, pb + N);
    }
    size_t i = 0;
    // Four independent vectors per iteration, as in AffinePlane.
    if (count >= 4 * N) {
      for (; i <= count - 4 * N; i += 4 * N) {
        const auto v0 = hn::LoadU(d, x + i);
        const auto v1 = hn::LoadU(d, x + i + N);
        const auto v2 = hn::LoadU(d, x + i + 2 * N);
        const auto v3 = hn::LoadU(d, x + i + 3 * N);
        StoreOut<kStream>(act(d, hn::MulAdd(va0, v0, vb0)), d, y + i);
        StoreOut<kStream>(act(d, hn::MulAdd(va1, v1, vb1)), d, y + i + N);
        StoreOut<kStream>(act(d, hn::MulAdd(va0, v2, vb0)), d, y + i + 2 * N);
        StoreOut<kStream>(act(d, hn::MulAdd(va1, v3, vb1)), d, y + i + 3 * N);
      }
    }
    // The rest: pairs of vectors (i stays a multiple of 2N, so a pair is
    // one or two whole periods), then at most one vector, a first half.
    for (; i + 2 * N <= count; i += 2 * N) {
      const auto v0 = hn::LoadU(d, x + i);
      const auto v1 = hn::LoadU(d, x + i + N);
      StoreOut<kStream>(act(d, hn::MulAdd(va0, v0, vb0)), d, y + i);
      StoreOut<kStream>(act(d, hn::MulAdd(va1, v1, vb1)), d, y + i + N);
    }
    if (i < count) {
      StoreOut<kStream>(act(d, hn::MulAdd(va0, hn::LoadU(d, x + i), vb0)), d,
                        y + i);
    }
    return;
  }
  // Longer periods (NHWC with many channels): the pattern is re-read from L1.
  for (size_t i = 0; i < count; i += period) {
    for (size_t c = 0; c < period; c += N) {
      const auto v = hn::LoadU(d, x + i + c);
      const auto r = hn::MulAdd(hn::LoadU(d, pa + c), v, hn::LoadU(d, pb + c));
      StoreOut<kStream>(act(d, r), d, y + i + c);
    }
  }
}

// AffinePeriodic with streaming stores where asked for and y is aligned for
// this tag's vectors (every later vector is then aligned too).
template <class D, class Act>
HWY_INLINE void AffinePeriodicMaybeStream(D d, const float* x, float* y,
                                          size_t count, const float* pa,
                                          const float* pb, size_t period,
                                          bool stream, const Act& act) {
  if (stream &&
      reinterpret_cast<uintptr_t>(y) % (hn::Lanes(d) * sizeof(float)) == 0) {
    AffinePeriodic<true>(d, x, y, count, pa, pb, period, act);
  } else {
    AffinePeriodic<false>(d, x, y, count, pa, pb, period, act);
  }
}

// Rows of `valid` channels read at x_stride and written at y_stride, one
// row at a time (no flat pattern: consecutive rows are not adjacent in x).
// Channels valid .. y_stride of each y row are padding and get zeros.
template <class Act>
HWY_INLINE void AffineStridedRows(const float* x, size_t x_stride, float* y,
                                  size_t y_stride, size_t rows, size_t valid,
                                  const float* a, const float* b,
                                  const Act& act) {
  const hn::ScalableTag<float> d;
  const size_t N = hn::Lanes(d);
  for (size_t r = 0; r < rows; ++r) {
    const float* xr = x + r * x_stride;
    float* yr = y + r * y_stride;
    size_t c = 0;
    for (; c + N <= valid; c += N) {
      const auto v = hn::LoadU(d, xr + c);
      hn::StoreU(
          act(d, hn::MulAdd(hn::LoadU(d, a + c), v, hn::LoadU(d, b + c))), d,
          yr + c);
    }
    if (c < valid) {
      HWY_ALIGN float ta[kMaxFloatLanes] = {};
      HWY_ALIGN float tb[kMaxFloatLanes] = {};
      memcpy(ta, a + c, (valid - c) * sizeof(float));
      memcpy(tb, b + c, (valid - c) * sizeof(float));
      AffinePartialVector(d, xr + c, yr + c, valid - c, hn::Load(d, ta),
                          hn::Load(d, tb), act);
    }
    for (c = valid; c < y_stride; ++c) yr[c] = 0.0f;
  }
}

// Rows of `stride` floats; in each row the first `valid` floats are channels
// 0..valid-1 (scale a, shift b) and the rest is channel padding, written as 0.
// NHWC is stride == valid == C; a block of nChw8c/16c is stride == 8/16 with
// valid < stride only in the last channel block.
template <class Act>
HWY_INLINE void AffineRows(const float* x, float* y, size_t rows, size_t stride,
                           size_t valid, const float* a, const float* b,
                           bool stream, const Act& act) {
  const hn::ScalableTag<float> d;
  const size_t N = hn::Lanes(d);
  if (rows == 0 || stride == 0) return;
  if (valid == stride) {
    // oneDNN channel blocks: vectors of exactly one block keep the pattern
    // in registers even where native vectors are wider (nChw8c on AVX-512).
    if (stride == 8) {
      const hn::CappedTag<float, 8> d8;
      if (hn::Lanes(d8) == 8) {
        AffinePeriodicMaybeStream(d8, x, y, rows * 8, a, b, 8, stream, act);
        return;
      }
    }
    if (stride == 16) {
      const hn::CappedTag<float, 16> d16;
      if (hn::Lanes(d16) == 16) {
        AffinePeriodicMaybeStream(d16, x, y, rows * 16, a, b, 16, stream, act);
        return;
      }
    }
    if (stride % N == 0) {
      AffinePeriodicMaybeStream(d, x, y, rows * stride, a, b, stride, stream,
                                act);
      return;
    }
  }
  // Otherwise treat the rows as one flat array whose channel pattern is
  // expanded to `period` = lcm(stride, N) floats, so every vector sees a
  // whole pattern slice.
  size_t period = stride;
  while (period % N != 0) period += stride;
  if (period <= kMaxPatternFloats) {
    HWY_ALIGN float pa[kMaxPatternFloats];
    HWY_ALIGN float pb[kMaxPatternFloats];
    HWY_ALIGN float keep[kMaxPatternFloats];
    for (size_t j = 0; j < period; ++j) {
      const size_t c = j % stride;
      pa[j] = c < valid ? a[c] : 0.0f;
      pb[j] = c < valid ? b[c] : 0.0f;
      keep[j] = c < valid ? 1.0f : 0.0f;
    }
    const size_t total = rows * stride;
    const size_t whole = total / period * period;
    if (valid == stride) {
      AffinePeriodicMaybeStream(d, x, y, whole, pa, pb, period, stream, act);
    } else {
      // Padding lanes may hold anything (even NaN): select zero explicitly.
      for (size_t i = 0; i < whole; i += period) {
        for (size_t j = 0; j < period; j += N) {
          const auto r =
              act(d, hn::MulAdd(hn::Load(d, pa + j), hn::LoadU(d, x + i + j),
                                hn::Load(d, pb + j)));
          const auto m = hn::Ne(hn::Load(d, keep + j), hn::Zero(d));
          hn::StoreU(hn::IfThenElseZero(m, r), d, y + i + j);
        }
      }
    }
    // The last, partial pattern: whole vectors, then a partial one. Padding
    // lanes have a = b = 0, so only the activation could make them non-zero;
    // the keep mask clears them.
    for (size_t j = 0; whole + j < total; j += N) {
      const size_t n = total - whole - j < N ? total - whole - j : N;
      HWY_ALIGN float buf[kMaxFloatLanes] = {};
      memcpy(buf, x + whole + j, n * sizeof(float));
      auto r = act(d, hn::MulAdd(hn::Load(d, pa + j), hn::Load(d, buf),
                                 hn::Load(d, pb + j)));
      r = hn::IfThenElseZero(hn::Ne(hn::Load(d, keep + j), hn::Zero(d)), r);
      hn::Store(r, d, buf);
      memcpy(y + whole + j, buf, n * sizeof(float));
    }
    return;
  }

  // Wide rows whose pattern does not fit on the stack (odd C in the
  // thousands): row by row, with a partial vector at the end of each row.
  AffineStridedRows(x, stride, y, stride, rows, valid, a, b, act);
}

// Calls fn with the functor for `act`: one of the activations BatchNorm
// applies (BatchNormSupportsActivation). BatchNorm rejects the others before
// any kernel runs, so reaching one here is a bug: abort.
template <class Fn>
HWY_INLINE void WithBatchNormActivation(const Activation& act, const Fn& fn) {
  switch (act.kind) {
    case Activation::Kind::kNone:
      return fn(ActNone());
    case Activation::Kind::kRelu:
      return fn(ActRelu());
    case Activation::Kind::kClip:
      return fn(ActClip{act.min, act.max});
    case Activation::Kind::kSigmoid:
    case Activation::Kind::kSwish:
      break;
  }
  HWY_ABORT("BatchNorm kernels do not apply activation kind %d",
            static_cast<int>(act.kind));
}

// Entry points exported per target (ops/batch_norm_hwy.cc). The activation
// and store-kind switches happen once per call, outside the element loops.
// `stream` asks for non-temporal stores (ignored where y is not aligned);
// the caller must call hwy::FlushStream() before the output is read by
// another thread.
template <bool kStream, class Act>
HWY_INLINE void AffinePlaneOneAct(const float* x, float* y, size_t count,
                                  float a, float b, const Act& act) {
  if (kStream) {
    AffinePlane<true>(x, y, count, a, b, act);
  } else {
    AffinePlaneOverlappingTail(x, y, count, a, b, act);
  }
}

// NCHW elements [begin, end) of x/y (a thread's slice; it may start and end
// inside a channel plane). One call covers many planes so that short planes
// (7x7) do not pay a dispatch each.
template <bool kStream, class Act>
HWY_INLINE void AffineNchwRange(const float* x, float* y, size_t begin,
                                size_t end, size_t spatial, size_t channels,
                                const float* a, const float* b,
                                const Act& act) {
  for (size_t e = begin; e < end;) {
    const size_t len = HWY_MIN(spatial - e % spatial, end - e);
    const size_t c = (e / spatial) % channels;
    AffinePlaneOneAct<kStream>(x + e, y + e, len, a[c], b[c], act);
    e += len;
  }
}

template <bool kStream>
HWY_INLINE void AffineNchwRangeAnyAct(const float* x, float* y, size_t begin,
                                      size_t end, size_t spatial,
                                      size_t channels, const float* a,
                                      const float* b, const Activation& act) {
  WithBatchNormActivation(act, [&](const auto& f) {
    AffineNchwRange<kStream>(x, y, begin, end, spatial, channels, a, b, f);
  });
}

inline HWY_NOINLINE void BatchNormNchwRangeF32(const float* x, float* y,
                                               size_t begin, size_t end,
                                               size_t spatial, size_t channels,
                                               const float* a, const float* b,
                                               bool stream,
                                               const Activation& act) {
  if (stream) {
    AffineNchwRangeAnyAct<true>(x, y, begin, end, spatial, channels, a, b, act);
  } else {
    AffineNchwRangeAnyAct<false>(x, y, begin, end, spatial, channels, a, b,
                                 act);
  }
}

// Rows of `valid` channels at x_stride in x and y_stride in y (a channel
// slice of a wider buffer read in place); no streaming stores.
inline HWY_NOINLINE void BatchNormStridedRowsF32(
    const float* x, size_t x_stride, float* y, size_t y_stride, size_t rows,
    size_t valid, const float* a, const float* b, const Activation& act) {
  WithBatchNormActivation(act, [&](const auto& f) {
    AffineStridedRows(x, x_stride, y, y_stride, rows, valid, a, b, f);
  });
}

inline HWY_NOINLINE void BatchNormRowsF32(const float* x, float* y, size_t rows,
                                          size_t stride, size_t valid,
                                          const float* a, const float* b,
                                          bool stream, const Activation& act) {
  WithBatchNormActivation(act, [&](const auto& f) {
    AffineRows(x, y, rows, stride, valid, a, b, stream, f);
  });
}

// NOLINTNEXTLINE(google-readability-namespace-comments)
}  // namespace HWY_NAMESPACE
}  // namespace ops
}  // namespace foldrt
HWY_AFTER_NAMESPACE();

#endif  // FOLDRT_OPS_BATCH_NORM_INL_H_
