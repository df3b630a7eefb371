#include "ops/conv.h"

#include <sys/mman.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <map>
#include <mutex>
#include <new>
#include <string>
#include <tuple>
#include <unordered_map>
#include <utility>

#include "core/error.h"
#include "core/tensor.h"
#include "ops/batch_norm.h"
#include "ops/onednn_util.h"
#include "ops/ref/conv_ref.h"
#include "ops/ref/shape_util.h"

namespace foldrt::ops {
namespace {

// Winograd-or-direct decisions by problem (shapes, attributes, post-ops),
// process-wide: ResNet-50 has 16 stride-1 3x3 convolutions but four
// problems.
struct AlgorithmChoices {
  std::mutex mu;
  std::map<std::string, bool> winograd;
};
AlgorithmChoices& Choices() {
  static AlgorithmChoices* const choices = new AlgorithmChoices;
  return *choices;
}

// Pages for TimePrimitive's buffers, straight from the kernel and given
// back when it returns: from malloc they could stay in the heap (glibc
// serves up to 32 MiB from it) and raise the process's resident memory for
// good.
class MappedBuffer {
 public:
  explicit MappedBuffer(size_t bytes) : bytes_(std::max<size_t>(bytes, 1)) {
    data_ = mmap(nullptr, bytes_, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (data_ == MAP_FAILED) throw std::bad_alloc();
  }
  ~MappedBuffer() { munmap(data_, bytes_); }
  MappedBuffer(const MappedBuffer&) = delete;
  MappedBuffer& operator=(const MappedBuffer&) = delete;
  void* data() const { return data_; }

 private:
  size_t bytes_;
  void* data_;
};

// Seconds of the fastest of a few runs of `pd` on zero-filled buffers (the
// JIT kernels' speed does not depend on the values; fresh anonymous pages
// read as zeros), after one run that pays for page faults.
double TimePrimitive(const dnnl::convolution_forward::primitive_desc& pd,
                     bool has_bias) {
  auto& engine = onednn::CpuEngine();
  std::vector<std::unique_ptr<MappedBuffer>> buffers;
  std::unordered_map<int, dnnl::memory> args;
  const auto add = [&](int arg, const dnnl::memory::desc& desc) {
    buffers.push_back(std::make_unique<MappedBuffer>(desc.get_size()));
    args.emplace(arg, dnnl::memory(desc, engine, buffers.back()->data()));
  };
  add(DNNL_ARG_SRC, pd.src_desc());
  add(DNNL_ARG_WEIGHTS, pd.weights_desc());
  add(DNNL_ARG_DST, pd.dst_desc());
  add(DNNL_ARG_SCRATCHPAD, pd.scratchpad_desc());
  if (has_bias) add(DNNL_ARG_BIAS, pd.bias_desc());
  dnnl::convolution_forward primitive(pd);
  dnnl::stream stream(engine);
  double best = 1e30;
  for (int run = 0; run < 3; ++run) {
    const auto start = std::chrono::steady_clock::now();
    primitive.execute(stream, args);
    stream.wait();
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
            .count();
    if (run > 0) best = std::min(best, seconds);
  }
  return best;
}

// A built convolution and what it is.
struct ConvPrimitive {
  onednn::PlainIoPrimitive io;
  Conv::Implementation implementation;
};

}  // namespace

struct Conv::Impl {
  // Input dims, threads, whether src/dst are "any" with plain user
  // buffers (the plain Run), else the src and dst layouts.
  using Key = std::tuple<std::vector<int64_t>, int, bool, Layout, Layout>;

