// The Highway kernel of 1-D / 2-D window pooling (MaxPool and AveragePool)
// on the planes of a plain NCHW tensor, dilation 1 (ops/pool.h says when it
// runs). Compiled once per Highway target through foreach_target.h; the
// dispatch entry comes once (HWY_ONCE).

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "ops/pool_window_hwy.cc"
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <vector>

#include "hwy/foreach_target.h"  // IWYU pragma: keep
#include "hwy/highway.h"
#include "ops/pool-inl.h"
#include "ops/pool_internal.h"

HWY_BEFORE_NAMESPACE();
namespace foldrt::ops::HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

// The largest vector of floats any target of this build may have (stack
// buffers for tails: Highway 1.0.3 has no StoreN).
constexpr size_t kPoolMaxLanes = HWY_MAX_BYTES / sizeof(float);

// Planes [begin, end) of a 2-D window pool, any horizontal stride (used for
// strides above 2, and for 2 on the one-lane target). Per output row: the
// window's input rows are reduced vertically into a padded row (padding holds
// the identity: -inf or 0), which is split into `stride_w` phases (phase q
// holds elements q, q + s, q + 2s, ...) so that the horizontal pass reads every
// window column with contiguous vector loads.
template <bool kMax>
void PhasePlanes(const pool_internal::PlanePlan& p, const float* HWY_RESTRICT x,
                 float* HWY_RESTRICT y, size_t begin, size_t end) {
  const hn::ScalableTag<float> d;
  using V = hn::Vec<decltype(d)>;
  const size_t N = hn::Lanes(d);
  const float identity = kMax ? -HUGE_VALF : 0.0f;
  const size_t in_w = p.in_w, out_w = p.out_w, kw = p.kernel_w;
  const size_t sw = p.stride_w;
  const size_t chunk = sw * N;
  // The padded row plus slack for whole-vector reads past its end; every
  // phase has phase_len elements (a multiple of N), enough for the
  // horizontal pass's last vector.
  const size_t row_len = (p.padded_w + chunk - 1) / chunk * chunk + chunk;
  const size_t phase_len = row_len / sw;
  const size_t out_w_vec = (out_w + N - 1) / N * N;
  std::vector<float> buffer(row_len + (sw > 1 ? row_len : 0) + out_w_vec,
                            identity);
  float* row = buffer.data();
  float* phases = row + row_len;  // phase q at phases + q * phase_len
  float* col_scale = phases + (sw > 1 ? row_len : 0);
  if (!kMax) {
    for (size_t i = 0; i < out_w_vec; ++i) {
      col_scale[i] = i < out_w ? p.col_scale[i] : 1.0f;
    }
  }
  float* mid = row + p.pad_w;
  HWY_ALIGN float last[kPoolMaxLanes];

  for (size_t plane = begin; plane < end; ++plane) {
    const float* xp = x + plane * p.in_h * in_w;
    float* yp = y + plane * p.out_h * out_w;
    for (size_t oh = 0; oh < p.out_h; ++oh) {
      // Vertical: the window's input rows into the middle of `row`.
      const float* r0 = xp + p.row_begin[oh] * in_w;
      const size_t rows = p.row_end[oh] - p.row_begin[oh];
      size_t i = 0;
      for (; i + N <= in_w; i += N) {
        V v = hn::LoadU(d, r0 + i);
        for (size_t r = 1; r < rows; ++r) {
          v = Combine<kMax>(v, hn::LoadU(d, r0 + r * in_w + i));
        }
        hn::StoreU(v, d, mid + i);
      }
      for (; i < in_w; ++i) {
        float v = r0[i];
        for (size_t r = 1; r < rows; ++r) {
          v = CombineScalar<kMax>(v, r0[r * in_w + i]);
        }
        mid[i] = v;
      }
      // Phases.
      const float* phase[4];
      if (sw == 1) {
        phase[0] = row;
      } else if (sw <= 4) {
        for (size_t q = 0; q < sw; ++q) phase[q] = phases + q * phase_len;
        float* ph0 = phases;
        float* ph1 = ph0 + phase_len;
        float* ph2 = ph1 + phase_len;
        float* ph3 = ph2 + phase_len;
        for (size_t j = 0; j < phase_len; j += N) {
          V a, b, c, e;
          if (sw == 2) {
            hn::LoadInterleaved2(d, row + 2 * j, a, b);
          } else if (sw == 3) {
            hn::LoadInterleaved3(d, row + 3 * j, a, b, c);
            hn::StoreU(c, d, ph2 + j);
          } else {
            hn::LoadInterleaved4(d, row + 4 * j, a, b, c, e);
            hn::StoreU(c, d, ph2 + j);
            hn::StoreU(e, d, ph3 + j);
          }
          hn::StoreU(a, d, ph0 + j);
          hn::StoreU(b, d, ph1 + j);
        }
      } else {
        for (size_t q = 0; q < sw; ++q) {
          float* ph = phases + q * phase_len;
          for (size_t j = 0; j < phase_len; ++j) ph[j] = row[j * sw + q];
        }
      }
      // Horizontal: column j of the window at output ow is padded-row
      // element ow * sw + j = phase (j % sw), index ow + j / sw.
      const V scale = hn::Set(d, kMax ? 1.0f : p.row_scale[oh]);
      float* yrow = yp + oh * out_w;
      for (size_t ow = 0; ow < out_w; ow += N) {
        V acc;
        if (sw <= 4) {
          acc = hn::LoadU(d, phase[0] + ow);
          for (size_t j = 1; j < kw; ++j) {
            acc = Combine<kMax>(acc, hn::LoadU(d, phase[j % sw] + ow + j / sw));
          }
        } else {
          acc = hn::LoadU(d, phases + ow);
          for (size_t j = 1; j < kw; ++j) {
            acc = Combine<kMax>(
                acc, hn::LoadU(d, phases + (j % sw) * phase_len + ow + j / sw));
          }
        }
        if (!kMax)
          acc = hn::Mul(acc, hn::Mul(scale, hn::LoadU(d, col_scale + ow)));
        if (ow + N <= out_w) {
          hn::StoreU(acc, d, yrow + ow);
        } else {
          hn::Store(acc, d, last);
          for (size_t k = 0; ow + k < out_w; ++k) yrow[ow + k] = last[k];
        }
      }
    }
  }
}

