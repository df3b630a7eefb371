// What `foldrt run --expect`, `foldrt fold --verify` and `foldrt bench`
// share: seeded random inputs of a model's declared shapes, and the
// whole-model tolerance.
#ifndef FOLDRT_TOOLS_FOLDRT_MODEL_CHECK_H_
#define FOLDRT_TOOLS_FOLDRT_MODEL_CHECK_H_

#include <cstddef>
#include <cstdint>

#include "core/tensor.h"
#include "runtime/session.h"

namespace foldrt {

// The whole-model tolerance (as tests/runtime/test_models.h): float32
// kernels that accumulate in their own order against a float64 reference.
// torch's own float32 forward of the torchvision models lands near 1e-7 to
// 1e-6 relative L2; a wrong channel or a missed op lands near 1.
inline constexpr double kMaxRelativeL2 = 1e-4;
inline constexpr double kMaxAbsOverMaxRef = 1e-3;

struct OutputDeviation {
  double relative_l2 = 0;    // ||got - ref|| / ||ref|| (0 / 0 = 0)
  double max_abs = 0;        // max |got - ref|
  double max_abs_ratio = 0;  // max_abs / max |ref|
  int64_t non_finite = 0;    // NaN or infinite values in got (not compared)
  bool within_tolerance() const {
    return non_finite == 0 && relative_l2 <= kMaxRelativeL2 &&
           max_abs_ratio <= kMaxAbsOverMaxRef;
  }
};

OutputDeviation CompareOutputs(const float* got, const float* ref,
                               size_t count);

// Seeded standard-normal data of `info`'s shape with the dims that are not
// fixed (symbolic or unknown) set to `free_dim` (zeros for int64). Throws
// UsageError when the shape is undeclared and InvalidArgumentError over
// `max_elements` (a model declaring (N, 100000, 100000) would otherwise
// end in bad_alloc here, before Session::Run checks its limit).
Tensor RandomInput(const runtime::ValueInfo& info, uint32_t seed,
                   int64_t max_elements, int64_t free_dim = 1);

}  // namespace foldrt

#endif  // FOLDRT_TOOLS_FOLDRT_MODEL_CHECK_H_