  std::vector<int64_t> weight_dims;  // ONNX (Cout, Cin / g, k...)
  ref::ConvParams params;
  Activation act;
  bool accumulate = false;  // ConvAttributes::accumulate
  bool winograd = false;    // ConvAttributes::winograd, for eligible shapes
  std::vector<float> bias;  // empty when there is none
  // 1-D convolutions run as 2-D with a unit height, so that they go through
  // the same kernel selection as images.
  bool lift_1d = false;
  // Weights in oneDNN's logical order ((g,) Cout / g, Cin / g, (1,) k...);
  // the ONNX buffer already is that, dense.
  std::unique_ptr<onednn::PackedConstant> weights;
  onednn::SharedCache<Key, ConvPrimitive> cache;

  // ONNX spatial values -> oneDNN's, with the unit axis of lifted 1-D.
  dnnl::memory::dims Spatial(const std::vector<int64_t>& values,
                             int64_t unit) const {
    return onednn::LiftSpatial(values, unit, lift_1d);
  }
  dnnl::memory::dims Activations(const std::vector<int64_t>& dims) const {
    return onednn::LiftActivations(dims, lift_1d);
  }

  // Whether input `x_dims` runs Winograd: allowed, oneDNN has it for this
  // problem, and it was at least 10 % faster than direct when timed (the
  // margin covers timing noise and the reorders a layout change may add
  // around it).
  bool ChooseWinograd(const std::vector<int64_t>& x_dims,
                      const std::vector<int64_t>& y_dims, int threads) const {
    if (!winograd) return false;
    std::string key =
        ShapeToString(x_dims) + "w" + ShapeToString(weight_dims) + "p" +
        ShapeToString(params.pads_begin) + ShapeToString(params.pads_end) +
        "a" + act.ToString() + (accumulate ? "+sum" : "") +
        (bias.empty() ? "" : "+bias") + "t" + std::to_string(threads);
    AlgorithmChoices& choices = Choices();
    {
      std::lock_guard<std::mutex> lock(choices.mu);
      const auto it = choices.winograd.find(key);
      if (it != choices.winograd.end()) return it->second;
    }
    bool faster = false;
    try {
      onednn::ScopedOmpThreads scoped_threads(threads);
      const auto wino = DescribeExactly(x_dims, y_dims, nullptr,
                                        dnnl::algorithm::convolution_winograd);
      const auto direct = DescribeExactly(x_dims, y_dims, nullptr,
                                          dnnl::algorithm::convolution_direct);
      faster = TimePrimitive(wino, !bias.empty()) <
               0.9 * TimePrimitive(direct, !bias.empty());
    } catch (const dnnl::error&) {
      // No Winograd implementation for this problem on this CPU.
    }
    std::lock_guard<std::mutex> lock(choices.mu);
    return choices.winograd.emplace(key, faster).first->second;
  }

  // The algorithm for input `x_dims`: Winograd where ChooseWinograd says
  // so, direct otherwise.
  dnnl::algorithm AlgorithmFor(const std::vector<int64_t>& x_dims,
                               const std::vector<int64_t>& y_dims,
                               int threads) const {
    return ChooseWinograd(x_dims, y_dims, threads)
               ? dnnl::algorithm::convolution_winograd
               : dnnl::algorithm::convolution_direct;
  }

