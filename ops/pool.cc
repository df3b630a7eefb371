// ops::Pool: oneDNN pooling on plain and channel-blocked layouts, plus
// Highway kernels for plain NCHW planes (see pool.h for which runs when).
// This file is compiled once per Highway target through foreach_target.h:
// the per-target kernels come first, the rest only once (HWY_ONCE).

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "ops/pool.cc"
#include "hwy/foreach_target.h"  // IWYU pragma: keep
#include "hwy/highway.h"

#ifndef FOLDRT_OPS_POOL_PLAN_DEFINED_
#define FOLDRT_OPS_POOL_PLAN_DEFINED_

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace foldrt::ops::pool_internal {

// A 2-D window over (H, W) planes of a plain NCHW tensor, dilation 1 (1-D
// windows as a unit height). Everything the per-target kernel needs,
// precomputed once per input shape.
struct PlanePlan {
  bool max = true;
  size_t in_h = 0, in_w = 0, out_h = 0, out_w = 0;
  size_t kernel_h = 0, kernel_w = 0, stride_w = 0, pad_w = 0;  // begin pad
  // Input rows [row_begin[oh], row_end[oh]) feed output row oh (clipped to
  // the input; never empty).
  std::vector<size_t> row_begin, row_end;
  std::vector<size_t> col_begin, col_end;  // the same along W
  // Average: 1 / divisor along each axis; the divisor of (oh, ow) is their
  // product (the count of window positions is separable).
  std::vector<float> row_scale, col_scale;
  // Width of the padded row the horizontal pass reads: begin pad, input,
  // end pad (ceil_mode windows included).
  size_t padded_w = 0;
};

}  // namespace foldrt::ops::pool_internal

#endif  // FOLDRT_OPS_POOL_PLAN_DEFINED_

HWY_BEFORE_NAMESPACE();
namespace foldrt::ops::HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

// The largest vector of floats any target of this build may have (stack
// buffers for tails: Highway 1.0.3 has no StoreN).
constexpr size_t kPoolMaxLanes = HWY_MAX_BYTES / sizeof(float);

template <bool kMax, class V>
HWY_INLINE V Combine(V a, V b) {
  if constexpr (kMax) {
    return hn::Max(a, b);
  } else {
    return hn::Add(a, b);
  }
}

template <bool kMax>
HWY_INLINE float CombineScalar(float a, float b) {
  if constexpr (kMax) {
    return b > a ? b : a;
  } else {
    return a + b;
  }
}

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

// Planes [begin, end) of a global pool: y[plane] = max or mean of the
// `spatial` contiguous floats of the plane.
template <bool kMax>
void GlobalPlanes(const float* HWY_RESTRICT x, size_t spatial,
                  float* HWY_RESTRICT y, size_t begin, size_t end) {
  const hn::ScalableTag<float> d;
  using V = hn::Vec<decltype(d)>;
  const size_t N = hn::Lanes(d);
  const float identity = kMax ? -HUGE_VALF : 0.0f;
  const float inv = 1.0f / static_cast<float>(spatial);
  for (size_t plane = begin; plane < end; ++plane) {
    const float* xp = x + plane * spatial;
    float r = identity;
    size_t i = 0;
    if (spatial >= N) {
      V a0 = hn::LoadU(d, xp), a1 = hn::Set(d, identity);
      i = N;
      for (; i + 2 * N <= spatial; i += 2 * N) {
        a0 = Combine<kMax>(a0, hn::LoadU(d, xp + i));
        a1 = Combine<kMax>(a1, hn::LoadU(d, xp + i + N));
      }
      if (i + N <= spatial) {
        a0 = Combine<kMax>(a0, hn::LoadU(d, xp + i));
        i += N;
      }
      if (kMax && i < spatial) {
        // The max is idempotent: the last whole vector may overlap.
        a1 = Combine<kMax>(a1, hn::LoadU(d, xp + spatial - N));
        i = spatial;
      }
      a0 = Combine<kMax>(a0, a1);
      r = kMax ? hn::GetLane(hn::MaxOfLanes(d, a0))
               : hn::GetLane(hn::SumOfLanes(d, a0));
    }
    for (; i < spatial; ++i) r = CombineScalar<kMax>(r, xp[i]);
    y[plane] = kMax ? r : r * inv;
  }
}

