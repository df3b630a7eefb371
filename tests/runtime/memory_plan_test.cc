// The arena planner: buffers alive at the same time never share bytes,
// buffers with disjoint lifetimes do, and offsets are aligned.
#include "runtime/memory_plan.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <vector>

namespace foldrt::runtime {
namespace {

void ExpectValid(const std::vector<BufferLifetime>& buffers,
                 const ArenaLayout& layout) {
  ASSERT_EQ(layout.offsets.size(), buffers.size());
  for (size_t i = 0; i < buffers.size(); ++i) {
    EXPECT_EQ(layout.offsets[i] % kArenaAlignment, 0u);
    EXPECT_LE(layout.offsets[i] + buffers[i].bytes, layout.total_bytes);
    for (size_t j = i + 1; j < buffers.size(); ++j) {
      const bool live_together =
          buffers[i].first_step <= buffers[j].last_step &&
          buffers[j].first_step <= buffers[i].last_step;
      const bool share_bytes =
          layout.offsets[i] < layout.offsets[j] + buffers[j].bytes &&
          layout.offsets[j] < layout.offsets[i] + buffers[i].bytes;
      EXPECT_FALSE(live_together && share_bytes && buffers[i].bytes > 0 &&
                   buffers[j].bytes > 0)
          << "buffers " << i << " and " << j;
    }
  }
}

// The total size of the arena PlanArena lays out for `buffers`, which
// ExpectValid checks.
size_t ValidArenaBytes(const std::vector<BufferLifetime>& buffers) {
  const ArenaLayout layout = PlanArena(buffers);
  ExpectValid(buffers, layout);
  return layout.total_bytes;
}

TEST(MemoryPlanTest, ChainReusesMemory) {
  // a -> b -> c -> d: each buffer dies when the next one is written, so two
  // slots suffice however long the chain.
  const std::vector<BufferLifetime> buffers = {
      {1000, 0, 1}, {1000, 1, 2}, {1000, 2, 3}, {1000, 3, 4}, {1000, 4, 4}};
  EXPECT_EQ(ValidArenaBytes(buffers), 2 * 1024u);
}

TEST(MemoryPlanTest, ResidualKeepsTheSkipAlive) {
  // x (0..3) is read again by the Add at step 3: three buffers live at once.
  const std::vector<BufferLifetime> buffers = {
      {4096, 0, 3}, {4096, 1, 2}, {4096, 2, 3}, {4096, 3, 3}};
  EXPECT_EQ(ValidArenaBytes(buffers), 3 * 4096u);
}

TEST(MemoryPlanTest, BestFitFillsGaps) {
  // A small buffer fits into the hole a dead large one left.
  const std::vector<BufferLifetime> buffers = {
      {8192, 0, 1}, {8192, 0, 5}, {1024, 3, 4}, {2048, 2, 5}};
  EXPECT_EQ(ValidArenaBytes(buffers), 2 * 8192u);
}

TEST(MemoryPlanTest, RandomLifetimesNeverOverlap) {
  std::mt19937 rng(7);
  for (int trial = 0; trial < 50; ++trial) {
    std::vector<BufferLifetime> buffers;
    size_t peak_bound = 0;
    for (int i = 0; i < 40; ++i) {
      const int first = static_cast<int>(rng() % 30);
      const int last = first + static_cast<int>(rng() % 8);
      const size_t bytes = rng() % 5 == 0 ? 0 : 1 + rng() % 100000;
      buffers.push_back({bytes, first, last});
      peak_bound +=
          (bytes + kArenaAlignment - 1) / kArenaAlignment * kArenaAlignment;
    }
    EXPECT_LE(ValidArenaBytes(buffers), peak_bound);
  }
}

TEST(MemoryPlanTest, EmptyPlan) { EXPECT_EQ(PlanArena({}).total_bytes, 0u); }

}  // namespace
}  // namespace foldrt::runtime
