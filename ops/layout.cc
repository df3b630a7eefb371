#include "ops/layout.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <string>

#include "core/error.h"
#include "core/tensor.h"
#include "ops/enum_names.h"

namespace foldrt::ops {
namespace {

// a * b, throwing instead of wrapping around.
size_t CheckedMul(size_t a, size_t b, const std::vector<int64_t>& dims) {
  if (a != 0 && b > std::numeric_limits<size_t>::max() / a) {
    throw InvalidArgumentError("element count of shape " + ShapeToString(dims) +
                               " overflows");
  }
  return a * b;
}

constexpr EnumName<Layout> kLayoutNames[] = {
    {Layout::kNchw, "nchw"},
    {Layout::kNhwc, "nhwc"},
    {Layout::kNChw8c, "nChw8c"},
    {Layout::kNChw16c, "nChw16c"},
};

}  // namespace

const char* LayoutName(Layout layout) { return NameOf(kLayoutNames, layout); }

Layout ParseLayout(std::string_view name) {
  return ParseName(kLayoutNames, name, "layout");
}

size_t ChannelBlock(Layout layout) {
  switch (layout) {
    case Layout::kNChw8c:
      return 8;
    case Layout::kNChw16c:
      return 16;
    default:
      return 1;
  }
}

ChannelShape SplitChannelShape(const std::vector<int64_t>& dims) {
  if (dims.size() < 2) {
    throw InvalidArgumentError(
        "shape " + ShapeToString(dims) + " has rank " +
        std::to_string(dims.size()) +
        "; BatchNormalization needs rank >= 2 (N, C, ...)");
  }
  for (int64_t d : dims) {
    if (d < 0) {
      throw InvalidArgumentError("shape " + ShapeToString(dims) +
                                 " has a negative dimension");
    }
  }
  ChannelShape s;
  s.batch = static_cast<size_t>(dims[0]);
  s.channels = static_cast<size_t>(dims[1]);
  s.spatial = 1;
  for (size_t i = 2; i < dims.size(); ++i) {
    s.spatial = CheckedMul(s.spatial, static_cast<size_t>(dims[i]), dims);
  }
  // Validate the padded element count (the largest layout) once here, so
  // that BufferElements cannot overflow afterwards. Padding adds < 16 channels.
  size_t padded = CheckedMul(s.batch, s.channels + 15, dims);
  CheckedMul(CheckedMul(padded, s.spatial, dims), sizeof(float), dims);
  return s;
}

size_t BufferElements(const ChannelShape& shape, Layout layout) {
  const size_t block = ChannelBlock(layout);
  const size_t padded_channels = (shape.channels + block - 1) / block * block;
  return shape.batch * padded_channels * shape.spatial;
}

void ZeroChannelPadding(float* data, const ChannelShape& shape, Layout layout) {
  const size_t block = ChannelBlock(layout);
  const size_t tail = shape.channels % block;
  if (block == 1 || tail == 0) return;
  const size_t blocks = (shape.channels + block - 1) / block;
  for (size_t n = 0; n < shape.batch; ++n) {
    float* last = data + ((n * blocks + blocks - 1) * shape.spatial) * block;
    for (size_t s = 0; s < shape.spatial; ++s) {
      std::fill(last + s * block + tail, last + (s + 1) * block, 0.0f);
    }
  }
}

void CopyIntoChannels(const float* src, const ChannelShape& shape,
                      Layout layout, float* dst, size_t dst_channels,
                      size_t offset, int threads) {
  // Runs of `run` floats, src runs back to back, dst runs `dst_run` apart.
  size_t runs = shape.batch;
  size_t run = shape.channels * shape.spatial;
  size_t dst_run = dst_channels * shape.spatial;
  size_t dst_start = offset * shape.spatial;
  if (layout == Layout::kNhwc) {
    runs = shape.batch * shape.spatial;
    run = shape.channels;
    dst_run = dst_channels;
    dst_start = offset;
  } else if (layout != Layout::kNchw) {
    // Whole blocks: [N][blocks][spatial][b] with the part's blocks adjacent.
    const size_t block = ChannelBlock(layout);
    dst_run = (dst_channels + block - 1) / block * block * shape.spatial;
  }
  if (run == 0) return;
  // Below ~64 KiB a second thread costs more than it saves.
  const int want = static_cast<int>(
      std::min<size_t>(static_cast<size_t>(std::max(threads, 1)),
                       std::max<size_t>(1, runs * run / (16 * 1024))));
#pragma omp parallel for num_threads(want) schedule(static) if (want > 1)
  for (size_t r = 0; r < runs; ++r) {
    std::memcpy(dst + r * dst_run + dst_start, src + r * run,
                run * sizeof(float));
  }
}

}  // namespace foldrt::ops
