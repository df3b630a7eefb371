// Highway Sigmoid and Swish kernels: per-target code comes from
// eltwise-inl.h; this file exports it for dynamic dispatch.

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "ops/eltwise_hwy.cc"
#include "hwy/foreach_target.h"  // IWYU pragma: keep
#include "hwy/highway.h"
#include "ops/eltwise-inl.h"

#if HWY_ONCE

#include "ops/eltwise.h"

namespace foldrt {
namespace ops {

HWY_EXPORT(SigmoidSpanF32);
HWY_EXPORT(SwishSpanF32);

void SigmoidF32(const float* x, float* y, size_t n) {
  HWY_DYNAMIC_DISPATCH(SigmoidSpanF32)(x, y, n);
}

void SwishF32(const float* x, float* y, size_t n) {
  HWY_DYNAMIC_DISPATCH(SwishSpanF32)(x, y, n);
}

}  // namespace ops
}  // namespace foldrt

#endif  // HWY_ONCE
