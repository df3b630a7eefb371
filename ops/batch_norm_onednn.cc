#include "ops/batch_norm_onednn.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <oneapi/dnnl/dnnl.hpp>
#include <string>
#include <tuple>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/error.h"
#include "core/tensor.h"
#include "ops/batch_norm.h"
#include "ops/onednn_util.h"

namespace foldrt::ops {
namespace {

using onednn::CpuEngine;
using onednn::ScopedOmpThreads;

// Not 0, although (var + eps) must be exactly 1 for the affine to come out
// unchanged. oneDNN 2.6's JIT kernels for blocked layouts load mean/var/scale/
// shift with a channel-tail mask, so the padded lanes see var = 0 and compute
// scale = 0 / sqrt(0 + eps): with eps = 0 that is 0/0 = NaN and the padded
// output channels come out NaN instead of 0. 2^-30 is far below half an ulp of
// 1.0f (2^-24), so 1 + eps rounds to exactly 1 in float (every oneDNN path does
// this in float), while the padded lanes get 0 / 2^-15 = 0 and therefore
// 0 * x_pad + 0 = 0 for the zero padding oneDNN requires.
constexpr float kEpsilon = 0x1p-30f;
static_assert(1.0f + kEpsilon == 1.0f, "epsilon must vanish next to var = 1");

// Scale/shift/mean/var buffers are allocated for C rounded up to the largest
// channel block, so no layout's padded channel count can outgrow them.
constexpr size_t kMaxChannelBlock = 16;

dnnl::memory::format_tag FormatTag(Layout layout) {
  using tag = dnnl::memory::format_tag;
  switch (layout) {
    case Layout::kNchw:
      return tag::nchw;
    case Layout::kNhwc:
      return tag::nhwc;
    case Layout::kNChw8c:
      return tag::nChw8c;
    case Layout::kNChw16c:
      return tag::nChw16c;
  }
  return tag::undef;
}

// Every supported tensor is handed to oneDNN as rank 4 (N, C, S, 1), S = the
// product of the spatial dims. BN is per channel, so only the memory
// arrangement matters, and for all four layouts the (N, C, S, 1) view has the
// same bytes as the original shape. It also avoids oneDNN 2.6's slow paths:
// rank-3 tensors (ncw, nCw8c, ...) only get the scalar reference
// implementation (bnorm_ref), and there is no blocked rank-2 format tag.
dnnl::memory::dims CanonicalDims(const ChannelShape& shape) {
  return {static_cast<dnnl::memory::dim>(shape.batch),
          static_cast<dnnl::memory::dim>(shape.channels),
          static_cast<dnnl::memory::dim>(shape.spatial), 1};
}

bool IsIdentityClip(const Activation& act) {
  return act.kind == Activation::Kind::kClip &&
         act.min == -std::numeric_limits<float>::infinity() &&
         act.max == std::numeric_limits<float>::infinity();
}

}  // namespace

struct OneDnnBatchNorm::Impl {
  // Everything one (shape, layout, threads) needs. Immutable once built, so
  // concurrent Runs share it without locking.
  struct Entry {
    dnnl::memory::desc data_md;
    dnnl::batch_normalization_forward bn;
    dnnl::memory::desc bn_scratchpad_md;
    bool with_clip = false;
    dnnl::eltwise_forward clip;
    dnnl::memory::desc clip_scratchpad_md;
    // Wrap Impl's parameter buffers; read-only during execution.
    dnnl::memory scale_mem, shift_mem, mean_mem, var_mem;
  };
  // Threads are part of the key: oneDNN sizes scratchpads and work splits for
  // the thread count seen at primitive creation, so a primitive is executed
  // only with the count it was created with.
  using Key = std::tuple<size_t, size_t, size_t, Layout, int>;

  Impl(std::vector<float> scale_in, std::vector<float> shift_in,
       Activation act_in)
      : channels(scale_in.size()), act(act_in) {
    const size_t padded =
        (channels + kMaxChannelBlock - 1) / kMaxChannelBlock * kMaxChannelBlock;
    // Padded entries describe an identity channel (a = 0, b = 0, var = 1) in
    // case an implementation reads whole blocks.
    scale_in.resize(padded, 0.0f);
    shift_in.resize(padded, 0.0f);
    scale = std::move(scale_in);
    shift = std::move(shift_in);
    mean.assign(padded, 0.0f);
    var.assign(padded, 1.0f);
  }

