// Constant floats an op shares with its caller instead of copying them.
#ifndef FOLDRT_OPS_SHARED_FLOATS_H_
#define FOLDRT_OPS_SHARED_FLOATS_H_

#include <memory>

namespace foldrt::ops {

// Read-only floats whose owner the op keeps alive (through `data`) for as
// long as it reads them. Nobody may write them meanwhile. A distinct type
// rather than a bare shared_ptr, so that a constructor taking it is never
// ambiguous with one taking `const float*` (a literal nullptr fits both).
struct SharedFloats {
  std::shared_ptr<const float> data;
};

}  // namespace foldrt::ops

#endif  // FOLDRT_OPS_SHARED_FLOATS_H_
