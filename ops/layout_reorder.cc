#include "ops/layout_reorder.h"

#include <string>
#include <unordered_map>
#include <utility>

#include "core/error.h"
#include "core/tensor.h"
#include "ops/batch_norm.h"
#include "ops/onednn_util.h"

namespace foldrt::ops {

struct LayoutReorder::Impl {
  std::vector<int64_t> dims;
  dnnl::memory::desc from_md, to_md;
  onednn::SharedCache<int, onednn::Reorder> cache;  // per thread count
};

LayoutReorder::LayoutReorder(std::vector<int64_t> dims, Layout from,
                             Layout to) {
  SplitChannelShape(dims);  // rank >= 2, no negative dims, no overflow
  auto impl = std::make_unique<Impl>();
  const dnnl::memory::dims d = onednn::ToDnnlDims(dims);
  impl->from_md = onednn::LayoutDesc(d, from);
  impl->to_md = onednn::LayoutDesc(d, to);
  impl->dims = std::move(dims);
  impl_ = std::move(impl);
}

LayoutReorder::~LayoutReorder() = default;
LayoutReorder::LayoutReorder(LayoutReorder&&) noexcept = default;
LayoutReorder& LayoutReorder::operator=(LayoutReorder&&) noexcept = default;

void LayoutReorder::Run(const float* x, float* y, int threads) const {
  threads = ResolveThreadCount(threads);
  for (int64_t d : impl_->dims) {
    if (d == 0) return;
  }
  try {
    onednn::ScopedOmpThreads scoped_threads(threads);
    const auto reorder = impl_->cache.GetOrBuild(threads, [&] {
      return std::make_shared<onednn::Reorder>(impl_->from_md, impl_->to_md);
    });
    auto& engine = onednn::CpuEngine();
    dnnl::stream stream(engine);
    // Read-only; dnnl::memory only takes a mutable handle.
    dnnl::memory from(impl_->from_md, engine, const_cast<float*>(x));
    dnnl::memory to(impl_->to_md, engine, y);
    reorder->Execute(stream, from, to);
    stream.wait();
  } catch (const dnnl::error& e) {
    onednn::ThrowOneDnnError("oneDNN reorder of " + ShapeToString(impl_->dims),
                             e);
  }
}

}  // namespace foldrt::ops
