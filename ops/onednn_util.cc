#include "ops/onednn_util.h"

#include <omp.h>

#include <algorithm>
#include <cstring>
#include <limits>
#include <new>
#include <string>

#include "core/error.h"

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

dnnl::memory::desc LayoutDesc(const dnnl::memory::dims& dims, Layout layout) {
  using tag = dnnl::memory::format_tag;
  if (layout == Layout::kNchw) return PlainDesc(dims);
  if (layout == Layout::kNhwc && dims.size() >= 3 && dims.size() <= 5) {
    static constexpr tag kChannelsLast[] = {tag::nwc, tag::nhwc, tag::ndhwc};
    return dnnl::memory::desc(dims, dnnl::memory::data_type::f32,
                              kChannelsLast[dims.size() - 3]);
  }
  if (layout == Layout::kNChw8c || layout == Layout::kNChw16c) {
    const bool b16 = layout == Layout::kNChw16c;
    switch (dims.size()) {
      case 3:
        return dnnl::memory::desc(dims, dnnl::memory::data_type::f32,
                                  b16 ? tag::nCw16c : tag::nCw8c);
      case 4:
        return dnnl::memory::desc(dims, dnnl::memory::data_type::f32,
                                  b16 ? tag::nChw16c : tag::nChw8c);
      case 5:
        return dnnl::memory::desc(dims, dnnl::memory::data_type::f32,
                                  b16 ? tag::nCdhw16c : tag::nCdhw8c);
      default:
        break;
    }
  }
  throw InvalidArgumentError(std::string("no oneDNN descriptor for layout ") +
                             LayoutName(layout) + " at rank " +
                             std::to_string(dims.size()));
}

bool LayoutOfDesc(const dnnl::memory::desc& desc, Layout* layout) {
  const dnnl::memory::dims dims = desc.dims();
  if (dims.size() < 3 || dims.size() > 5) return false;
  for (Layout candidate :
       {Layout::kNchw, Layout::kNhwc, Layout::kNChw16c, Layout::kNChw8c}) {
    if (desc == LayoutDesc(dims, candidate)) {
      *layout = candidate;
      return true;
    }
  }
  return false;
}

dnnl::primitive_attr MakeAttr(const Activation& act, bool sum) {
  dnnl::primitive_attr attr;
  attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  constexpr float kInf = std::numeric_limits<float>::infinity();
  dnnl::post_ops ops;
  if (sum) ops.append_sum(1.0f);
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
    case Activation::Kind::kSigmoid:
      ops.append_eltwise(1.0f, dnnl::algorithm::eltwise_logistic, 0.0f, 0.0f);
      break;
    case Activation::Kind::kSwish:
      // x * sigmoid(alpha * x) with alpha = 1.
      ops.append_eltwise(1.0f, dnnl::algorithm::eltwise_swish, 1.0f, 0.0f);
      break;
  }
  if (ops.len() > 0) attr.set_post_ops(ops);
  return attr;
}

