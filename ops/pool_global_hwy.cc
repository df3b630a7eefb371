// The Highway kernel of global pooling (GlobalMaxPool, GlobalAveragePool)
// on the planes of a plain NCHW tensor, and the channels-last (nhwc) global
// pooling that runs down rows of channels. Compiled once per Highway target
// through foreach_target.h; the rest comes once (HWY_ONCE).

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "ops/pool_global_hwy.cc"
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <memory>
#include <vector>

#include "hwy/foreach_target.h"  // IWYU pragma: keep
#include "hwy/highway.h"
#include "ops/pool-inl.h"
#include "ops/pool_internal.h"

HWY_BEFORE_NAMESPACE();
namespace foldrt::ops::HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

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

namespace foldrt::ops {

HWY_EXPORT(PoolGlobalPlanesF32);

namespace pool_internal {

GlobalPlanesFn ChosenGlobalPlanes() {
  ChooseHwyTarget();
  return HWY_DYNAMIC_DISPATCH(PoolGlobalPlanesF32);
}

std::shared_ptr<const PoolEntry> BuildChannelsLastGlobalEntry(
    const std::vector<int64_t>& x_dims) {
  // Channels-last global pooling: each pixel's channels are one contiguous
  // row, so the reduction runs down the rows with the channels in vector
  // lanes (oneDNN's nhwc global pooling took 3-5x longer on EfficientNet's
  // 7x7 and 14x14 heads).
  auto entry = std::make_shared<PoolEntry>();
  entry->path = PoolEntry::Path::kChannelsLastGlobal;
  entry->planes = x_dims[0];
  entry->plane_floats = static_cast<size_t>(x_dims[2] * x_dims[3]);
  entry->block = static_cast<size_t>(x_dims[1]);
  return entry;
}

void RunChannelsLastGlobal(const PoolEntry& entry, bool max, const float* x,
                           float* y, int threads) {
  constexpr size_t kChunk = 64;  // channels per work item
  const size_t channels = entry.block;
  const size_t spatial = entry.plane_floats;
  const size_t chunks = (channels + kChunk - 1) / kChunk;
  ParallelPlanes(static_cast<size_t>(entry.planes) * chunks, spatial * kChunk,
                 threads, [&](size_t begin, size_t end) {
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
                         for (size_t j = 0; j < width; ++j) acc[j] += row[j];
                       }
                     }
                     const float scale = max ? 1.0f : 1.0f / spatial;
                     for (size_t j = 0; j < width; ++j) {
                       y[n * channels + c0 + j] = acc[j] * scale;
                     }
                   }
                 });
}

}  // namespace pool_internal
}  // namespace foldrt::ops

#endif  // HWY_ONCE