  // With `layouts` null, src and dst are "any" and the primitive converts
  // from and to plain NCHW; otherwise they are exactly those layouts. A
  // Winograd request oneDNN refuses in these layouts (a layout the caller
  // forced) gets the direct algorithm, and *algorithm says so.
  dnnl::convolution_forward::primitive_desc Describe(
      const std::vector<int64_t>& x_dims, const std::vector<int64_t>& y_dims,
      const Layouts* layouts, dnnl::algorithm* algorithm) const {
    if (*algorithm == dnnl::algorithm::convolution_winograd && layouts) {
      try {
        return DescribeExactly(x_dims, y_dims, layouts, *algorithm);
      } catch (const dnnl::error&) {
        *algorithm = dnnl::algorithm::convolution_direct;
      }
    }
    return DescribeExactly(x_dims, y_dims, layouts, *algorithm);
  }
  // Throws dnnl::error where oneDNN has no implementation.
  dnnl::convolution_forward::primitive_desc DescribeExactly(
      const std::vector<int64_t>& x_dims, const std::vector<int64_t>& y_dims,
      const Layouts* layouts, dnnl::algorithm algorithm) const {
    using dnnl::memory;
    auto& engine = onednn::CpuEngine();
    const memory::dims src_dims = Activations(x_dims);
    const memory::dims dst_dims = Activations(y_dims);
    const memory::desc src_any =
        layouts ? onednn::LayoutDesc(src_dims, layouts->src)
                : memory::desc(src_dims, memory::data_type::f32,
                               memory::format_tag::any);
    const memory::desc dst_any =
        layouts ? onednn::LayoutDesc(dst_dims, layouts->dst)
                : memory::desc(dst_dims, memory::data_type::f32,
                               memory::format_tag::any);
    const memory::desc weights_any(weights->source_desc().dims(),
                                   memory::data_type::f32,
                                   memory::format_tag::any);
    const memory::desc bias_md =
        bias.empty() ? memory::desc()
                     : memory::desc({weight_dims[0]}, memory::data_type::f32,
                                    memory::format_tag::a);
    std::vector<int64_t> dnnl_dilations = params.dilations;
    for (int64_t& d : dnnl_dilations) d -= 1;  // oneDNN: 0 = dense
    dnnl::convolution_forward::desc desc(
        dnnl::prop_kind::forward_inference, algorithm, src_any, weights_any,
        bias_md, dst_any, Spatial(params.strides, 1),
        Spatial(dnnl_dilations, 0), Spatial(params.pads_begin, 0),
        Spatial(params.pads_end, 0));
    return dnnl::convolution_forward::primitive_desc(
        desc, onednn::MakeAttr(act, accumulate), engine);
  }

  std::shared_ptr<ConvPrimitive> Build(const std::vector<int64_t>& x_dims,
                                       const std::vector<int64_t>& y_dims,
                                       const Layouts* layouts,
                                       int threads) const {
    using dnnl::memory;
    dnnl::algorithm algorithm = AlgorithmFor(x_dims, y_dims, threads);
    const dnnl::convolution_forward::primitive_desc pd =
        Describe(x_dims, y_dims, layouts, &algorithm);
    const memory::dims src_dims = Activations(x_dims);
    const memory::dims dst_dims = Activations(y_dims);
    auto prim = std::make_shared<ConvPrimitive>();
    prim->implementation.algorithm =
        algorithm == dnnl::algorithm::convolution_winograd
            ? Algorithm::kWinograd
            : Algorithm::kDirect;
    prim->implementation.name = pd.impl_info_str();
    onednn::PlainIoPrimitive& io = prim->io;
    io.primitive = dnnl::convolution_forward(pd);
    // With explicit layouts the chosen descriptors are the user's: SetIo
    // prepares no reorder.
    io.SetIo(layouts ? onednn::LayoutDesc(src_dims, layouts->src)
                     : onednn::PlainDesc(src_dims),
             layouts ? onednn::LayoutDesc(dst_dims, layouts->dst)
                     : onednn::PlainDesc(dst_dims),
             pd.src_desc(), pd.dst_desc(), pd.scratchpad_desc());
    io.AddWeightsAndBias(weights.get(), pd.weights_desc(), bias,
                         pd.bias_desc());
    return prim;
  }

