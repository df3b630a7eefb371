#include "runtime/memory_plan.h"

#include <algorithm>
#include <limits>
#include <numeric>

namespace foldrt::runtime {
namespace {

size_t AlignUp(size_t bytes) {
  return (bytes + kArenaAlignment - 1) / kArenaAlignment * kArenaAlignment;
}

bool Overlap(const BufferLifetime& a, const BufferLifetime& b) {
  return a.first_step <= b.last_step && b.first_step <= a.last_step;
}

}  // namespace

ArenaLayout PlanArena(const std::vector<BufferLifetime>& buffers) {
  ArenaLayout layout;
  layout.offsets.assign(buffers.size(), 0);
  std::vector<size_t> order(buffers.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return buffers[a].bytes > buffers[b].bytes;
  });
  std::vector<size_t> placed;  // indices, in placement order
  for (size_t index : order) {
    const BufferLifetime& buffer = buffers[index];
    const size_t size = AlignUp(buffer.bytes);
    if (size == 0) continue;
    // Address ranges of the placed buffers alive at the same time.
    std::vector<std::pair<size_t, size_t>> busy;
    for (size_t other : placed) {
      if (Overlap(buffer, buffers[other])) {
        busy.emplace_back(
            layout.offsets[other],
            layout.offsets[other] + AlignUp(buffers[other].bytes));
      }
    }
    std::sort(busy.begin(), busy.end());
    size_t best = std::numeric_limits<size_t>::max();
    size_t best_gap = std::numeric_limits<size_t>::max();
    size_t end_of_previous = 0;
    for (const auto& [begin, end] : busy) {
      if (begin > end_of_previous) {
        const size_t gap = begin - end_of_previous;
        if (gap >= size && gap < best_gap) {
          best = end_of_previous;
          best_gap = gap;
        }
      }
      end_of_previous = std::max(end_of_previous, end);
    }
    if (best == std::numeric_limits<size_t>::max()) best = end_of_previous;
    layout.offsets[index] = best;
    layout.total_bytes = std::max(layout.total_bytes, best + size);
    placed.push_back(index);
  }
  return layout;
}

}  // namespace foldrt::runtime
