#include "ops/onednn_util.h"

#include <omp.h>

#include <limits>

#include "runtime/core/error.h"

namespace foldrt::ops::onednn {

dnnl::engine& CpuEngine() {
  static dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  return engine;
}

ScopedOmpThreads::ScopedOmpThreads(int threads)
    : previous_(omp_get_max_threads()) {
  changed_ = threads != previous_;
  if (changed_) omp_set_num_threads(threads);
}

ScopedOmpThreads::~ScopedOmpThreads() {
  if (changed_) omp_set_num_threads(previous_);
}

std::string DimsToString(const std::vector<int64_t>& dims) {
  std::string s = "(";
  for (size_t i = 0; i < dims.size(); ++i) {
    if (i) s += ", ";
    s += std::to_string(dims[i]);
  }
  return s + ")";
}

dnnl::memory::dims ToDnnlDims(const std::vector<int64_t>& dims) {
  return dnnl::memory::dims(dims.begin(), dims.end());
}

dnnl::memory::desc PlainDesc(const dnnl::memory::dims& dims) {
  // Tags rather than explicit strides, so that the descriptor compares equal
  // to the one oneDNN builds when a primitive picks the plain layout.
  using tag = dnnl::memory::format_tag;
  static constexpr tag kTags[] = {tag::a,    tag::ab,    tag::abc,
                                  tag::abcd, tag::abcde, tag::abcdef};
  if (dims.empty() || dims.size() > 6) {
    throw InvalidArgumentError("no plain oneDNN layout for rank " +
                               std::to_string(dims.size()));
  }
  return dnnl::memory::desc(dims, dnnl::memory::data_type::f32,
                            kTags[dims.size() - 1]);
}

dnnl::primitive_attr MakeAttr(const Activation& act) {
  dnnl::primitive_attr attr;
  attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  constexpr float kInf = std::numeric_limits<float>::infinity();
  dnnl::post_ops ops;
  switch (act.kind) {
    case Activation::Kind::kNone:
      break;
    case Activation::Kind::kRelu:
      ops.append_eltwise(1.0f, dnnl::algorithm::eltwise_relu, 0.0f, 0.0f);
      break;
    case Activation::Kind::kClip:
      // eltwise_clip and eltwise_clip_v2 differ only in the backward
      // derivative at the bounds.
      if (act.min != -kInf || act.max != kInf) {
        ops.append_eltwise(1.0f, dnnl::algorithm::eltwise_clip, act.min,
                           act.max);
      }
      break;
  }
  if (ops.len() > 0) attr.set_post_ops(ops);
  return attr;
}

void AddScratchpad(const dnnl::memory::desc& scratchpad_md,
                   std::unordered_map<int, dnnl::memory>* args) {
  if (scratchpad_md.get_size() == 0) return;
  args->emplace(DNNL_ARG_SCRATCHPAD, dnnl::memory(scratchpad_md, CpuEngine()));
}

void ThrowOneDnnError(const std::string& what, const dnnl::error& e) {
  throw Error(what + " failed: " + e.what() + " (dnnl_status_t " +
              std::to_string(e.status) + ")");
}

Reorder::Reorder(const dnnl::memory::desc& from, const dnnl::memory::desc& to) {
  auto& engine = CpuEngine();
  dnnl::reorder::primitive_desc pd(engine, from, engine, to, MakeAttr());
  primitive = dnnl::reorder(pd);
  scratchpad_md = pd.scratchpad_desc();
}

void Reorder::Execute(dnnl::stream& stream, const dnnl::memory& from,
                      const dnnl::memory& to) const {
  std::unordered_map<int, dnnl::memory> args = {{DNNL_ARG_FROM, from},
                                                {DNNL_ARG_TO, to}};
  AddScratchpad(scratchpad_md, &args);
  primitive.execute(stream, args);
}

void PlainIoPrimitive::SetIo(const dnnl::memory::desc& user_src,
                             const dnnl::memory::desc& user_dst,
                             const dnnl::memory::desc& chosen_src,
                             const dnnl::memory::desc& chosen_dst,
                             const dnnl::memory::desc& scratchpad) {
  user_src_md = user_src;
  user_dst_md = user_dst;
  src_md = chosen_src;
  dst_md = chosen_dst;
  scratchpad_md = scratchpad;
  reorder_src = src_md != user_src_md;
  reorder_dst = dst_md != user_dst_md;
  if (reorder_src) src_reorder = Reorder(user_src_md, src_md);
  if (reorder_dst) dst_reorder = Reorder(dst_md, user_dst_md);
}

void PlainIoPrimitive::Execute(const float* x, float* y) const {
  auto& engine = CpuEngine();
  // Streams are not thread-safe; a CPU stream is cheap to create.
  dnnl::stream stream(engine);
  // dnnl::memory only takes a mutable handle; nothing writes the source.
  dnnl::memory user_src(user_src_md, engine, const_cast<float*>(x));
  dnnl::memory user_dst(user_dst_md, engine, y);
  dnnl::memory src = user_src;
  if (reorder_src) {
    src = dnnl::memory(src_md, engine);
    src_reorder.Execute(stream, user_src, src);
  }
  dnnl::memory dst = reorder_dst ? dnnl::memory(dst_md, engine) : user_dst;
  std::unordered_map<int, dnnl::memory> args = {{DNNL_ARG_SRC, src},
                                                {DNNL_ARG_DST, dst}};
  for (const auto& [arg, memory] : constants) args.emplace(arg, memory);
  AddScratchpad(scratchpad_md, &args);
  primitive.execute(stream, args);
  if (reorder_dst) dst_reorder.Execute(stream, dst, user_dst);
  stream.wait();
}

PackedConstant::PackedConstant(const dnnl::memory::desc& source,
                               const float* data)
    : source_md_(source),
      source_(data, data + source.get_size() / sizeof(float)) {}

dnnl::memory PackedConstant::Get(const dnnl::memory::desc& desc) {
  auto& engine = CpuEngine();
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& [packed_md, memory] : packed_) {
      if (packed_md == desc) return memory;
    }
  }
  dnnl::memory packed;
  if (desc == source_md_) {
    packed = dnnl::memory(source_md_, engine, source_.data());
  } else {
    // Library-allocated: owned by the memory object, which the cached
    // primitives keep alive.
    packed = dnnl::memory(desc, engine);
    dnnl::memory source(source_md_, engine, source_.data());
    dnnl::stream stream(engine);
    Reorder(source_md_, desc).Execute(stream, source, packed);
    stream.wait();
  }
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& [packed_md, memory] : packed_) {
    if (packed_md == desc) return memory;  // another thread won the race
  }
  packed_.emplace_back(desc, packed);
  return packed;
}

}  // namespace foldrt::ops::onednn