void PoolGlobalPlanesF32(bool max, const float* x, size_t spatial, float* y,
                         size_t begin, size_t end) {
  if (max) {
    GlobalPlanes<true>(x, spatial, y, begin, end);
  } else {
    GlobalPlanes<false>(x, spatial, y, begin, end);
  }
}

}  // namespace foldrt::ops::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#if HWY_ONCE

#include <omp.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <string>
#include <tuple>
#include <utility>

#include "ops/batch_norm.h"
#include "ops/onednn_util.h"
#include "ops/pool.h"
#include "ops/ref/pool_ref.h"
#include "ops/ref/shape_util.h"
#include "core/error.h"
#include "core/tensor.h"

namespace foldrt::ops {

HWY_EXPORT(PoolWindowPlanesF32);
HWY_EXPORT(PoolGlobalPlanesF32);

namespace {

bool IsGlobal(PoolKind kind) {
  return kind == PoolKind::kGlobalAverage || kind == PoolKind::kGlobalMax;
}

const char* KindName(PoolKind kind) {
  switch (kind) {
    case PoolKind::kMax:
      return "MaxPool";
    case PoolKind::kAverage:
      return "AveragePool";
    case PoolKind::kGlobalAverage:
      return "GlobalAveragePool";
    case PoolKind::kGlobalMax:
      return "GlobalMaxPool";
  }
  return "?";
}

// HWY_DYNAMIC_DISPATCH hands out an initializing stub until a target is
// chosen; choose first so that the pointer taken is the kernel itself.
void ChooseHwyTarget() {
  hwy::ChosenTarget& chosen = hwy::GetChosenTarget();
  if (!chosen.IsInitialized()) chosen.Update(hwy::SupportedTargets());
}

// Below this many input floats per thread a second thread costs more (an
// OpenMP fork/join is a few microseconds) than it saves.
constexpr size_t kMinFloatsPerThread = 64 * 1024;

// Calls fn(begin, end) on contiguous slices of [0, planes), one per thread.
template <class Fn>
void ParallelPlanes(size_t planes, size_t plane_floats, int threads, Fn&& fn) {
  size_t want = std::min<size_t>(static_cast<size_t>(std::max(threads, 1)),
                                 planes * plane_floats / kMinFloatsPerThread);
  want = std::min(want, planes);
  if (want <= 1) {
    fn(size_t{0}, planes);
    return;
  }
#pragma omp parallel num_threads(static_cast <int>(want))
  {
    const size_t t = static_cast<size_t>(omp_get_thread_num());
    const size_t nt = static_cast<size_t>(omp_get_num_threads());
    fn(planes * t / nt, planes * (t + 1) / nt);
  }
}

// What one Run does for one (dims, layout, threads), built on first use.
// Immutable once built.
struct PoolEntry {
  enum class Path { kOneDnn, kHwyWindow, kHwyGlobal, kChannelsLastGlobal };
  Path path = Path::kOneDnn;

  // kOneDnn: the primitive (src/dst in the caller's layout, so it never
  // reorders) and the rescaling its include-padding average needs under
  // ceil_mode (see pool.h): per output position along each of the (lifted)
  // three spatial axes D, H, W, kernel size / window positions inside the
  // user-given padding. Empty when every factor is 1.
  onednn::PlainIoPrimitive primitive;
  std::array<std::vector<float>, 3> rescale;
  int64_t planes = 0;  // N * channel blocks (N * C for plain layouts)
  size_t block = 1;    // floats per (plane, spatial position)

  // The Highway paths: planes of `plane_floats` input floats each.
  pool_internal::PlanePlan plan;  // kHwyWindow
  size_t plane_floats = 0;