// One output of a 2-D window pool, scalar: output column ow of the output
// row whose window covers `rows` input rows from r0 (already clipped; kRows
// when known at compile time, else 0).
template <bool kMax, size_t kRows>
HWY_INLINE float ScalarOutput(const pool_internal::PlanePlan& p,
                              const float* HWY_RESTRICT r0, size_t rows_runtime,
                              size_t ow) {
  const size_t rows = kRows != 0 ? kRows : rows_runtime;
  const size_t b = p.col_begin[ow], e = p.col_end[ow];
  float v = kMax ? -HUGE_VALF : 0.0f;
  for (size_t c = b; c < e; ++c) {
    for (size_t r = 0; r < rows; ++r) {
      v = CombineScalar<kMax>(v, r0[r * p.in_w + c]);
    }
  }
  return v;
}

// Outputs ow .. ow + N - 1 of one output row, horizontal stride kStride (1
// or 2), from the input columns base .. (all inside the input row): the rows
// are combined first, then (stride 2) split into even and odd columns in
// registers. kRows / kKw: the window's row count and width when known at
// compile time (0: the runtime `rows` / `kw`), so that the common 2x2 and
// 3x3 windows run without loop control.
//
// Stride 2 reads the columns in pairs, so for an odd width it would load one
// column past the last it uses; kTight avoids that for the last vector of a
// row (one more shuffle), so that it can end at the last input column.
template <bool kMax, size_t kStride, size_t kRows, size_t kKw,
          bool kTight = false, class D>
