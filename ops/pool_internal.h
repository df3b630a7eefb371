// What the files of ops::Pool share: pool.cc (the op: attributes, cache,
// which path runs), pool_plan.cc (attribute resolution and the plane plan),
// pool_onednn.cc (the oneDNN path), pool_window_hwy.cc and
// pool_global_hwy.cc (the Highway kernels). Private to ops/.
#ifndef FOLDRT_OPS_POOL_INTERNAL_H_
#define FOLDRT_OPS_POOL_INTERNAL_H_

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

#include "hwy/targets.h"
#include "ops/layout.h"
#include "ops/onednn_util.h"
#include "ops/parallel_slices.h"
#include "ops/pool.h"
#include "ops/ref/pool_ref.h"

namespace foldrt::ops::pool_internal {

inline bool IsGlobal(PoolKind kind) {
  return kind == PoolKind::kGlobalAverage || kind == PoolKind::kGlobalMax;
}

// attrs' window vectors filled with the ONNX defaults (strides 1,
// dilations 1, pads 0) and checked, as Pool's constructor documents; the
// same as reference parameters. Not for the global kinds.
ref::PoolParams ResolveWindowAttributes(PoolAttributes* attrs);

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

// The plane plan of a resolved (ResolveWindowAttributes) 1-D or 2-D window
// over an input x_dims with output y_dims.
PlanePlan MakePlanePlan(const PoolAttributes& attrs,
                        const std::vector<int64_t>& x_dims,
                        const std::vector<int64_t>& y_dims);

// HWY_DYNAMIC_DISPATCH hands out an initializing stub until a target is
// chosen; choose first so that the pointer taken is the kernel itself.
inline void ChooseHwyTarget() {
  hwy::ChosenTarget& chosen = hwy::GetChosenTarget();
  if (!chosen.IsInitialized()) chosen.Update(hwy::SupportedTargets());
}

// The Highway kernels of the best target: planes [begin, end) of a window
// pool (pool_window_hwy.cc) and of a global pool over `spatial` floats per
// plane (pool_global_hwy.cc).
using WindowPlanesFn = void (*)(const PlanePlan& plan, const float* x, float* y,
                                size_t begin, size_t end);
WindowPlanesFn ChosenWindowPlanes();
using GlobalPlanesFn = void (*)(bool max, const float* x, size_t spatial,
                                float* y, size_t begin, size_t end);
GlobalPlanesFn ChosenGlobalPlanes();

// Below this many input floats per thread a second thread costs more (an
// OpenMP fork/join is a few microseconds) than it saves.
constexpr size_t kMinFloatsPerThread = 64 * 1024;

// Calls fn(begin, end) on contiguous slices of [0, planes), one per thread.
template <class Fn>
void ParallelPlanes(size_t planes, size_t plane_floats, int threads, Fn&& fn) {
  ParallelSlices(planes, plane_floats, threads, kMinFloatsPerThread,
                 /*granule=*/1, std::forward<Fn>(fn));
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
  PlanePlan plan;  // kHwyWindow
  size_t plane_floats = 0;

  // Multiplies the oneDNN output by `rescale` (pool_onednn.cc).
  void Rescale(float* y) const;
};

// The oneDNN path for a resolved window or a global kind, x and y in
// `layout` (pool_onednn.cc).
std::shared_ptr<const PoolEntry> BuildOneDnnEntry(
    const PoolAttributes& attrs, const std::vector<int64_t>& x_dims,
    const std::vector<int64_t>& y_dims, Layout layout);

// Global pooling of an nhwc (N, C, H, W) input with H * W > 0: the entry,
// and running it (pool_global_hwy.cc).
std::shared_ptr<const PoolEntry> BuildChannelsLastGlobalEntry(
    const std::vector<int64_t>& x_dims);
void RunChannelsLastGlobal(const PoolEntry& entry, bool max, const float* x,
                           float* y, int threads);

}  // namespace foldrt::ops::pool_internal

#endif  // FOLDRT_OPS_POOL_INTERNAL_H_
