// Offsets of the activations of one run inside a single arena, planned from
// value lifetimes: two buffers may share bytes only when their lifetimes do
// not overlap.
#ifndef FOLDRT_RUNTIME_MEMORY_PLAN_H_
#define FOLDRT_RUNTIME_MEMORY_PLAN_H_

#include <cstddef>
#include <vector>

namespace foldrt::runtime {

// Offsets are multiples of this (a cache line; what oneDNN prefers).
inline constexpr size_t kArenaAlignment = 64;

// A buffer live from the step that writes it to the last step that reads it
// (inclusive).
struct BufferLifetime {
  size_t bytes = 0;
  int first_step = 0;
  int last_step = 0;
};

struct ArenaLayout {
  std::vector<size_t> offsets;  // one per buffer, aligned
  size_t total_bytes = 0;
};

// Greedy by size (largest first), each buffer placed in the smallest gap
// between the buffers already placed whose lifetimes overlap its own
// (best fit), else after them. Not optimal (that is NP-hard) but within a
// few percent of the peak of simultaneously live bytes on CNNs.
ArenaLayout PlanArena(const std::vector<BufferLifetime>& buffers);

}  // namespace foldrt::runtime

#endif  // FOLDRT_RUNTIME_MEMORY_PLAN_H_