  // Calls fn with the primitive for input `x_dims` under `threads` (layouts
  // null: the plain Run's, src and dst "any"), built and cached on first
  // use; null for a zero batch, which is valid and has nothing to compute.
  // Primitive creation, the weight reorder and fn all run under the thread
  // count the cache key names; oneDNN's errors come out as foldrt's.
  template <class Fn>
  void WithPrimitive(const std::vector<int64_t>& x_dims, const Layouts* layouts,
                     int threads, Fn&& fn) {
    try {
      onednn::ScopedOmpThreads scoped_threads(threads);
      const Key key =
          layouts != nullptr
              ? Key(x_dims, threads, false, layouts->src, layouts->dst)
              : Key(x_dims, threads, true, Layout::kNchw, Layout::kNchw);
      const auto prim = cache.GetOrBuild(key, [&] {
        const std::vector<int64_t> y_dims =
            ref::ConvOutputShape(x_dims, weight_dims, params);
        return y_dims[0] == 0 ? nullptr
                              : Build(x_dims, y_dims, layouts, threads);
      });
      fn(prim.get());
    } catch (const dnnl::error& e) {
      onednn::ThrowOneDnnError("oneDNN Conv with W " +
                                   ShapeToString(weight_dims) + " on x " +
                                   ShapeToString(x_dims),
                               e);
    }
  }
};

Conv::Conv(const float* weights, std::vector<int64_t> weight_dims,
           const float* bias, ConvAttributes attrs, Activation act)
    // Checked by the sharing constructor on a view of `weights` (no owner),
    // then replaced by the copy the caller may rely on.
    : Conv(SharedFloats{std::shared_ptr<const float>(
               std::shared_ptr<const float>(), weights)},
           std::move(weight_dims), bias, std::move(attrs), act) {
  impl_->weights = std::make_unique<onednn::PackedConstant>(
      impl_->weights->source_desc(), weights);
}

Conv::Conv(SharedFloats weights, std::vector<int64_t> weight_dims,
           const float* bias, ConvAttributes attrs, Activation act) {
  const std::string what = "Conv with W " + ShapeToString(weight_dims);
  if (weights.data == nullptr) {
    throw InvalidArgumentError(what + ": no weights");
  }
  ref::CheckConvWeightShape(what, weight_dims, "Cout, Cin / group");
  const size_t spatial_rank = weight_dims.size() - 2;
  auto impl = std::make_unique<Impl>();
  impl->accumulate = attrs.accumulate;
  const bool attrs_winograd = attrs.winograd;
  // Empty attributes take the ONNX defaults; shared shape rules live in
  // ops/ref/conv_ref.
  impl->params = ref::ConvParamsWithDefaults(
      what, spatial_rank, std::move(attrs.strides), std::move(attrs.dilations),
      std::move(attrs.pads_begin), std::move(attrs.pads_end), attrs.groups);
  const int64_t groups = impl->params.groups;
  const int64_t out_channels = weight_dims[0];
  if (groups < 1 || out_channels % groups != 0) {
    throw InvalidArgumentError(
        what + ": group " + std::to_string(groups) + " does not divide the " +
        std::to_string(out_channels) + " output channels");
  }
  impl->act = act;
  impl->lift_1d = spatial_rank == 1;
  // oneDNN's Winograd kernels are 2-D 3x3 stride 1; few channels (a first
  // layer on RGB) never pay for the transforms.
  impl->winograd =
      attrs_winograd && spatial_rank == 2 && groups == 1 &&
      weight_dims[2] == 3 && weight_dims[3] == 3 && weight_dims[0] >= 16 &&
      weight_dims[1] >= 16 &&
      std::all_of(impl->params.strides.begin(), impl->params.strides.end(),
                  [](int64_t v) { return v == 1; }) &&
      std::all_of(impl->params.dilations.begin(), impl->params.dilations.end(),
                  [](int64_t v) { return v == 1; });
  if (bias != nullptr) impl->bias.assign(bias, bias + out_channels);

  dnnl::memory::dims dims = onednn::ToDnnlDims(weight_dims);
  if (groups > 1) {
    dims[0] = out_channels / groups;
    dims.insert(dims.begin(), groups);
  }
  if (impl->lift_1d) dims.insert(dims.end() - 1, 1);
  impl->weights = std::make_unique<onednn::PackedConstant>(
      onednn::PlainDesc(dims), std::move(weights.data));
  impl->weight_dims = std::move(weight_dims);
  impl_ = std::move(impl);
}

Conv::~Conv() = default;
Conv::Conv(Conv&&) noexcept = default;
Conv& Conv::operator=(Conv&&) noexcept = default;

const std::vector<int64_t>& Conv::weight_dims() const {
  return impl_->weight_dims;
}

std::vector<int64_t> Conv::OutputDims(
    const std::vector<int64_t>& input_dims) const {
  return ref::ConvOutputShape(input_dims, impl_->weight_dims, impl_->params);
}

void Conv::Run(const float* x, const std::vector<int64_t>& x_dims, float* y,
               int threads) const {
  impl_->WithPrimitive(x_dims, nullptr, ResolveThreadCount(threads),
                       [&](const ConvPrimitive* prim) {
                         if (prim != nullptr) prim->io.Execute(x, y);
                       });
}

Conv::Layouts Conv::PreferredLayouts(const std::vector<int64_t>& x_dims,
                                     int threads) const {
  Layouts layouts;
  threads = ResolveThreadCount(threads);
  try {
    onednn::ScopedOmpThreads scoped_threads(1);
    const std::vector<int64_t> y_dims = OutputDims(x_dims);
    if (y_dims[0] == 0) return layouts;
    dnnl::algorithm algorithm = impl_->AlgorithmFor(x_dims, y_dims, threads);
    const auto pd = impl_->Describe(x_dims, y_dims, nullptr, &algorithm);
    Layout src, dst;
    if (onednn::LayoutOfDesc(pd.src_desc(), &src) &&
        onednn::LayoutOfDesc(pd.dst_desc(), &dst)) {
      layouts.src = src;
      layouts.dst = dst;
    }
  } catch (const dnnl::error&) {
    // Run reports why oneDNN refuses this shape; plain is the safe answer.
  }
  return layouts;
}

bool Conv::UsesWinograd(const std::vector<int64_t>& x_dims, int threads) const {
  try {
    return impl_->ChooseWinograd(x_dims, OutputDims(x_dims),
                                 ResolveThreadCount(threads));
  } catch (const dnnl::error&) {
    return false;
  }
}

void Conv::Run(const float* x, const std::vector<int64_t>& x_dims,
               Layout x_layout, float* y, Layout y_layout, int threads) const {
  const Layouts layouts{x_layout, y_layout};
  impl_->WithPrimitive(x_dims, &layouts, ResolveThreadCount(threads),
                       [&](const ConvPrimitive* prim) {
                         if (prim != nullptr) prim->io.Execute(x, y);
                       });
}

void Conv::Prepare(const std::vector<int64_t>& x_dims, Layout x_layout,
                   Layout y_layout, int threads) const {
  const Layouts layouts{x_layout, y_layout};
  impl_->WithPrimitive(x_dims, &layouts, ResolveThreadCount(threads),
                       [](const ConvPrimitive*) {});
}

Conv::Implementation Conv::ImplementationFor(const std::vector<int64_t>& x_dims,
                                             int threads) const {
  Implementation implementation;
  impl_->WithPrimitive(x_dims, nullptr, ResolveThreadCount(threads),
                       [&](const ConvPrimitive* prim) {
                         if (prim != nullptr) {
                           implementation = prim->implementation;
                         }
                       });
  return implementation;
}

Conv::Implementation Conv::ImplementationFor(const std::vector<int64_t>& x_dims,
                                             Layout x_layout, Layout y_layout,
                                             int threads) const {
  const Layouts layouts{x_layout, y_layout};
  Implementation implementation;
  impl_->WithPrimitive(x_dims, &layouts, ResolveThreadCount(threads),
                       [&](const ConvPrimitive* prim) {
                         if (prim != nullptr) {
                           implementation = prim->implementation;
                         }
                       });
  return implementation;
}

}  // namespace foldrt::ops
