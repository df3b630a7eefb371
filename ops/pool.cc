#include "ops/pool.h"

#include <algorithm>
#include <array>
#include <string>
#include <utility>

#include "ops/batch_norm.h"
#include "ops/onednn_util.h"
#include "ops/ref/pool_ref.h"
#include "ops/ref/shape_util.h"
#include "runtime/core/error.h"

namespace foldrt::ops {
namespace {

bool IsGlobal(PoolKind kind) {
  return kind == PoolKind::kGlobalAverage || kind == PoolKind::kGlobalMax;
}

const char* KindName(PoolKind kind) {
  switch (kind) {
    case PoolKind::kMax:
      return "MaxPool";
    case PoolKind::kAverage:
      return "AveragePool";
    case PoolKind::kGlobalAverage:
      return "GlobalAveragePool";
    case PoolKind::kGlobalMax:
      return "GlobalMaxPool";
  }
  return "?";
}

// A built pooling primitive plus the rescaling its include-padding average
// needs under ceil_mode (see pool.h). Immutable once built.
struct PoolEntry {
  onednn::PlainIoPrimitive primitive;
  // Per output position along each of the (lifted) three spatial axes D, H,
  // W: kernel size / window positions inside the user-given padding. Empty
  // when every factor is 1.
  std::array<std::vector<float>, 3> rescale;
  int64_t planes = 0;  // N * C

  void Rescale(float* y) const {
    const size_t d = rescale[0].size(), h = rescale[1].size(),
                 w = rescale[2].size();
    for (int64_t p = 0; p < planes; ++p) {
      for (size_t i = 0; i < d; ++i) {
        for (size_t j = 0; j < h; ++j) {
          const float f = rescale[0][i] * rescale[1][j];
          float* row = y + ((p * d + i) * h + j) * w;
          for (size_t k = 0; k < w; ++k) row[k] *= f * rescale[2][k];
        }
      }
    }
  }
};

}  // namespace

struct Pool::Impl {
  using Key = std::pair<std::vector<int64_t>, int>;

  PoolAttributes attrs;    // window vectors filled with ONNX defaults
  ref::PoolParams params;  // the same, for the reference shape rules
  onednn::SharedCache<Key, PoolEntry> cache;

