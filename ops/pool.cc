// ops::Pool: the op (see pool.h): attributes, the prepared state cached per
// (dims, layout, threads), and which path a Run takes. The paths live in
// pool_window_hwy.cc and pool_global_hwy.cc (Highway kernels), and
// pool_onednn.cc; attribute and plane resolution in pool_plan.cc.
#include "ops/pool.h"

#include <algorithm>
#include <memory>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "core/error.h"
#include "core/tensor.h"
#include "ops/batch_norm.h"
#include "ops/enum_names.h"
#include "ops/onednn_util.h"
#include "ops/pool_internal.h"
#include "ops/ref/pool_ref.h"

namespace foldrt::ops {

using pool_internal::IsGlobal;
using pool_internal::PoolEntry;

namespace {

constexpr EnumName<PoolKind> kKindNames[] = {
    {PoolKind::kMax, "MaxPool"},
    {PoolKind::kAverage, "AveragePool"},
    {PoolKind::kGlobalAverage, "GlobalAveragePool"},
    {PoolKind::kGlobalMax, "GlobalMaxPool"},
};

}  // namespace

const char* PoolKindName(PoolKind kind) { return NameOf(kKindNames, kind); }

struct Pool::Impl {
  // (input dims, layout, thread count).
  using Key = std::tuple<std::vector<int64_t>, Layout, int>;

  PoolAttributes attrs;    // window vectors filled with ONNX defaults
  ref::PoolParams params;  // the same, for the reference shape rules
  onednn::SharedCache<Key, PoolEntry> cache;

  // Whether the Highway plane kernels take this plain-layout problem: the
  // global kinds, and 1-D / 2-D windows without dilation.
  bool UsesHwy(const std::vector<int64_t>& x_dims) const {
    if (IsGlobal(attrs.kind)) return true;
    return x_dims.size() <= 4 &&
           std::all_of(attrs.dilations.begin(), attrs.dilations.end(),
                       [](int64_t d) { return d == 1; });
  }

  std::shared_ptr<const PoolEntry> BuildHwy(
      const std::vector<int64_t>& x_dims,
      const std::vector<int64_t>& y_dims) const {
    auto entry = std::make_shared<PoolEntry>();
    entry->planes = x_dims[0] * x_dims[1];
    entry->plane_floats = static_cast<size_t>(ShapeNumElements(
        std::vector<int64_t>(x_dims.begin() + 2, x_dims.end())));
    if (IsGlobal(attrs.kind)) {
      entry->path = PoolEntry::Path::kHwyGlobal;
    } else {
      entry->path = PoolEntry::Path::kHwyWindow;
      entry->plan = pool_internal::MakePlanePlan(attrs, x_dims, y_dims);
    }
    return entry;
  }

  // What Run does for (x_dims, layout): null for a zero batch or channel
  // count (valid, nothing to compute).
  std::shared_ptr<const PoolEntry> Build(const std::vector<int64_t>& x_dims,
                                         const std::vector<int64_t>& y_dims,
                                         Layout layout) const {
    if (y_dims[0] == 0 || y_dims[1] == 0) return nullptr;
    if (layout == Layout::kNchw && UsesHwy(x_dims)) {
      return BuildHwy(x_dims, y_dims);
    }
    // (SupportsLayout admits nhwc for rank 4 only.)
    if (layout == Layout::kNhwc && IsGlobal(attrs.kind) &&
        x_dims[2] * x_dims[3] > 0) {
      return pool_internal::BuildChannelsLastGlobalEntry(x_dims);
    }
    return pool_internal::BuildOneDnnEntry(attrs, x_dims, y_dims, layout);
  }
};

Pool::Pool(PoolAttributes attrs) {
  auto impl = std::make_unique<Impl>();
  if (!IsGlobal(attrs.kind)) {
    impl->params = pool_internal::ResolveWindowAttributes(&attrs);
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
        throw InvalidArgumentError(
            std::string(PoolKindName(impl_->attrs.kind)) + " of " +
            ShapeToString(input_dims) + ": empty spatial extent");
      }
    }
    return y_dims;
  }
  if (input_dims.size() != impl_->attrs.kernel.size() + 2) {
    throw InvalidArgumentError(std::string(PoolKindName(impl_->attrs.kind)) +
                               " of " + ShapeToString(input_dims) + ": a " +
                               std::to_string(impl_->attrs.kernel.size()) +
                               "-D window needs an input of rank " +
                               std::to_string(impl_->attrs.kernel.size() + 2));
  }
  return ref::PoolOutputShape(input_dims, impl_->params);
}

bool Pool::SupportsLayout(Layout layout, size_t rank) const {
  switch (layout) {
    case Layout::kNchw:
      return true;
    case Layout::kNhwc:
    case Layout::kNChw8c:
    case Layout::kNChw16c:
      return rank == 4;
  }
  return false;
}

void Pool::Run(const float* x, const std::vector<int64_t>& x_dims, float* y,
               int threads) const {
  Run(x, x_dims, Layout::kNchw, y, threads);
}

void Pool::Run(const float* x, const std::vector<int64_t>& x_dims,
               Layout layout, float* y, int threads) const {
  if (!SupportsLayout(layout, x_dims.size())) {
    throw InvalidArgumentError(
        std::string(PoolKindName(impl_->attrs.kind)) + " of " +
        ShapeToString(x_dims) + ": layout " + LayoutName(layout) +
        " is not supported for rank " + std::to_string(x_dims.size()) +
        " (nchw any rank, nhwc / nChw8c / nChw16c rank 4)");
  }
  threads = ResolveThreadCount(threads);
  const bool max = impl_->attrs.kind == PoolKind::kMax ||
                   impl_->attrs.kind == PoolKind::kGlobalMax;
  try {
    onednn::ScopedOmpThreads scoped_threads(threads);
    const auto entry = impl_->cache.GetOrBuild(
        Impl::Key(x_dims, layout, threads),
        [&] { return impl_->Build(x_dims, OutputDims(x_dims), layout); });
    if (entry == nullptr) return;
    switch (entry->path) {
      case PoolEntry::Path::kHwyWindow: {
        const auto kernel = pool_internal::ChosenWindowPlanes();
        pool_internal::ParallelPlanes(static_cast<size_t>(entry->planes),
                                      entry->plane_floats, threads,
                                      [&](size_t begin, size_t end) {
                                        kernel(entry->plan, x, y, begin, end);
                                      });
        break;
      }
      case PoolEntry::Path::kHwyGlobal: {
        const auto kernel = pool_internal::ChosenGlobalPlanes();
        pool_internal::ParallelPlanes(
            static_cast<size_t>(entry->planes), entry->plane_floats, threads,
            [&](size_t begin, size_t end) {
              kernel(max, x, entry->plane_floats, y, begin, end);
            });
        break;
      }
      case PoolEntry::Path::kChannelsLastGlobal:
        pool_internal::RunChannelsLastGlobal(*entry, max, x, y, threads);
        break;
      case PoolEntry::Path::kOneDnn:
        entry->primitive.Execute(x, y);
        if (!entry->rescale[0].empty()) entry->Rescale(y);
        break;
    }
  } catch (const dnnl::error& e) {
    onednn::ThrowOneDnnError(
        std::string("oneDNN ") + PoolKindName(impl_->attrs.kind) + " on x " +
            ShapeToString(x_dims) + " " + LayoutName(layout),
        e);
  }
}

}  // namespace foldrt::ops
