// Per-target pieces the Highway pooling kernels share (ops/pool_window_hwy.cc,
// ops/pool_global_hwy.cc): combining two values the way a max or an average
// pool does. Included once per target through foreach_target.h, hence the
// toggling include guard Highway prescribes.

#if defined(FOLDRT_OPS_POOL_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef FOLDRT_OPS_POOL_INL_H_
#undef FOLDRT_OPS_POOL_INL_H_
#else
#define FOLDRT_OPS_POOL_INL_H_
#endif

#include <stddef.h>

#include "hwy/highway.h"

HWY_BEFORE_NAMESPACE();
namespace foldrt::ops::HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

// Max pooling takes the larger value, average pooling sums (and scales
// once at the end).
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

}  // namespace foldrt::ops::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#endif  // FOLDRT_OPS_POOL_INL_H_
