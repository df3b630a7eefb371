// ops::Pool's oneDNN path (pooling_v2_forward): the blocked and nhwc
// layouts, 3-D windows and dilated MaxPool on plain NCHW (see ops/pool.h),
// and the rescaling its include-padding average needs under ceil_mode.

#include <algorithm>
#include <array>
#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

#include "core/tensor.h"
#include "ops/onednn_util.h"
#include "ops/pool_internal.h"

namespace foldrt::ops::pool_internal {

void PoolEntry::Rescale(float* y) const {
  const size_t d = rescale[0].size(), h = rescale[1].size(),
               w = rescale[2].size();
  for (int64_t p = 0; p < planes; ++p) {
    for (size_t i = 0; i < d; ++i) {
      for (size_t j = 0; j < h; ++j) {
        const float f = rescale[0][i] * rescale[1][j];
        float* row = y + ((p * d + i) * h + j) * w * block;
        for (size_t k = 0; k < w; ++k) {
          const float g = f * rescale[2][k];
          for (size_t l = 0; l < block; ++l) row[k * block + l] *= g;
        }
      }
    }
  }
}

std::shared_ptr<const PoolEntry> BuildOneDnnEntry(
    const PoolAttributes& attrs, const std::vector<int64_t>& x_dims,
    const std::vector<int64_t>& y_dims, Layout layout) {
  using dnnl::memory;
  // Blocked layouts: the primitive runs on the padded channel count, so
  // that its descriptors have no padded area. The padding channels are
  // then pooled like real ones, zero in, zero out: y's padding does not
  // rest on oneDNN's zero-padding conventions (which have changed between
  // versions: some zero-filled a padded area whenever a handle was set,
  // which here would write the caller's const x).
  const int64_t block = static_cast<int64_t>(ChannelBlock(layout));
  const int64_t channels = (x_dims[1] + block - 1) / block * block;
  // Every pooling runs on three spatial axes or fewer; global pooling
  // reduces the flattened spatial extent (any rank; for a blocked layout
  // (1, H * W) is the same bytes as (H, W)), 1-D windows run as 2-D with
  // a unit height, through the same kernel selection as images.
  memory::dims src_dims = {x_dims[0], channels};
  memory::dims dst_dims = {y_dims[0], channels};
  memory::dims kernel, strides, dilations, pads_begin, pads_end;
  std::vector<int64_t> user_pads_end;
  dnnl::algorithm algorithm;
  if (IsGlobal(attrs.kind)) {
    const int64_t spatial = ShapeNumElements(
        std::vector<int64_t>(x_dims.begin() + 2, x_dims.end()));
    src_dims.insert(src_dims.end(), {1, spatial});
    dst_dims.insert(dst_dims.end(), {1, 1});
    kernel = {1, spatial};
    strides = {1, 1};
    dilations = {0, 0};
    pads_begin = pads_end = {0, 0};
    user_pads_end = {0, 0};
    algorithm = attrs.kind == PoolKind::kGlobalMax
                    ? dnnl::algorithm::pooling_max
                    : dnnl::algorithm::pooling_avg_exclude_padding;
  } else {
    const bool lift = x_dims.size() == 3;
    auto spatial = [lift](const std::vector<int64_t>& v, int64_t unit) {
      return onednn::LiftSpatial(v, unit, lift);
    };
    src_dims.insert(src_dims.end(), x_dims.begin() + 2, x_dims.end());
    dst_dims.insert(dst_dims.end(), y_dims.begin() + 2, y_dims.end());
    if (lift) {
      src_dims.insert(src_dims.begin() + 2, 1);
      dst_dims.insert(dst_dims.begin() + 2, 1);
    }
    // oneDNN computes out = (in + pads - dilated kernel) / stride + 1,
    // rounding down: under ceil_mode the end pad grows until that gives
    // the reference's size. The extra padding never wins a max (oneDNN
    // pads max pooling with the lowest float) and is excluded from an
    // exclude-padding average.
    std::vector<int64_t> grown = attrs.pads_end;
    for (size_t i = 0; i < grown.size(); ++i) {
      const int64_t dilated = (attrs.kernel[i] - 1) * attrs.dilations[i] + 1;
      const int64_t needed = (y_dims[2 + i] - 1) * attrs.strides[i] + dilated -
                             x_dims[2 + i] - attrs.pads_begin[i];
      grown[i] = std::max(grown[i], needed);
    }
    std::vector<int64_t> dnnl_dilations = attrs.dilations;
    for (int64_t& d : dnnl_dilations) d -= 1;  // oneDNN: 0 = dense
    kernel = spatial(attrs.kernel, 1);
    strides = spatial(attrs.strides, 1);
    dilations = spatial(dnnl_dilations, 0);
    pads_begin = spatial(attrs.pads_begin, 0);
    pads_end = spatial(grown, 0);
    user_pads_end = spatial(attrs.pads_end, 0);
    algorithm = attrs.kind == PoolKind::kMax ? dnnl::algorithm::pooling_max
                : attrs.count_include_pad
                    ? dnnl::algorithm::pooling_avg_include_padding
                    : dnnl::algorithm::pooling_avg_exclude_padding;
  }

  auto& engine = onednn::CpuEngine();
  const memory::desc src_md = onednn::LayoutDesc(src_dims, layout);
  const memory::desc dst_md = onednn::LayoutDesc(dst_dims, layout);
  dnnl::pooling_v2_forward::desc desc(dnnl::prop_kind::forward_inference,
                                      algorithm, src_md, dst_md, strides,
                                      kernel, dilations, pads_begin, pads_end);
  dnnl::pooling_v2_forward::primitive_desc pd(desc, onednn::MakeAttr(), engine);
  auto entry = std::make_shared<PoolEntry>();
  entry->primitive.primitive = dnnl::pooling_v2_forward(pd);
  // Fully specified formats: the primitive takes them as they are, so
  // SetIo prepares no reorder.
  entry->primitive.SetIo(src_md, dst_md, pd.src_desc(), pd.dst_desc(),
                         pd.scratchpad_desc());
  // Rescale walks (plane, spatial position, `block` floats): per channel
  // block for blocked layouts, per image with all C channels for nhwc.
  entry->planes =
      layout == Layout::kNhwc ? x_dims[0] : x_dims[0] * (channels / block);
  entry->block =
      static_cast<size_t>(layout == Layout::kNhwc ? channels : block);

  if (algorithm == dnnl::algorithm::pooling_avg_include_padding &&
      pads_end != user_pads_end) {
    // Spatial axes of the lifted problem, right-aligned into D, H, W.
    const size_t rank = kernel.size();
    bool any = false;
    std::array<std::vector<float>, 3> rescale;
    for (size_t a = 0; a < 3; ++a) {
      if (a < 3 - rank) {
        rescale[a] = {1.0f};
        continue;
      }
      const size_t i = a - (3 - rank);
      const int64_t in = src_dims[2 + i], out = dst_dims[2 + i];
      const int64_t limit = in + user_pads_end[i];  // avg: no dilation
      for (int64_t o = 0; o < out; ++o) {
        const int64_t start = o * strides[i] - pads_begin[i];
        const int64_t inside = std::min(start + kernel[i], limit) - start;
        rescale[a].push_back(static_cast<float>(kernel[i]) /
                             static_cast<float>(inside));
        any |= inside != kernel[i];
      }
    }
    if (any) entry->rescale = std::move(rescale);
  }
  return entry;
}

}  // namespace foldrt::ops::pool_internal
