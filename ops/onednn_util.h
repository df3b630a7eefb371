// Internal to ops/: the pieces every oneDNN-backed op shares. Includes
// dnnl.hpp, so only ops/*.cc may include it; public op headers keep oneDNN
// behind a pImpl.
//
// The conventions these helpers encode:
//  - one CPU engine per process;
//  - primitives are created and executed under the caller's thread count
//    (ScopedOmpThreads), and the count is part of every cache key, because
//    oneDNN sizes work splits and scratchpads for the count it sees at
//    creation;
//  - user-managed scratchpads, one per calling thread, so concurrent Runs
//    of one primitive never share one (Debian's build leaves
//    DNNL_ENABLE_CONCURRENT_EXEC off) and a run allocates none;
//  - a dnnl::error never leaves ops/: it becomes a foldrt::Error.
#ifndef FOLDRT_OPS_ONEDNN_UTIL_H_
#define FOLDRT_OPS_ONEDNN_UTIL_H_

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <oneapi/dnnl/dnnl.hpp>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "ops/activation.h"
#include "ops/layout.h"

namespace foldrt::ops::onednn {

// The process-wide CPU engine (engines are thread-safe; creating one per op
// would re-query the CPU each time).
dnnl::engine& CpuEngine();

// Sets the calling thread's OpenMP nthreads-var (which oneDNN's OpenMP build
// reads) for the scope. The ICV belongs to the caller's data environment, so
// this affects no other thread.
class ScopedOmpThreads {
 public:
  explicit ScopedOmpThreads(int threads);
  ~ScopedOmpThreads();
  ScopedOmpThreads(const ScopedOmpThreads&) = delete;
  ScopedOmpThreads& operator=(const ScopedOmpThreads&) = delete;

 private:
  int previous_;
  bool changed_ = false;
};

dnnl::memory::dims ToDnnlDims(const std::vector<int64_t>& dims);

// The dense row-major (C-contiguous) f32 descriptor of `dims`, any rank 1..6.
dnnl::memory::desc PlainDesc(const dnnl::memory::dims& dims);

// The f32 descriptor of activations `dims` (N, C, spatial...) in `layout`:
// any rank for kNchw, rank 3 to 5 for channels-last (nwc, nhwc, ndhwc) and
// the blocked layouts (nCw16c, nChw16c, nCdhw16c, ...). Throws
// InvalidArgumentError for another rank.
dnnl::memory::desc LayoutDesc(const dnnl::memory::dims& dims, Layout layout);

// Which Layout `desc` is, or false when it is none of them (a
// double-blocked weights-like layout, say).
bool LayoutOfDesc(const dnnl::memory::desc& desc, Layout* layout);

// Attributes every foldrt primitive is created with: user scratchpad, plus
// `act` as an eltwise post-op (ReLU as eltwise_relu, Clip as eltwise_clip,
// Sigmoid as eltwise_logistic, Swish as eltwise_swish with alpha 1;
// Clip(-inf, inf) is the identity and adds nothing).
//
// oneDNN's JIT eltwise turns ReLU(NaN) into 0 and Clip(NaN) into the lower
// bound, unlike ApplyActivation (NaN stays NaN); see batch_norm_onednn.h.
// With `sum`, a sum post-op (dst += result) comes first, so that
// act(result + dst) is what lands in dst.
dnnl::primitive_attr MakeAttr(const Activation& act = {}, bool sum = false);

// The calling thread's scratchpad buffer, grown to at least the size
// `scratchpad_md` needs, added to `args` under DNNL_ARG_SCRATCHPAD (nothing
// when the primitive needs none). Valid until the thread's next
// AddScratchpad: execute the primitive before preparing another one. Each
// thread keeps its largest scratchpad until it exits.
void AddScratchpad(const dnnl::memory::desc& scratchpad_md,
                   std::unordered_map<int, dnnl::memory>* args);

// Rethrows a dnnl::error as foldrt::Error, prefixed with `what` (e.g.
// "oneDNN Conv").
[[noreturn]] void ThrowOneDnnError(const std::string& what,
                                   const dnnl::error& e);

// A reorder between two descriptors of the same tensor, prepared once.
struct Reorder {
  dnnl::reorder primitive;
  dnnl::memory::desc scratchpad_md;

