// Converts activations (N, C, spatial...) between the layouts the runtime
// keeps them in: plain NCHW and oneDNN's channel-blocked nChw8c / nChw16c.
// The runtime inserts one where an op needs another layout than its
// producer wrote (a Flatten after a blocked convolution, graph outputs).
//
// oneDNN's reorder primitive, prepared per thread count on first use and
// cached; Run is const and thread-safe like the other prepared ops.
#ifndef FOLDRT_OPS_LAYOUT_REORDER_H_
#define FOLDRT_OPS_LAYOUT_REORDER_H_

#include <cstdint>
#include <memory>
#include <vector>

#include "ops/layout.h"

namespace foldrt::ops {

class LayoutReorder {
 public:
  // dims: logical (N, C, spatial...), rank 3 to 5 when either layout is
  // blocked. Throws InvalidArgumentError for kNhwc or an unsupported rank.
  LayoutReorder(std::vector<int64_t> dims, Layout from, Layout to);
  ~LayoutReorder();
  LayoutReorder(LayoutReorder&&) noexcept;
  LayoutReorder& operator=(LayoutReorder&&) noexcept;

  // y (BufferElements(dims, to) floats) = x in the other layout; a blocked
  // y gets zeros in its channel padding. x and y must not overlap.
  void Run(const float* x, float* y, int threads) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace foldrt::ops

#endif  // FOLDRT_OPS_LAYOUT_REORDER_H_