HWY_INLINE hn::Vec<D> VectorOutput(D d, const float* HWY_RESTRICT r0,
                                   size_t rows_runtime, size_t in_w,
                                   size_t kw_runtime, size_t base) {
  using V = hn::Vec<D>;
  const size_t rows = kRows != 0 ? kRows : rows_runtime;
  const size_t kw = kKw != 0 ? kKw : kw_runtime;
  const float* HWY_RESTRICT p = r0 + base;
  if constexpr (kStride == 1) {
    V acc = hn::LoadU(d, p);
    for (size_t r = 1; r < rows; ++r) {
      acc = Combine<kMax>(acc, hn::LoadU(d, p + r * in_w));
    }
    for (size_t j = 1; j < kw; ++j) {
      for (size_t r = 0; r < rows; ++r) {
        acc = Combine<kMax>(acc, hn::LoadU(d, p + r * in_w + j));
      }
    }
    return acc;
  } else {
#if HWY_TARGET == HWY_SCALAR
    return hn::Zero(d);  // not used: WindowPlanes takes PhasePlanes
#else
    const size_t N = hn::Lanes(d);
    if (kKw == 3 && !kTight) {
      // Columns 0, 1, 2 of each window: even(pair at 0) | odd(pair at 0) |
      // even(pair at 2). The two evens come from one shuffle of the
      // combined pairs (a lane permutation commutes with the max / sum).
      V lo = hn::LoadU(d, p), hi = hn::LoadU(d, p + N);
      V lo2 = hn::LoadU(d, p + 2), hi2 = hn::LoadU(d, p + 2 + N);
      for (size_t r = 1; r < rows; ++r) {
        const float* q = p + r * in_w;
        lo = Combine<kMax>(lo, hn::LoadU(d, q));
        hi = Combine<kMax>(hi, hn::LoadU(d, q + N));
        lo2 = Combine<kMax>(lo2, hn::LoadU(d, q + 2));
        hi2 = Combine<kMax>(hi2, hn::LoadU(d, q + 2 + N));
      }
      const V evens =
          hn::ConcatEven(d, Combine<kMax>(hi, hi2), Combine<kMax>(lo, lo2));
      return Combine<kMax>(evens, hn::ConcatOdd(d, hi, lo));
    }
    V acc;
    for (size_t m = 0; 2 * m < kw; ++m) {
      // Only the even columns of the last pair when kw is odd: there, the
      // tight form loads the upper vector one column early and takes its
      // odd lanes.
      const bool tight = kTight && 2 * m + 1 == kw;
      const size_t hi_offset = 2 * m + N - (tight ? 1 : 0);
      V lo = hn::LoadU(d, p + 2 * m);
      V hi = hn::LoadU(d, p + hi_offset);
      for (size_t r = 1; r < rows; ++r) {
        lo = Combine<kMax>(lo, hn::LoadU(d, p + r * in_w + 2 * m));
        hi = Combine<kMax>(hi, hn::LoadU(d, p + r * in_w + hi_offset));
      }
      if (tight) {
        const V even = hn::ConcatUpperLower(d, hn::ConcatOdd(d, hi, lo),
                                            hn::ConcatEven(d, hi, lo));
        acc = m == 0 ? even : Combine<kMax>(acc, even);
        break;
      }
      const V even = hn::ConcatEven(d, hi, lo);  // columns 2m
      acc = m == 0 ? even : Combine<kMax>(acc, even);
      if (2 * m + 1 < kw) {
        acc = Combine<kMax>(acc, hn::ConcatOdd(d, hi, lo));  // columns 2m + 1
      }
    }
    return acc;
#endif
  }
}

