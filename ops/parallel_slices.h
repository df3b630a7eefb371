// Splitting a loop over contiguous units (planes, rows, elements) into one
// slice per OpenMP thread, as the Highway BatchNorm and pooling kernels do.
#ifndef FOLDRT_OPS_PARALLEL_SLICES_H_
#define FOLDRT_OPS_PARALLEL_SLICES_H_

#include <omp.h>

#include <algorithm>
#include <cstddef>

namespace foldrt::ops {

// Calls fn(begin, end) on contiguous, non-empty slices of [0, total) units
// of `unit_floats` floats each, one slice per OpenMP thread: `threads` of
// them, fewer where a thread would get fewer than min_floats_per_thread
// floats (below that an OpenMP fork/join costs more than it saves), and
// just fn(0, total) on the calling thread for one. Slice bounds fall on
// multiples of `granule` units (so that threads need not share cache lines).
template <class Fn>
void ParallelSlices(size_t total, size_t unit_floats, int threads,
                    size_t min_floats_per_thread, size_t granule, Fn&& fn) {
  size_t want = std::min<size_t>(static_cast<size_t>(std::max(threads, 1)),
                                 total * unit_floats / min_floats_per_thread);
  want = std::min(want, total);
  if (want <= 1) {
    fn(size_t{0}, total);
    return;
  }
#pragma omp parallel num_threads(static_cast <int>(want))
  {
    const size_t t = static_cast<size_t>(omp_get_thread_num());
    const size_t nt = static_cast<size_t>(omp_get_num_threads());
    auto bound = [&](size_t i) {
      const size_t b = total * i / nt / granule * granule;
      return i == nt ? total : b;
    };
    const size_t begin = bound(t), end = bound(t + 1);
    if (begin < end) fn(begin, end);
  }
}

}  // namespace foldrt::ops

#endif  // FOLDRT_OPS_PARALLEL_SLICES_H_