  std::shared_ptr<const PoolEntry> Build(
      const std::vector<int64_t>& x_dims,
      const std::vector<int64_t>& y_dims) const {
    using dnnl::memory;
    // Every pooling runs on three spatial axes or fewer; global pooling
    // reduces the flattened spatial extent (any rank), 1-D windows run as
    // 2-D with a unit height, through the same kernel selection as images.
    memory::dims src_dims = {x_dims[0], x_dims[1]};
    memory::dims dst_dims = {y_dims[0], y_dims[1]};
    memory::dims kernel, strides, dilations, pads_begin, pads_end;
    std::vector<int64_t> user_pads_end;
    dnnl::algorithm algorithm;
    if (IsGlobal(attrs.kind)) {
      const int64_t spatial = ref::ShapeElementCount(
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
        memory::dims out(v.begin(), v.end());
        if (lift) out.insert(out.begin(), unit);
        return out;
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
        const int64_t needed = (y_dims[2 + i] - 1) * attrs.strides[i] +
                               dilated - x_dims[2 + i] - attrs.pads_begin[i];
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
    const memory::desc src_md = onednn::PlainDesc(src_dims);
    const memory::desc dst_md = onednn::PlainDesc(dst_dims);
    dnnl::pooling_v2_forward::desc desc(
        dnnl::prop_kind::forward_inference, algorithm, src_md, dst_md, strides,
        kernel, dilations, pads_begin, pads_end);
    dnnl::pooling_v2_forward::primitive_desc pd(desc, onednn::MakeAttr(),
                                                engine);
    auto entry = std::make_shared<PoolEntry>();
    entry->primitive.primitive = dnnl::pooling_v2_forward(pd);
    entry->primitive.SetIo(src_md, dst_md, pd.src_desc(), pd.dst_desc(),
                           pd.scratchpad_desc());
    entry->planes = x_dims[0] * x_dims[1];

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
};

Pool::Pool(PoolAttributes attrs) {
  auto impl = std::make_unique<Impl>();
  if (!IsGlobal(attrs.kind)) {
    const std::string what = std::string(KindName(attrs.kind)) +
                             " with kernel " + ref::ShapeToString(attrs.kernel);
    const size_t rank = attrs.kernel.size();
    if (rank < 1 || rank > 3) {
      throw InvalidArgumentError(what + ": kernel_shape needs 1 to 3 values");
    }
    ref::PoolParams params = ref::DefaultPoolParams(attrs.kernel);
    if (!attrs.strides.empty()) params.strides = attrs.strides;
    if (!attrs.dilations.empty()) params.dilations = attrs.dilations;
    if (!attrs.pads_begin.empty()) params.pads_begin = attrs.pads_begin;
    if (!attrs.pads_end.empty()) params.pads_end = attrs.pads_end;
    params.ceil_mode = attrs.ceil_mode;
    params.count_include_pad = attrs.count_include_pad;
    ref::CheckWindowParam(what, "kernel_shape", params.kernel, rank, 1);
    ref::CheckWindowParam(what, "strides", params.strides, rank, 1);
    ref::CheckWindowParam(what, "dilations", params.dilations, rank, 1);
    ref::CheckWindowParam(what, "pads (begin)", params.pads_begin, rank, 0);
    ref::CheckWindowParam(what, "pads (end)", params.pads_end, rank, 0);
    for (size_t i = 0; i < rank; ++i) {
      const int64_t dilated = (params.kernel[i] - 1) * params.dilations[i] + 1;
      if (params.pads_begin[i] >= dilated || params.pads_end[i] >= dilated) {
        throw InvalidArgumentError(what + ": pads must be smaller than the " +
                                   "(dilated) kernel");
      }
    }
    if (attrs.kind == PoolKind::kAverage &&
        std::any_of(params.dilations.begin(), params.dilations.end(),
                    [](int64_t d) { return d != 1; })) {
      throw UnsupportedError(what + ": dilations " +
                             ref::ShapeToString(params.dilations) +
                             " are not supported for AveragePool");
    }
    attrs.strides = params.strides;
    attrs.dilations = params.dilations;
    attrs.pads_begin = params.pads_begin;
    attrs.pads_end = params.pads_end;
    impl->params = std::move(params);
  }
  impl->attrs = std::move(attrs);
  impl_ = std::move(impl);
}

Pool::~Pool() = default;
Pool::Pool(Pool&&) noexcept = default;
Pool& Pool::operator=(Pool&&) noexcept = default;

PoolKind Pool::kind() const { return impl_->attrs.kind; }

std::vector<int64_t> Pool::OutputDims(
    const std::vector<int64_t>& input_dims) const {
  if (IsGlobal(impl_->attrs.kind)) {
    std::vector<int64_t> y_dims = ref::GlobalPoolOutputShape(input_dims);
    for (size_t i = 2; i < input_dims.size(); ++i) {
      if (input_dims[i] == 0) {
        throw InvalidArgumentError(std::string(KindName(impl_->attrs.kind)) +
                                   " of " + ref::ShapeToString(input_dims) +
                                   ": empty spatial extent");
      }
    }
    return y_dims;
  }
  if (input_dims.size() != impl_->attrs.kernel.size() + 2) {
    throw InvalidArgumentError(std::string(KindName(impl_->attrs.kind)) +
                               " of " + ref::ShapeToString(input_dims) +
                               ": a " +
                               std::to_string(impl_->attrs.kernel.size()) +
                               "-D window needs an input of rank " +
                               std::to_string(impl_->attrs.kernel.size() + 2));
  }
  return ref::PoolOutputShape(input_dims, impl_->params);
}

void Pool::Run(const float* x, const std::vector<int64_t>& x_dims, float* y,
               int threads) const {
  threads = ResolveThreadCount(threads);
  try {
    onednn::ScopedOmpThreads scoped_threads(threads);
    const auto entry = impl_->cache.GetOrBuild(Impl::Key(x_dims, threads), [&] {
      const std::vector<int64_t> y_dims = OutputDims(x_dims);
      // Zero batch or channels: valid, nothing to compute.
      const bool empty = y_dims[0] == 0 || y_dims[1] == 0;
      return empty ? nullptr : impl_->Build(x_dims, y_dims);
    });
    if (entry == nullptr) return;
    entry->primitive.Execute(x, y);
    if (!entry->rescale[0].empty()) entry->Rescale(y);
  } catch (const dnnl::error& e) {
    onednn::ThrowOneDnnError(std::string("oneDNN ") +
                                 KindName(impl_->attrs.kind) + " on x " +
                                 onednn::DimsToString(x_dims),
                             e);
  }
}

}  // namespace foldrt::ops