  std::shared_ptr<const Entry> Build(const ChannelShape& shape, Layout layout) {
    auto& engine = CpuEngine();
    auto e = std::make_shared<Entry>();
    e->data_md = dnnl::memory::desc(
        CanonicalDims(shape), dnnl::memory::data_type::f32, FormatTag(layout));
    // User-managed scratchpad: each Run allocates its own, so concurrent
    // executions never share one (the Debian build leaves
    // DNNL_ENABLE_CONCURRENT_EXEC off, i.e. library scratchpads are shared).
    dnnl::primitive_attr attr;
    attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);

    auto flags = dnnl::normalization_flags::use_global_stats |
                 dnnl::normalization_flags::use_scale |
                 dnnl::normalization_flags::use_shift;
    if (act.kind == Activation::Kind::kRelu) {
      flags = flags | dnnl::normalization_flags::fuse_norm_relu;
    }
    dnnl::batch_normalization_forward::desc bn_desc(
        dnnl::prop_kind::forward_inference, e->data_md, kEpsilon, flags);
    dnnl::batch_normalization_forward::primitive_desc bn_pd(bn_desc, attr,
                                                            engine);
    e->bn = dnnl::batch_normalization_forward(bn_pd);
    e->bn_scratchpad_md = bn_pd.scratchpad_desc();

    const size_t buffer_bytes = scale.size() * sizeof(float);
    for (const auto& md :
         {bn_pd.weights_desc(), bn_pd.mean_desc(), bn_pd.variance_desc()}) {
      if (md.get_size() > buffer_bytes) {
        throw Error("oneDNN BatchNorm wants " + std::to_string(md.get_size()) +
                    " bytes of per-channel parameters for " +
                    std::to_string(channels) + " channels; foldrt holds " +
                    std::to_string(buffer_bytes));
      }
    }
    e->scale_mem = dnnl::memory(bn_pd.weights_desc(), engine, scale.data());
    e->shift_mem = dnnl::memory(bn_pd.weights_desc(), engine, shift.data());
    e->mean_mem = dnnl::memory(bn_pd.mean_desc(), engine, mean.data());
    e->var_mem = dnnl::memory(bn_pd.variance_desc(), engine, var.data());

    // oneDNN 2.6 BN takes no post-ops, so Clip is a second, in-place pass.
    // eltwise_clip and eltwise_clip_v2 compute the same forward value
    // min(max(x, lo), hi); they differ only in the backward derivative at the
    // bounds. Clip(-inf, inf) is the identity and is skipped.
    if (act.kind == Activation::Kind::kClip && !IsIdentityClip(act)) {
      dnnl::eltwise_forward::desc clip_desc(dnnl::prop_kind::forward_inference,
                                            dnnl::algorithm::eltwise_clip,
                                            e->data_md, act.min, act.max);
      dnnl::eltwise_forward::primitive_desc clip_pd(clip_desc, attr, engine);
      e->with_clip = true;
      e->clip = dnnl::eltwise_forward(clip_pd);
      e->clip_scratchpad_md = clip_pd.scratchpad_desc();
    }
    return e;
  }

  std::shared_ptr<const Entry> Get(const ChannelShape& shape, Layout layout,
                                   int threads) {
    const Key key{shape.batch, shape.channels, shape.spatial, layout, threads};
    {
      std::lock_guard<std::mutex> lock(mu);
      auto it = cache.find(key);
      if (it != cache.end()) return it->second;
    }
    // Built outside the lock so that one JIT compile does not stall Runs on
    // other shapes. Two threads may race to build the same key; the first
    // insert wins and the other copy is dropped.
    auto built = Build(shape, layout);
    std::lock_guard<std::mutex> lock(mu);
    return cache.try_emplace(key, std::move(built)).first->second;
  }

  const size_t channels;
  const Activation act;
  // Never resized after construction: cached memory objects point into them.
  std::vector<float> scale, shift, mean, var;

  std::mutex mu;
  // Grows with the number of distinct shapes, which a loaded model bounds.
  std::map<Key, std::shared_ptr<const Entry>> cache;
};

