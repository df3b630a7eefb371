// Highway BatchNorm kernels: per-target code comes from batch_norm-inl.h;
// this file exports it for dynamic dispatch and splits the work over OpenMP
// threads (the runtime Debian's oneDNN uses, so the two share one pool).

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "ops/batch_norm_hwy.cc"
#include "hwy/foreach_target.h"  // IWYU pragma: keep
#include "hwy/highway.h"
#include "ops/batch_norm-inl.h"

#if HWY_ONCE

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <utility>

#include "hwy/cache_control.h"
#include "ops/batch_norm.h"
#include "ops/parallel_slices.h"

namespace foldrt {
namespace ops {

HWY_EXPORT(BatchNormNchwRangeF32);
HWY_EXPORT(BatchNormRowsF32);
HWY_EXPORT(BatchNormStridedRowsF32);

namespace {

// Below this many floats one thread finishes before a second one would be
// woken (an OpenMP fork/join costs a few microseconds).
constexpr size_t kMinFloatsPerThread = 16 * 1024;

// Thread boundaries fall on multiples of 16 floats (one 64-byte cache line)
// so that no two threads write the same line.
constexpr size_t kSplitGranule = 16;

// ParallelSlices over [0, total) units (elements or rows; `unit_floats`
// says how big one is) with BatchNorm's thresholds.
template <class Fn>
void SplitOverThreads(size_t total, size_t unit_floats, int threads, Fn&& fn) {
  const size_t granule =
      std::max<size_t>(1, kSplitGranule / std::max<size_t>(unit_floats, 1));
  ParallelSlices(total, unit_floats, threads, kMinFloatsPerThread, granule,
                 std::forward<Fn>(fn));
}

// Bytes of last-level cache, for the streaming-store decision: sysfs first
// (sysconf reports the host's cache in some VMs), then sysconf, then 8 MiB.
size_t LastLevelCacheBytes() {
  static const size_t bytes = [] {
    for (const char* path :
         {"/sys/devices/system/cpu/cpu0/cache/index3/size",
          "/sys/devices/system/cpu/cpu0/cache/index2/size"}) {
      if (FILE* f = std::fopen(path, "r")) {
        unsigned long long value = 0;
        char unit = 0;
        const int got = std::fscanf(f, "%llu%c", &value, &unit);
        std::fclose(f);
        if (got >= 1 && value > 0) {
          if (unit == 'K') value <<= 10;
          if (unit == 'M') value <<= 20;
          return static_cast<size_t>(value);
        }
      }
    }
    const long conf = sysconf(_SC_LEVEL3_CACHE_SIZE);
    return conf > 0 ? static_cast<size_t>(conf) : size_t{8} << 20;
  }();
  return bytes;
}

// Streaming stores skip the caches. They pay off when the op's own working
// set (input + output) does not fit in the last-level cache: the output
// could not stay cached for the next op anyway, and skipping the
// read-for-ownership of each output line saves a third of the traffic. In
// place, the output lines are already cached, so there is nothing to save.
bool UseStreamingStores(const float* x, const float* y, size_t floats) {
  return x != y && 2 * floats * sizeof(float) > LastLevelCacheBytes();
}

// HWY_DYNAMIC_DISPATCH hands out an initializing stub until a target is
// chosen. The drivers keep the function pointer for many calls, so choose
// first; otherwise every call would go through the stub.
void ChooseHwyTarget() {
  hwy::ChosenTarget& chosen = hwy::GetChosenTarget();
  if (!chosen.IsInitialized()) chosen.Update(hwy::SupportedTargets());
}

}  // namespace

void BatchNormNchwF32(const float* x, float* y, const ChannelShape& shape,
                      size_t x_channels, const float* scale, const float* shift,
                      const Activation& act, int threads) {
  if (shape.spatial == 1) {
    // (N, C) and (N, C, 1, ...): NCHW and NHWC are the same bytes, and the
    // row kernel vectorizes across channels instead of one-float planes.
    BatchNormNhwcF32(x, y, shape, x_channels, scale, shift, act, threads);
    return;
  }
  const size_t spatial = shape.spatial;
  const size_t channels = shape.channels;
  const size_t image = channels * spatial;
  const size_t total = shape.batch * image;
  ChooseHwyTarget();
  const auto range_kernel = HWY_DYNAMIC_DISPATCH(BatchNormNchwRangeF32);
  const bool stream = UseStreamingStores(x, y, total);
  if (x_channels == channels) {
    SplitOverThreads(total, 1, threads, [&](size_t begin, size_t end) {
      range_kernel(x, y, begin, end, spatial, channels, scale, shift, stream,
                   act);
      if (stream) hwy::FlushStream();
    });
    return;
  }
  // Each image of x is one contiguous run, x_channels * spatial apart.
  SplitOverThreads(total, 1, threads, [&](size_t begin, size_t end) {
    for (size_t e = begin; e < end;) {
      const size_t n = e / image;
      const size_t local = e - n * image;
      const size_t len = std::min(image - local, end - e);
      range_kernel(x + n * x_channels * spatial, y + n * image, local,
                   local + len, spatial, channels, scale, shift, stream, act);
      e += len;
    }
    if (stream) hwy::FlushStream();
  });
}

void BatchNormNhwcF32(const float* x, float* y, const ChannelShape& shape,
                      size_t x_channels, const float* scale, const float* shift,
                      const Activation& act, int threads) {
  const size_t channels = shape.channels;
  const size_t rows = shape.batch * shape.spatial;
  if (channels == 0) return;
  ChooseHwyTarget();
  if (x_channels != channels) {
    const auto strided_kernel = HWY_DYNAMIC_DISPATCH(BatchNormStridedRowsF32);
    SplitOverThreads(rows, channels, threads, [&](size_t begin, size_t end) {
      strided_kernel(x + begin * x_channels, x_channels, y + begin * channels,
                     channels, end - begin, channels, scale, shift, act);
    });
    return;
  }
  const auto rows_kernel = HWY_DYNAMIC_DISPATCH(BatchNormRowsF32);
  const bool stream = UseStreamingStores(x, y, rows * channels);
  SplitOverThreads(rows, channels, threads, [&](size_t begin, size_t end) {
    rows_kernel(x + begin * channels, y + begin * channels, end - begin,
                channels, channels, scale, shift, stream, act);
    if (stream) hwy::FlushStream();
  });
}

void BatchNormBlockedF32(const float* x, float* y, const ChannelShape& shape,
                         size_t x_channels, size_t block, const float* scale,
                         const float* shift, const Activation& act,
                         int threads) {
  const size_t spatial = shape.spatial;
  const size_t blocks = (shape.channels + block - 1) / block;
  const size_t x_blocks = (x_channels + block - 1) / block;
  ChooseHwyTarget();
  const auto rows_kernel = HWY_DYNAMIC_DISPATCH(BatchNormRowsF32);
  if (spatial == 1) {
    // (N, C) and (N, C, 1, ...): each sample is one row of C channels padded
    // to the block, i.e. NHWC with a padded row; one call covers many rows.
    const size_t padded = blocks * block;
    if (x_blocks != blocks) {
      const auto strided_kernel = HWY_DYNAMIC_DISPATCH(BatchNormStridedRowsF32);
      SplitOverThreads(
          shape.batch, padded, threads, [&](size_t begin, size_t end) {
            strided_kernel(x + begin * x_blocks * block, x_blocks * block,
                           y + begin * padded, padded, end - begin,
                           shape.channels, scale, shift, act);
          });
      return;
    }
    const bool stream = UseStreamingStores(x, y, shape.batch * padded);
    SplitOverThreads(
        shape.batch, padded, threads, [&](size_t begin, size_t end) {
          rows_kernel(x + begin * padded, y + begin * padded, end - begin,
                      padded, shape.channels, scale, shift, stream, act);
          if (stream) hwy::FlushStream();
        });
    return;
  }
  const size_t rows = shape.batch * blocks * spatial;
  const bool stream = UseStreamingStores(x, y, rows * block);
  SplitOverThreads(rows, block, threads, [&](size_t begin, size_t end) {
    // Rows of one (n, channel block) are contiguous; a slice may cut one.
    for (size_t r = begin; r < end;) {
      const size_t nb = r / spatial;
      const size_t len = std::min(spatial - r % spatial, end - r);
      const size_t c0 = (nb % blocks) * block;
      const size_t valid = std::min(block, shape.channels - c0);
      // The same (n, block) of x, whose images are x_blocks blocks apart.
      const size_t x_row =
          ((nb / blocks) * x_blocks + nb % blocks) * spatial + r % spatial;
      rows_kernel(x + x_row * block, y + r * block, len, block, valid,
                  scale + c0, shift + c0, stream, act);
      r += len;
    }
    if (stream) hwy::FlushStream();
  });
}

}  // namespace ops
}  // namespace foldrt

#endif  // HWY_ONCE