void AddScratchpad(const dnnl::memory::desc& scratchpad_md,
                   std::unordered_map<int, dnnl::memory>* args) {
  const size_t bytes = scratchpad_md.get_size();
  if (bytes == 0) return;
  // One buffer per calling thread, grown to the largest scratchpad it ever
  // needed: fresh memory per execution would fault its pages in again
  // every run (Winograd's scratchpads are tens of MB).
  struct Buffer {
    char* data = nullptr;
    size_t bytes = 0;
    ~Buffer() { ::operator delete(data, std::align_val_t(64)); }
  };
  thread_local Buffer buffer;
  if (buffer.bytes < bytes) {
    ::operator delete(buffer.data, std::align_val_t(64));
    buffer.data = nullptr;
    buffer.bytes = 0;
    buffer.data =
        static_cast<char*>(::operator new(bytes, std::align_val_t(64)));
    buffer.bytes = bytes;
  }
  args->emplace(DNNL_ARG_SCRATCHPAD,
                dnnl::memory(scratchpad_md, CpuEngine(), buffer.data));
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

void PlainIoPrimitive::AddWeightsAndBias(PackedConstant* weights,
                                         const dnnl::memory::desc& weights_md,
                                         const std::vector<float>& bias,
                                         const dnnl::memory::desc& bias_md) {
  constants.emplace_back(DNNL_ARG_WEIGHTS, weights->Get(weights_md));
  if (!bias.empty()) {
    // Read-only during execution; the const_cast only satisfies the API.
    constants.emplace_back(
        DNNL_ARG_BIAS,
        dnnl::memory(bias_md, CpuEngine(), const_cast<float*>(bias.data())));
  }
}

dnnl::memory::dims LiftSpatial(const std::vector<int64_t>& values, int64_t unit,
                               bool lift_1d) {
  dnnl::memory::dims out = ToDnnlDims(values);
  if (lift_1d) out.insert(out.begin(), unit);
  return out;
}

dnnl::memory::dims LiftActivations(const std::vector<int64_t>& dims,
                                   bool lift_1d) {
  dnnl::memory::dims out = ToDnnlDims(dims);
  if (lift_1d) out.insert(out.begin() + 2, 1);
  return out;
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

namespace {

// A 64-byte aligned copy of `count` floats.
std::shared_ptr<const float> CopyFloats(const float* data, size_t count) {
  constexpr std::align_val_t kAlignment{64};
  float* copy = static_cast<float*>(
      ::operator new(std::max<size_t>(count, 1) * sizeof(float), kAlignment));
  std::shared_ptr<const float> owned(copy, [](const float* p) {
    ::operator delete(const_cast<float*>(p), kAlignment);
  });
  if (count > 0) std::memcpy(copy, data, count * sizeof(float));
  return owned;
}

}  // namespace

namespace {

bool IsWinogradFormat(const dnnl::memory::desc& desc) {
  return desc.data.format_kind == dnnl_format_kind_wino;
}

}  // namespace

PackedConstant::PackedConstant(const dnnl::memory::desc& source,
                               const float* data)
    : PackedConstant(source,
                     CopyFloats(data, source.get_size() / sizeof(float))) {}

PackedConstant::PackedConstant(const dnnl::memory::desc& source,
                               std::shared_ptr<const float> data)
    : source_md_(source), source_(std::move(data)) {
  if (source_ == nullptr) {
    throw InvalidArgumentError("a packed constant without data");
  }
}

dnnl::memory PackedConstant::Get(const dnnl::memory::desc& desc) {
  auto& engine = CpuEngine();
  // What to build the layout from: the source while it is held, else the
  // first packed copy. A local reference keeps the source alive through the
  // reorder even if another thread lets go of it meanwhile.
  std::shared_ptr<const float> source;
  dnnl::memory::desc from_md;
  dnnl::memory from;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& [packed_md, memory] : packed_) {
      if (packed_md == desc) return memory;
    }
    source = source_;
    if (source == nullptr) {
      for (const auto& [packed_md, memory] : packed_) {
        if (!IsWinogradFormat(packed_md)) {
          from_md = packed_md;
          from = memory;
          break;
        }
      }
      if (!from) throw InvalidArgumentError("a packed constant without data");
    }
  }
  // dnnl::memory only takes a mutable handle; nothing writes the source.
  float* source_data = const_cast<float*>(source.get());
  const bool in_place = source != nullptr && desc == source_md_;
  dnnl::memory packed;
  if (in_place) {
    packed = dnnl::memory(source_md_, engine, source_data);
  } else {
    if (source != nullptr) {
      from_md = source_md_;
      from = dnnl::memory(source_md_, engine, source_data);
    }
    // Library-allocated: owned by the memory object, which the cached
    // primitives keep alive.
    packed = dnnl::memory(desc, engine);
    dnnl::stream stream(engine);
    if (IsWinogradFormat(desc) && from_md != source_md_) {
      // oneDNN transforms weights for Winograd from the plain layout only:
      // rebuild it from the packed copy first.
      dnnl::memory plain(source_md_, engine);
      Reorder(from_md, source_md_).Execute(stream, from, plain);
      from_md = source_md_;
      from = plain;
    }
    Reorder(from_md, desc).Execute(stream, from, packed);
    stream.wait();
  }
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& [packed_md, memory] : packed_) {
    if (packed_md == desc) return memory;  // another thread won the race
  }
  packed_.emplace_back(desc, packed);
  if (in_place) {
    // Another thread may have let go of source_ meanwhile: the entry points
    // into `source`, so hold it again, for good.
    source_ = std::move(source);
    source_in_use_ = true;
  } else if (!source_in_use_ && !IsWinogradFormat(desc)) {
    // packed_ now holds a full copy to reorder later layouts from (oneDNN
    // reorders into Winograd's transformed weights, never out of them).
    source_.reset();
  }
  return packed;
}

}  // namespace foldrt::ops::onednn