OneDnnBatchNorm::OneDnnBatchNorm(std::vector<float> scale,
                                 std::vector<float> shift, Activation act) {
  if (!BatchNormSupportsActivation(act.kind)) {
    throw InvalidArgumentError("BatchNormalization cannot apply a fused " +
                               act.ToString() +
                               " (it applies none, relu or clip)");
  }
  if (scale.size() != shift.size()) {
    throw InvalidArgumentError(
        "OneDnnBatchNorm: scale has " + std::to_string(scale.size()) +
        " channels but shift has " + std::to_string(shift.size()));
  }
  impl_ = std::make_unique<Impl>(std::move(scale), std::move(shift), act);
}

OneDnnBatchNorm::~OneDnnBatchNorm() = default;

bool OneDnnBatchNorm::Supports(const std::vector<int64_t>& dims,
                               Layout layout) {
  // oneDNN's own tags cover ranks 2..5 (nc, ncw/nwc/nCw8c/..., nchw/...,
  // ncdhw/...); all are run through the rank-4 view (see CanonicalDims), which
  // also gives rank 2 the blocked layouts 2.6 has no tag for. Every Layout
  // value has a rank-4 tag.
  switch (layout) {
    case Layout::kNchw:
    case Layout::kNhwc:
    case Layout::kNChw8c:
    case Layout::kNChw16c:
      break;
    default:
      return false;
  }
  if (dims.size() < 2 || dims.size() > 5) return false;
  return std::all_of(dims.begin(), dims.end(),
                     [](int64_t d) { return d >= 0; });
}

void OneDnnBatchNorm::Run(const float* x, float* y,
                          const std::vector<int64_t>& dims, Layout layout,
                          int threads) const {
  // Cheap guards against a caller that skipped validation: without them
  // oneDNN would read past the parameter buffers.
  if (!Supports(dims, layout)) {
    throw UnsupportedError(std::string("oneDNN BatchNorm does not support "
                                       "shape ") +
                           ShapeToString(dims) + " in layout " +
                           LayoutName(layout));
  }
  const ChannelShape shape = SplitChannelShape(dims);
  if (shape.channels != impl_->channels) {
    throw InvalidArgumentError("oneDNN BatchNorm built for " +
                               std::to_string(impl_->channels) +
                               " channels got shape " + ShapeToString(dims));
  }
  if (shape.batch == 0 || shape.channels == 0 || shape.spatial == 0) return;

  threads = std::max(threads, 1);
  try {
    // Also covers primitive creation: it must see the same thread count as
    // execution.
    ScopedOmpThreads scoped_threads(threads);
    const auto entry = impl_->Get(shape, layout, threads);
    auto& engine = CpuEngine();
    // Streams are not thread-safe; a CPU stream is cheap to create.
    dnnl::stream stream(engine);
    // dnnl::memory only takes a mutable handle; BN never writes its src.
    dnnl::memory src(entry->data_md, engine, const_cast<float*>(x));
    dnnl::memory dst(entry->data_md, engine, y);

    std::unordered_map<int, dnnl::memory> args = {
        {DNNL_ARG_SRC, src},
        {DNNL_ARG_DST, dst},
        {DNNL_ARG_SCALE, entry->scale_mem},
        {DNNL_ARG_SHIFT, entry->shift_mem},
        {DNNL_ARG_MEAN, entry->mean_mem},
        {DNNL_ARG_VARIANCE, entry->var_mem},
    };
    if (entry->bn_scratchpad_md.get_size() > 0) {
      args.emplace(DNNL_ARG_SCRATCHPAD,
                   dnnl::memory(entry->bn_scratchpad_md, engine));
    }
    entry->bn.execute(stream, args);

    if (entry->with_clip) {
      std::unordered_map<int, dnnl::memory> clip_args = {
          {DNNL_ARG_SRC, dst},
          {DNNL_ARG_DST, dst},
      };
      if (entry->clip_scratchpad_md.get_size() > 0) {
        clip_args.emplace(DNNL_ARG_SCRATCHPAD,
                          dnnl::memory(entry->clip_scratchpad_md, engine));
      }
      entry->clip.execute(stream, clip_args);
    }
    stream.wait();
  } catch (const dnnl::error& e) {
    throw Error(std::string("oneDNN BatchNorm failed: ") + e.what() +
                " (dnnl_status_t " + std::to_string(e.status) + ")");
  }
}

}  // namespace foldrt::ops