// Planes [begin, end) of a 2-D window pool with horizontal stride kStride
// (1 or 2) and, when not 0, a kKh x kKw window: the outputs whose vector of
// windows lies inside the input row are computed straight from the input
// rows in registers (a last vector overlapping its predecessor where the
// count is not a multiple of N), the few at the edges (padding, ceil_mode
// overhang) one by one.
template <bool kMax, size_t kStride, size_t kKh, size_t kKw>
void FusedPlanes(const pool_internal::PlanePlan& p, const float* HWY_RESTRICT x,
                 float* HWY_RESTRICT y, size_t begin, size_t end) {
  const hn::ScalableTag<float> d;
  using V = hn::Vec<decltype(d)>;
  const size_t N = hn::Lanes(d);
  const size_t in_w = p.in_w, out_w = p.out_w, kw = p.kernel_w, pw = p.pad_w;
  // A vector of outputs starting at ow reads input columns
  // [ow * kStride - pw, + reach); the tight form (odd widths, stride 2)
  // exactly the columns it uses, (N - 1) * kStride + kw.
  const size_t reach_tight = (N - 1) * kStride + kw;
  const size_t reach = kStride == 1 ? reach_tight : 2 * ((kw - 1) / 2) + 2 * N;
  const size_t lo = std::min((pw + kStride - 1) / kStride, out_w);
  size_t vec_end = lo;  // vectors cover outputs [lo, vec_end)
  size_t last_start = 0;
  // Vectors starting at loose_end or later need the tight form.
  size_t loose_end = 0;
  if (in_w + pw >= reach_tight && out_w >= N) {
    last_start = std::min((in_w + pw - reach_tight) / kStride, out_w - N);
    if (last_start >= lo) vec_end = last_start + N;
    if (in_w + pw >= reach) loose_end = (in_w + pw - reach) / kStride + 1;
  }
  for (size_t plane = begin; plane < end; ++plane) {
    const float* xp = x + plane * p.in_h * in_w;
    float* yp = y + plane * p.out_h * out_w;
    for (size_t oh = 0; oh < p.out_h; ++oh) {
      const float* r0 = xp + p.row_begin[oh] * in_w;
      const size_t rows = p.row_end[oh] - p.row_begin[oh];
      const float rs = kMax ? 1.0f : p.row_scale[oh];
      float* yrow = yp + oh * out_w;
      const bool full = kKh != 0 && rows == kKh;
      for (size_t ow = lo; ow < vec_end; ow += N) {
        const size_t o = std::min(ow, last_start);
        const size_t base = o * kStride - pw;
        V acc;
        if (kStride == 2 && o >= loose_end) {
          acc = full ? VectorOutput<kMax, kStride, kKh, kKw, true>(
                           d, r0, rows, in_w, kw, base)
                     : VectorOutput<kMax, kStride, 0, kKw, true>(
                           d, r0, rows, in_w, kw, base);
        } else {
          acc = full ? VectorOutput<kMax, kStride, kKh, kKw>(d, r0, rows, in_w,
                                                             kw, base)
                     : VectorOutput<kMax, kStride, 0, kKw>(d, r0, rows, in_w,
                                                           kw, base);
        }
        if (!kMax) {
          acc = hn::Mul(acc,
                        hn::Mul(hn::Set(d, rs), hn::LoadU(d, &p.col_scale[o])));
        }
        hn::StoreU(acc, d, yrow + o);
      }
      for (size_t ow = 0; ow < lo; ++ow) {
        const float v = full ? ScalarOutput<kMax, kKh>(p, r0, rows, ow)
                             : ScalarOutput<kMax, 0>(p, r0, rows, ow);
        yrow[ow] = kMax ? v : v * (rs * p.col_scale[ow]);
      }
      for (size_t ow = vec_end; ow < out_w; ++ow) {
        const float v = full ? ScalarOutput<kMax, kKh>(p, r0, rows, ow)
                             : ScalarOutput<kMax, 0>(p, r0, rows, ow);
        yrow[ow] = kMax ? v : v * (rs * p.col_scale[ow]);
      }
    }
  }
}

template <bool kMax, size_t kStride>
void FusedPlanesAnyWindow(const pool_internal::PlanePlan& p, const float* x,
                          float* y, size_t begin, size_t end) {
  if (p.kernel_h == 2 && p.kernel_w == 2) {
    FusedPlanes<kMax, kStride, 2, 2>(p, x, y, begin, end);
  } else if (p.kernel_h == 3 && p.kernel_w == 3) {
    FusedPlanes<kMax, kStride, 3, 3>(p, x, y, begin, end);
  } else {
    FusedPlanes<kMax, kStride, 0, 0>(p, x, y, begin, end);
  }
}

template <bool kMax>
void WindowPlanes(const pool_internal::PlanePlan& p, const float* x, float* y,
                  size_t begin, size_t end) {
  if (p.stride_w == 1) {
    FusedPlanesAnyWindow<kMax, 1>(p, x, y, begin, end);
#if HWY_TARGET != HWY_SCALAR  // one-lane vectors have no even/odd halves
  } else if (p.stride_w == 2) {
    FusedPlanesAnyWindow<kMax, 2>(p, x, y, begin, end);
#endif
  } else {
    PhasePlanes<kMax>(p, x, y, begin, end);
  }
}

void PoolWindowPlanesF32(const pool_internal::PlanePlan& p, const float* x,
                         float* y, size_t begin, size_t end) {
  if (p.max) {
    WindowPlanes<true>(p, x, y, begin, end);
  } else {
    WindowPlanes<false>(p, x, y, begin, end);
  }
}

}  // namespace foldrt::ops::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#if HWY_ONCE

namespace foldrt::ops {

HWY_EXPORT(PoolWindowPlanesF32);

pool_internal::WindowPlanesFn pool_internal::ChosenWindowPlanes() {
  ChooseHwyTarget();
  return HWY_DYNAMIC_DISPATCH(PoolWindowPlanesF32);
}

}  // namespace foldrt::ops

#endif  // HWY_ONCE