  void Rescale(float* y) const {
    const size_t d = rescale[0].size(), h = rescale[1].size(),
                 w = rescale[2].size();
    for (int64_t p = 0; p < planes; ++p) {
      for (size_t i = 0; i < d; ++i) {
        for (size_t j = 0; j < h; ++j) {
          const float f = rescale[0][i] * rescale[1][j];
          float* row = y + ((p * d + i) * h + j) * w * block;
          for (size_t k = 0; k < w; ++k) {
            const float g = f * rescale[2][k];
            for (size_t l = 0; l < block; ++l) row[k * block + l] *= g;
          }
        }
      }
    }
  }
};

}  // namespace

struct Pool::Impl {
  // (input dims, layout, thread count).
  using Key = std::tuple<std::vector<int64_t>, Layout, int>;

  PoolAttributes attrs;    // window vectors filled with ONNX defaults
  ref::PoolParams params;  // the same, for the reference shape rules
  onednn::SharedCache<Key, PoolEntry> cache;

  // Whether the Highway plane kernels take this plain-layout problem: the
  // global kinds, and 1-D / 2-D windows without dilation.
  bool UsesHwy(const std::vector<int64_t>& x_dims) const {
    if (IsGlobal(attrs.kind)) return true;
    return x_dims.size() <= 4 &&
           std::all_of(attrs.dilations.begin(), attrs.dilations.end(),
                       [](int64_t d) { return d == 1; });
  }

  std::shared_ptr<const PoolEntry> BuildHwy(
      const std::vector<int64_t>& x_dims,
      const std::vector<int64_t>& y_dims) const {
    auto entry = std::make_shared<PoolEntry>();
    entry->planes = x_dims[0] * x_dims[1];
    entry->plane_floats = static_cast<size_t>(ShapeNumElements(
        std::vector<int64_t>(x_dims.begin() + 2, x_dims.end())));
    if (IsGlobal(attrs.kind)) {
      entry->path = PoolEntry::Path::kHwyGlobal;
      return entry;
    }
    entry->path = PoolEntry::Path::kHwyWindow;
    pool_internal::PlanePlan& p = entry->plan;
    p.max = attrs.kind == PoolKind::kMax;
    // 1-D windows: a unit height. Axis 0 = H, 1 = W.
    const bool lift = x_dims.size() == 3;
    const size_t first = lift ? 1 : 0;
    int64_t in[2] = {1, 1}, out[2] = {1, 1}, kernel[2] = {1, 1},
            stride[2] = {1, 1}, pad_begin[2] = {0, 0}, pad_end[2] = {0, 0};
    for (size_t a = first; a < 2; ++a) {
      const size_t i = a - first;
      in[a] = x_dims[2 + i];
      out[a] = y_dims[2 + i];
      kernel[a] = attrs.kernel[i];
      stride[a] = attrs.strides[i];
      pad_begin[a] = attrs.pads_begin[i];
      pad_end[a] = attrs.pads_end[i];
    }
    p.in_h = static_cast<size_t>(in[0]);
    p.in_w = static_cast<size_t>(in[1]);
    p.out_h = static_cast<size_t>(out[0]);
    p.out_w = static_cast<size_t>(out[1]);
    p.kernel_h = static_cast<size_t>(kernel[0]);
    p.kernel_w = static_cast<size_t>(kernel[1]);
    p.stride_w = static_cast<size_t>(stride[1]);
    p.pad_w = static_cast<size_t>(pad_begin[1]);
    p.padded_w = static_cast<size_t>(
        std::max(pad_begin[1] + in[1], (out[1] - 1) * stride[1] + kernel[1]));
    // Window o along an axis covers [o * s - pad_begin, + k): inside the
    // input [begin, end); the divisor counts those (exclude padding) or the
    // positions inside the padded input [-pad_begin, in + pad_end) (include
    // padding, PyTorch's rule for ceil_mode windows past the end padding).
    auto divisors = [&](size_t a, std::vector<size_t>* begins,
                        std::vector<size_t>* ends, std::vector<float>* scale) {
      for (int64_t o = 0; o < out[a]; ++o) {
        const int64_t start = o * stride[a] - pad_begin[a];
        const int64_t b = std::max<int64_t>(start, 0);
        const int64_t e = std::min(start + kernel[a], in[a]);
        begins->push_back(static_cast<size_t>(b));
        ends->push_back(static_cast<size_t>(e));
        const int64_t count =
            attrs.count_include_pad
                ? std::min(start + kernel[a], in[a] + pad_end[a]) - start
                : e - b;
        scale->push_back(1.0f / static_cast<float>(count));
      }
    };
    divisors(0, &p.row_begin, &p.row_end, &p.row_scale);
    divisors(1, &p.col_begin, &p.col_end, &p.col_scale);
    return entry;
  }