  Reorder() = default;
  Reorder(const dnnl::memory::desc& from, const dnnl::memory::desc& to);
  void Execute(dnnl::stream& stream, const dnnl::memory& from,
               const dnnl::memory& to) const;
};

class PackedConstant;

// A primitive of the "plain src in, plain dst out" kind every op here runs
// (Conv, ConvTranspose, MatMul, pooling), with its (already reordered)
// constant operands. When the primitive picked other src/dst formats than
// the user's plain ones, the Run reorders into and out of temporary buffers
// (a cost a later layout-propagation pass removes). Immutable once built, so
// concurrent Runs share it without locking.
struct PlainIoPrimitive {
  dnnl::primitive primitive;
  dnnl::memory::desc user_src_md, user_dst_md;  // the caller's buffers
  dnnl::memory::desc src_md, dst_md;            // what the primitive wants
  dnnl::memory::desc scratchpad_md;
  bool reorder_src = false, reorder_dst = false;
  Reorder src_reorder, dst_reorder;
  // Extra constant arguments (DNNL_ARG_WEIGHTS, DNNL_ARG_BIAS); read-only.
  std::vector<std::pair<int, dnnl::memory>> constants;

  // Fills the src/dst fields and prepares the reorders for a primitive
  // whose descriptor chose `src_md` / `dst_md`.
  void SetIo(const dnnl::memory::desc& user_src,
             const dnnl::memory::desc& user_dst,
             const dnnl::memory::desc& chosen_src,
             const dnnl::memory::desc& chosen_dst,
             const dnnl::memory::desc& scratchpad);

  // The weights (in the layout `weights_md` the primitive chose, reordered
  // once) and, unless `bias` is empty, the bias as constant arguments. The
  // bias is read in place: it must outlive the primitive. Must be called
  // under the thread count the primitive runs with (the weight reorder is
  // parallel).
  void AddWeightsAndBias(PackedConstant* weights,
                         const dnnl::memory::desc& weights_md,
                         const std::vector<float>& bias,
                         const dnnl::memory::desc& bias_md);

  // Runs src -> primitive -> dst on a fresh stream and waits. Must be called
  // under the thread count the primitive was created with.
  void Execute(const float* x, float* y) const;
};

// `values` (1 to 3 spatial values of a window attribute) or `dims` (N, C,
// spatial...) as oneDNN dims; with `lift_1d`, a 1-D problem as 2-D with a
// unit height: `unit` prepended to the values, a unit axis inserted after C.
// Conv, ConvTranspose and pooling run 1-D that way, through the same kernel
// selection as images.
dnnl::memory::dims LiftSpatial(const std::vector<int64_t>& values, int64_t unit,
                               bool lift_1d);
dnnl::memory::dims LiftActivations(const std::vector<int64_t>& dims,
                                   bool lift_1d);

// Caches immutable values (built primitives) per key. Values are built
// outside the lock so that one JIT compile does not stall Runs on other
// keys; two threads may race to build the same key, the first insert wins.
// Grows with the number of distinct keys, which a loaded model bounds.
template <typename Key, typename Value>
class SharedCache {
 public:
  template <typename Build>
  std::shared_ptr<const Value> GetOrBuild(const Key& key, Build&& build) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto it = map_.find(key);
      if (it != map_.end()) return it->second;
    }
    std::shared_ptr<const Value> built = build();
    std::lock_guard<std::mutex> lock(mu_);
    return map_.try_emplace(key, std::move(built)).first->second;
  }

 private:
  std::mutex mu_;
  std::map<Key, std::shared_ptr<const Value>> map_;
};

// A constant operand (weights): the plain source the user gave, reordered
// once into each layout a primitive asks for and kept in that layout. The
// chosen layout depends on the input shape and thread count, so several may
// coexist; in practice one or two.
//
// The source is only held until the first reorder: after it, this keeps the
// packed copies alone, and a later layout (another shape or thread count) is
// reordered from the first packed copy (oneDNN reorders any layout of a
// tensor to any other, exactly for f32). When a primitive takes the source
// layout itself, the source is used in place and kept.
class PackedConstant {
 public:
  // `source` describes `data` (any strides); the data is copied.
  PackedConstant(const dnnl::memory::desc& source, const float* data);
  // The same without the copy: `data` is shared, and held (with whatever
  // owns it) until no longer needed. Nobody may write it meanwhile.
  PackedConstant(const dnnl::memory::desc& source,
                 std::shared_ptr<const float> data);
  PackedConstant(const PackedConstant&) = delete;
  PackedConstant& operator=(const PackedConstant&) = delete;

  // The constant in layout `desc`, reordering it on first use. Must be
  // called under the caller's thread count (the reorder runs in parallel).
  dnnl::memory Get(const dnnl::memory::desc& desc);

  const dnnl::memory::desc& source_desc() const { return source_md_; }

 private:
  dnnl::memory::desc source_md_;
  std::mutex mu_;
  // The plain source, until a reorder produced a copy later layouts can be
  // reordered from (not a Winograd one); null after.
  std::shared_ptr<const float> source_;
  // True once a primitive uses source_ in place (a packed_ entry points into
  // it): it is then kept for good.
  bool source_in_use_ = false;
  std::vector<std::pair<dnnl::memory::desc, dnnl::memory>> packed_;
};

}  // namespace foldrt::ops::onednn

#endif  // FOLDRT_OPS_ONEDNN_UTIL_H_
