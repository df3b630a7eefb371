// Memory layouts of a tensor whose logical shape is ONNX's (N, C, spatial...):
// channels on axis 1, any rank >= 2. Shapes are always given in that logical
// order; the layout says how the buffer is arranged.
#ifndef FOLDRT_OPS_LAYOUT_H_
#define FOLDRT_OPS_LAYOUT_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace foldrt::ops {

enum class Layout {
  kNchw,     // channels-first, plain: [N][C][spatial]
  kNhwc,     // channels-last: [N][spatial][C]
  kNChw8c,   // oneDNN blocked: [N][ceil(C/8)][spatial][8], C zero-padded
  kNChw16c,  // oneDNN blocked: [N][ceil(C/16)][spatial][16], C zero-padded
};

// "nchw", "nhwc", "nChw8c", "nChw16c" (oneDNN's names; they stand for any
// rank).
const char* LayoutName(Layout layout);
// Inverse of LayoutName; throws InvalidArgumentError on an unknown name.
Layout ParseLayout(std::string_view name);

// Channel block of a blocked layout, 1 for plain layouts.
size_t ChannelBlock(Layout layout);

// The three numbers every BN kernel works on, from a logical shape.
struct ChannelShape {
  size_t batch = 0;     // N
  size_t channels = 0;  // C
  size_t spatial = 0;   // product of dims 2.. (1 for rank 2)
};

// Validates a logical shape (rank >= 2, no negative dims, no overflow of the
// element count) and splits it. Throws InvalidArgumentError.
ChannelShape SplitChannelShape(const std::vector<int64_t>& dims);

// Floats the buffer of `shape` in `layout` holds, padding included.
size_t BufferElements(const ChannelShape& shape, Layout layout);

// Writes zeros into the channel padding of a blocked buffer (channels
// C .. ceil(C/b)*b of the last block); nothing for plain layouts or when C
// is a multiple of the block. Ops whose f(0) is not 0 (Sigmoid, Add of a
// constant) call it to keep the invariant oneDNN relies on: padding is zero.
void ZeroChannelPadding(float* data, const ChannelShape& shape, Layout layout);

// Copies a dense buffer of `shape` in `layout` into channels
// [offset, offset + C) of a buffer that holds `dst_channels` channels in the
// same layout, leaving its other channels alone: one Concat input written
// into a buffer several Concats share (runtime/shared_concats.cc). Blocked
// layouts move whole blocks: offset and C must be multiples of the block (then
// the source carries no padding). Does not validate; `threads` >= 1.
void CopyIntoChannels(const float* src, const ChannelShape& shape,
                      Layout layout, float* dst, size_t dst_channels,
                      size_t offset, int threads);

// Offset of logical element (n, c, s) (s = flattened spatial index) in a
// buffer of `shape` in `layout`. Scalar code only (references, tests).
inline size_t ElementOffset(const ChannelShape& shape, Layout layout, size_t n,
                            size_t c, size_t s) {
  switch (layout) {
    case Layout::kNchw:
      return (n * shape.channels + c) * shape.spatial + s;
    case Layout::kNhwc:
      return (n * shape.spatial + s) * shape.channels + c;
    case Layout::kNChw8c:
    case Layout::kNChw16c: {
      const size_t block = layout == Layout::kNChw8c ? 8 : 16;
      const size_t blocks = (shape.channels + block - 1) / block;
      return ((n * blocks + c / block) * shape.spatial + s) * block + c % block;
    }
  }
  return 0;
}

}  // namespace foldrt::ops

#endif  // FOLDRT_OPS_LAYOUT_H_