  std::shared_ptr<const PoolEntry> BuildOneDnn(
      const std::vector<int64_t>& x_dims, const std::vector<int64_t>& y_dims,
      Layout layout) const {
    using dnnl::memory;
    // Blocked layouts: the primitive runs on the padded channel count, so
    // that its descriptors have no padded area. The padding channels are
    // then pooled like real ones, zero in, zero out: y's padding does not
    // rest on oneDNN's zero-padding conventions (which have changed between
    // versions: some zero-filled a padded area whenever a handle was set,
    // which here would write the caller's const x).
    const int64_t block = static_cast<int64_t>(ChannelBlock(layout));
    const int64_t channels = (x_dims[1] + block - 1) / block * block;
    // Every pooling runs on three spatial axes or fewer; global pooling
    // reduces the flattened spatial extent (any rank; for a blocked layout
    // (1, H * W) is the same bytes as (H, W)), 1-D windows run as 2-D with
    // a unit height, through the same kernel selection as images.
    memory::dims src_dims = {x_dims[0], channels};
    memory::dims dst_dims = {y_dims[0], channels};
    memory::dims kernel, strides, dilations, pads_begin, pads_end;
    std::vector<int64_t> user_pads_end;
    dnnl::algorithm algorithm;
    if (IsGlobal(attrs.kind)) {
      const int64_t spatial = ShapeNumElements(
          std::vector<int64_t>(x_dims.begin() + 2, x_dims.end()));
      src_dims.insert(src_dims.end(), {1, spatial});
      dst_dims.insert(dst_dims.end(), {1, 1});
      kernel = {1, spatial};
      strides = {1, 1};
      dilations = {0, 0};
      pads_begin = pads_end = {0, 0};
      user_pads_end = {0, 0};
      algorithm = attrs.kind == PoolKind::kGlobalMax
                      ? dnnl::algorithm::pooling_max
                      : dnnl::algorithm::pooling_avg_exclude_padding;
    } else {
      const bool lift = x_dims.size() == 3;
      auto spatial = [lift](const std::vector<int64_t>& v, int64_t unit) {
        memory::dims out(v.begin(), v.end());
        if (lift) out.insert(out.begin(), unit);
        return out;
      };
      src_dims.insert(src_dims.end(), x_dims.begin() + 2, x_dims.end());
      dst_dims.insert(dst_dims.end(), y_dims.begin() + 2, y_dims.end());
      if (lift) {
        src_dims.insert(src_dims.begin() + 2, 1);
        dst_dims.insert(dst_dims.begin() + 2, 1);
      }
      // oneDNN computes out = (in + pads - dilated kernel) / stride + 1,
      // rounding down: under ceil_mode the end pad grows until that gives
      // the reference's size. The extra padding never wins a max (oneDNN
      // pads max pooling with the lowest float) and is excluded from an
      // exclude-padding average.
      std::vector<int64_t> grown = attrs.pads_end;
      for (size_t i = 0; i < grown.size(); ++i) {
        const int64_t dilated = (attrs.kernel[i] - 1) * attrs.dilations[i] + 1;
        const int64_t needed = (y_dims[2 + i] - 1) * attrs.strides[i] +
                               dilated - x_dims[2 + i] - attrs.pads_begin[i];
        grown[i] = std::max(grown[i], needed);
      }
      std::vector<int64_t> dnnl_dilations = attrs.dilations;
      for (int64_t& d : dnnl_dilations) d -= 1;  // oneDNN: 0 = dense
      kernel = spatial(attrs.kernel, 1);
      strides = spatial(attrs.strides, 1);
      dilations = spatial(dnnl_dilations, 0);
      pads_begin = spatial(attrs.pads_begin, 0);
      pads_end = spatial(grown, 0);
      user_pads_end = spatial(attrs.pads_end, 0);
      algorithm = attrs.kind == PoolKind::kMax ? dnnl::algorithm::pooling_max
                  : attrs.count_include_pad
                      ? dnnl::algorithm::pooling_avg_include_padding
                      : dnnl::algorithm::pooling_avg_exclude_padding;
    }

    auto& engine = onednn::CpuEngine();
    const memory::desc src_md = onednn::LayoutDesc(src_dims, layout);
    const memory::desc dst_md = onednn::LayoutDesc(dst_dims, layout);
    dnnl::pooling_v2_forward::desc desc(
        dnnl::prop_kind::forward_inference, algorithm, src_md, dst_md, strides,
        kernel, dilations, pads_begin, pads_end);
    dnnl::pooling_v2_forward::primitive_desc pd(desc, onednn::MakeAttr(),
                                                engine);
    auto entry = std::make_shared<PoolEntry>();
    entry->primitive.primitive = dnnl::pooling_v2_forward(pd);
    // Fully specified formats: the primitive takes them as they are, so
    // SetIo prepares no reorder.
    entry->primitive.SetIo(src_md, dst_md, pd.src_desc(), pd.dst_desc(),
                           pd.scratchpad_desc());
    // Rescale walks (plane, spatial position, `block` floats): per channel
    // block for blocked layouts, per image with all C channels for nhwc.
    entry->planes =
        layout == Layout::kNhwc ? x_dims[0] : x_dims[0] * (channels / block);
    entry->block =
        static_cast<size_t>(layout == Layout::kNhwc ? channels : block);

    if (algorithm == dnnl::algorithm::pooling_avg_include_padding &&
        pads_end != user_pads_end) {
      // Spatial axes of the lifted problem, right-aligned into D, H, W.
      const size_t rank = kernel.size();
      bool any = false;
      std::array<std::vector<float>, 3> rescale;
      for (size_t a = 0; a < 3; ++a) {
        if (a < 3 - rank) {
          rescale[a] = {1.0f};
          continue;
        }
        const size_t i = a - (3 - rank);
        const int64_t in = src_dims[2 + i], out = dst_dims[2 + i];
        const int64_t limit = in + user_pads_end[i];  // avg: no dilation
        for (int64_t o = 0; o < out; ++o) {
          const int64_t start = o * strides[i] - pads_begin[i];
          const int64_t inside = std::min(start + kernel[i], limit) - start;
          rescale[a].push_back(static_cast<float>(kernel[i]) /
                               static_cast<float>(inside));
          any |= inside != kernel[i];
        }
      }
      if (any) entry->rescale = std::move(rescale);
    }
    return entry;
  }
};

Pool::Pool(PoolAttributes attrs) {
  auto impl = std::make_unique<Impl>();
  if (!IsGlobal(attrs.kind)) {
    const std::string what = std::string(KindName(attrs.kind)) +
                             " with kernel " + ShapeToString(attrs.kernel);
    const size_t rank = attrs.kernel.size();
    if (rank < 1 || rank > 3) {
      throw InvalidArgumentError(what + ": kernel_shape needs 1 to 3 values");
    }
    ref::PoolParams params = ref::DefaultPoolParams(attrs.kernel);
    if (!attrs.strides.empty()) params.strides = attrs.strides;
    if (!attrs.dilations.empty()) params.dilations = attrs.dilations;
    if (!attrs.pads_begin.empty()) params.pads_begin = attrs.pads_begin;
    if (!attrs.pads_end.empty()) params.pads_end = attrs.pads_end;
    params.ceil_mode = attrs.ceil_mode;
    params.count_include_pad = attrs.count_include_pad;
    ref::CheckWindowParam(what, "kernel_shape", params.kernel, rank, 1);
    ref::CheckWindowParam(what, "strides", params.strides, rank, 1);
    ref::CheckWindowParam(what, "dilations", params.dilations, rank, 1);
    ref::CheckWindowParam(what, "pads (begin)", params.pads_begin, rank, 0);
    ref::CheckWindowParam(what, "pads (end)", params.pads_end, rank, 0);
    for (size_t i = 0; i < rank; ++i) {
      const int64_t dilated = (params.kernel[i] - 1) * params.dilations[i] + 1;
      if (params.pads_begin[i] >= dilated || params.pads_end[i] >= dilated) {
        throw InvalidArgumentError(what + ": pads must be smaller than the " +
                                   "(dilated) kernel");
      }
    }
    if (attrs.kind == PoolKind::kAverage &&
        std::any_of(params.dilations.begin(), params.dilations.end(),
                    [](int64_t d) { return d != 1; })) {
      throw UnsupportedError(what + ": dilations " +
                             ShapeToString(params.dilations) +
                             " are not supported for AveragePool");
    }
    attrs.strides = params.strides;
    attrs.dilations = params.dilations;
    attrs.pads_begin = params.pads_begin;
    attrs.pads_end = params.pads_end;
    impl->params = std::move(params);
  }
  impl->attrs = std::move(attrs);
  impl_ = std::move(impl);
}

Pool::~Pool() = default;
Pool::Pool(Pool&&) noexcept = default;
Pool& Pool::operator=(Pool&&) noexcept = default;

PoolKind Pool::kind() const { return impl_->attrs.kind; }

std::vector<int64_t> Pool::OutputDims(
    const std::vector<int64_t>& input_dims) const {
  if (IsGlobal(impl_->attrs.kind)) {
    std::vector<int64_t> y_dims = ref::GlobalPoolOutputShape(input_dims);
    for (size_t i = 2; i < input_dims.size(); ++i) {
      if (input_dims[i] == 0) {
        throw InvalidArgumentError(std::string(KindName(impl_->attrs.kind)) +
                                   " of " + ShapeToString(input_dims) +
                                   ": empty spatial extent");
      }
    }
    return y_dims;
  }
  if (input_dims.size() != impl_->attrs.kernel.size() + 2) {
    throw InvalidArgumentError(std::string(KindName(impl_->attrs.kind)) +
                               " of " + ShapeToString(input_dims) +
                               ": a " +
                               std::to_string(impl_->attrs.kernel.size()) +
                               "-D window needs an input of rank " +
                               std::to_string(impl_->attrs.kernel.size() + 2));
  }
  return ref::PoolOutputShape(input_dims, impl_->params);
}

bool Pool::SupportsLayout(Layout layout, size_t rank) const {
  switch (layout) {
    case Layout::kNchw:
      return true;
    case Layout::kNhwc:
    case Layout::kNChw8c:
    case Layout::kNChw16c:
      return rank == 4;
  }
  return false;
}

void Pool::Run(const float* x, const std::vector<int64_t>& x_dims, float* y,
               int threads) const {
  Run(x, x_dims, Layout::kNchw, y, threads);
}

void Pool::Run(const float* x, const std::vector<int64_t>& x_dims,
               Layout layout, float* y, int threads) const {
  if (!SupportsLayout(layout, x_dims.size())) {
    throw InvalidArgumentError(
        std::string(KindName(impl_->attrs.kind)) + " of " +
        ShapeToString(x_dims) + ": layout " + LayoutName(layout) +
        " is not supported for rank " + std::to_string(x_dims.size()) +
        " (nchw any rank, nhwc / nChw8c / nChw16c rank 4)");
  }
  threads = ResolveThreadCount(threads);
  try {
    onednn::ScopedOmpThreads scoped_threads(threads);
    const auto entry =
        impl_->cache.GetOrBuild(Impl::Key(x_dims, layout, threads), [&] {
          const std::vector<int64_t> y_dims = OutputDims(x_dims);
          // Zero batch or channels: valid, nothing to compute.
          if (y_dims[0] == 0 || y_dims[1] == 0) {
            return std::shared_ptr<const PoolEntry>();
          }
          if (layout == Layout::kNchw && impl_->UsesHwy(x_dims)) {
            return impl_->BuildHwy(x_dims, y_dims);
          }
          // (SupportsLayout admits nhwc for rank 4 only.)
          if (layout == Layout::kNhwc && IsGlobal(impl_->attrs.kind) &&
              x_dims[2] * x_dims[3] > 0) {
            const int64_t spatial = x_dims[2] * x_dims[3];
            // Channels-last global pooling: each pixel's channels are one
            // contiguous row, so the reduction runs down the rows with the
            // channels in vector lanes (oneDNN's nhwc global pooling took
            // 3-5x longer on EfficientNet's 7x7 and 14x14 heads).
            auto built = std::make_shared<PoolEntry>();
            built->path = PoolEntry::Path::kChannelsLastGlobal;
            built->planes = x_dims[0];
            built->plane_floats = static_cast<size_t>(spatial);
            built->block = static_cast<size_t>(x_dims[1]);
            return std::shared_ptr<const PoolEntry>(std::move(built));
          }
          return impl_->BuildOneDnn(x_dims, y_dims, layout);
        });
    if (entry == nullptr) return;
    switch (entry->path) {
      case PoolEntry::Path::kHwyWindow: {
        ChooseHwyTarget();
        const auto kernel = HWY_DYNAMIC_DISPATCH(PoolWindowPlanesF32);
        ParallelPlanes(static_cast<size_t>(entry->planes), entry->plane_floats,
                       threads, [&](size_t begin, size_t end) {
                         kernel(entry->plan, x, y, begin, end);
                       });
        break;
      }
      case PoolEntry::Path::kHwyGlobal: {
        ChooseHwyTarget();
        const auto kernel = HWY_DYNAMIC_DISPATCH(PoolGlobalPlanesF32);
        const bool max = impl_->attrs.kind == PoolKind::kGlobalMax;
        ParallelPlanes(static_cast<size_t>(entry->planes), entry->plane_floats,
                       threads, [&](size_t begin, size_t end) {
                         kernel(max, x, entry->plane_floats, y, begin, end);
                       });
        break;
      }
      case PoolEntry::Path::kChannelsLastGlobal: {
        constexpr size_t kChunk = 64;  // channels per work item
        const size_t channels = entry->block;
        const size_t spatial = entry->plane_floats;
        const size_t chunks = (channels + kChunk - 1) / kChunk;
        const bool max = impl_->attrs.kind == PoolKind::kGlobalMax;
        ParallelPlanes(static_cast<size_t>(entry->planes) * chunks,
                       spatial * kChunk, threads,
                       [&](size_t begin, size_t end) {
                         float acc[kChunk];
                         for (size_t item = begin; item < end; ++item) {
                           const size_t n = item / chunks;
                           const size_t c0 = item % chunks * kChunk;
                           const size_t width = std::min(kChunk, channels - c0);
                           const float* xn = x + n * spatial * channels + c0;
                           std::copy(xn, xn + width, acc);
                           for (size_t p = 1; p < spatial; ++p) {
                             const float* row = xn + p * channels;
                             if (max) {
                               for (size_t j = 0; j < width; ++j) {
                                 acc[j] = row[j] > acc[j] ? row[j] : acc[j];
                               }
                             } else {
                               for (size_t j = 0; j < width; ++j)
                                 acc[j] += row[j];
                             }
                           }
                           const float scale = max ? 1.0f : 1.0f / spatial;
                           for (size_t j = 0; j < width; ++j) {
                             y[n * channels + c0 + j] = acc[j] * scale;
                           }
                         }
                       });
        break;
      }
      case PoolEntry::Path::kOneDnn:
        entry->primitive.Execute(x, y);
        if (!entry->rescale[0].empty()) entry->Rescale(y);
        break;
    }
  } catch (const dnnl::error& e) {
    onednn::ThrowOneDnnError(
        std::string("oneDNN ") + KindName(impl_->attrs.kind) + " on x " +
            ShapeToString(x_dims) + " " + LayoutName(layout),
        e);
  }
}

}  // namespace foldrt::ops

#endif  // HWY_ONCE
