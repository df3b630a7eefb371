#include "ops/conv_transpose.h"

#include <string>
#include <utility>

#include "core/error.h"
#include "core/tensor.h"
#include "ops/batch_norm.h"
#include "ops/onednn_util.h"
#include "ops/ref/conv_transpose_ref.h"
#include "ops/ref/shape_util.h"

namespace foldrt::ops {
namespace {

// Fills empty attributes with ONNX defaults and checks the rest against the
// weights' spatial rank.
ref::ConvTransposeParams MakeParams(const std::string& what,
                                    ConvTransposeAttributes attrs,
                                    size_t spatial_rank) {
  ref::ConvTransposeParams params =
      ref::DefaultConvTransposeParams(spatial_rank);
  params.conv = ref::ConvParamsWithDefaults(
      what, spatial_rank, std::move(attrs.strides), std::move(attrs.dilations),
      std::move(attrs.pads_begin), std::move(attrs.pads_end), attrs.groups);
  if (!attrs.output_padding.empty()) {
    params.output_padding = std::move(attrs.output_padding);
  }
  ref::CheckWindowParam(what, "output_padding", params.output_padding,
                        spatial_rank, 0);
  return params;
}

// oneDNN's deconvolution weights for ONNX's (Cin, Cout / g, k...) buffer,
// described in place: oneDNN's logical order is (g, Cout / g, Cin / g, k...)
// ((Cout, Cin, k...) without groups), so the buffer is that order with the
// two channel axes swapped inside each group. `kernel` has the (possibly
// lifted) spatial dims.
dnnl::memory::desc OnnxWeightsDesc(int64_t in_channels, int64_t out_per_group,
                                   int64_t groups,
                                   const dnnl::memory::dims& kernel) {
  const int64_t in_per_group = in_channels / groups;
  dnnl::memory::dims dims, strides;
  dnnl::memory::dim kernel_size = 1;
  for (dnnl::memory::dim k : kernel) kernel_size *= k;
  if (groups > 1) {
    dims.push_back(groups);
    strides.push_back(in_per_group * out_per_group * kernel_size);
  }
  dims.push_back(out_per_group);
  strides.push_back(kernel_size);
  dims.push_back(in_per_group);
  strides.push_back(out_per_group * kernel_size);
  dnnl::memory::dims kernel_strides(kernel.size());
  dnnl::memory::dim stride = 1;
  for (size_t i = kernel.size(); i-- > 0;) {
    kernel_strides[i] = stride;
    stride *= kernel[i];
  }
  dims.insert(dims.end(), kernel.begin(), kernel.end());
  strides.insert(strides.end(), kernel_strides.begin(), kernel_strides.end());
  return dnnl::memory::desc(dims, dnnl::memory::data_type::f32, strides);
}

}  // namespace

struct ConvTranspose::Impl {
  using Key = std::pair<std::vector<int64_t>, int>;

  std::vector<int64_t> weight_dims;  // ONNX (Cin, Cout / g, k...)
  ref::ConvTransposeParams params;
  Activation act;
  std::vector<float> bias;  // empty when there is none
  // 1-D runs as 2-D with a unit height, through the same kernel selection
  // as images.
  bool lift_1d = false;
  std::unique_ptr<onednn::PackedConstant> weights;
  onednn::SharedCache<Key, onednn::PlainIoPrimitive> cache;

  dnnl::memory::dims Spatial(const std::vector<int64_t>& values,
                             int64_t unit) const {
    return onednn::LiftSpatial(values, unit, lift_1d);
  }
  dnnl::memory::dims Activations(const std::vector<int64_t>& dims) const {
    return onednn::LiftActivations(dims, lift_1d);
  }

  std::shared_ptr<onednn::PlainIoPrimitive> Build(
      const std::vector<int64_t>& x_dims,
      const std::vector<int64_t>& y_dims) const {
    using dnnl::memory;
    auto& engine = onednn::CpuEngine();
    const ref::ConvParams& conv = params.conv;
    const memory::dims src_dims = Activations(x_dims);
    const memory::dims dst_dims = Activations(y_dims);
    const memory::desc src_any(src_dims, memory::data_type::f32,
                               memory::format_tag::any);
    const memory::desc dst_any(dst_dims, memory::data_type::f32,
                               memory::format_tag::any);
    const memory::desc weights_any(weights->source_desc().dims(),
                                   memory::data_type::f32,
                                   memory::format_tag::any);
    const memory::desc bias_md =
        bias.empty() ? memory::desc()
                     : memory::desc({y_dims[1]}, memory::data_type::f32,
                                    memory::format_tag::a);
    std::vector<int64_t> dilations = conv.dilations;
    for (int64_t& d : dilations) d -= 1;  // oneDNN: 0 = dense
    // oneDNN's output size is (in - 1) * stride + dilated kernel - pad_l -
    // pad_r: output_padding is a negative end pad.
    std::vector<int64_t> pads_end = conv.pads_end;
    for (size_t i = 0; i < pads_end.size(); ++i) {
      pads_end[i] -= params.output_padding[i];
    }
    dnnl::deconvolution_forward::desc desc(
        dnnl::prop_kind::forward_inference,
        dnnl::algorithm::deconvolution_direct, src_any, weights_any, bias_md,
        dst_any, Spatial(conv.strides, 1), Spatial(dilations, 0),
        Spatial(conv.pads_begin, 0), Spatial(pads_end, 0));
    dnnl::deconvolution_forward::primitive_desc pd(desc, onednn::MakeAttr(act),
                                                   engine);

    auto prim = std::make_shared<onednn::PlainIoPrimitive>();
    prim->primitive = dnnl::deconvolution_forward(pd);
    prim->SetIo(onednn::PlainDesc(src_dims), onednn::PlainDesc(dst_dims),
                pd.src_desc(), pd.dst_desc(), pd.scratchpad_desc());
    prim->AddWeightsAndBias(weights.get(), pd.weights_desc(), bias,
                            pd.bias_desc());
    return prim;
  }
};

ConvTranspose::ConvTranspose(const float* weights,
                             std::vector<int64_t> weight_dims,
                             const float* bias, ConvTransposeAttributes attrs,
                             Activation act)
    // Checked by the sharing constructor on a view of `weights` (no owner),
    // then replaced by the copy the caller may rely on.
    : ConvTranspose(SharedFloats{std::shared_ptr<const float>(
                        std::shared_ptr<const float>(), weights)},
                    std::move(weight_dims), bias, std::move(attrs), act) {
  impl_->weights = std::make_unique<onednn::PackedConstant>(
      impl_->weights->source_desc(), weights);
}

ConvTranspose::ConvTranspose(SharedFloats weights,
                             std::vector<int64_t> weight_dims,
                             const float* bias, ConvTransposeAttributes attrs,
                             Activation act) {
  const std::string what = "ConvTranspose with W " + ShapeToString(weight_dims);
  if (weights.data == nullptr) {
    throw InvalidArgumentError(what + ": no weights");
  }
  ref::CheckConvWeightShape(what, weight_dims, "Cin, Cout / group");
  const size_t spatial_rank = weight_dims.size() - 2;
  auto impl = std::make_unique<Impl>();
  impl->params = MakeParams(what, std::move(attrs), spatial_rank);
  const ref::ConvParams& conv = impl->params.conv;
  const int64_t groups = conv.groups;
  const int64_t in_channels = weight_dims[0];
  if (groups < 1 || in_channels % groups != 0) {
    throw InvalidArgumentError(what + ": group " + std::to_string(groups) +
                               " does not divide the " +
                               std::to_string(in_channels) + " input channels");
  }
  for (size_t i = 0; i < spatial_rank; ++i) {
    if (impl->params.output_padding[i] - conv.pads_end[i] >= conv.strides[i]) {
      throw UnsupportedError(what + ": output_padding " +
                             ShapeToString(impl->params.output_padding) +
                             " minus pad_end must stay below the stride " +
                             ShapeToString(conv.strides) + " for oneDNN");
    }
  }
  impl->act = act;
  impl->lift_1d = spatial_rank == 1;
  const int64_t out_per_group = weight_dims[1];
  if (bias != nullptr) {
    impl->bias.assign(bias, bias + out_per_group * groups);
  }
  dnnl::memory::dims kernel(weight_dims.begin() + 2, weight_dims.end());
  if (impl->lift_1d) kernel.insert(kernel.begin(), 1);
  impl->weights = std::make_unique<onednn::PackedConstant>(
      OnnxWeightsDesc(in_channels, out_per_group, groups, kernel),
      std::move(weights.data));
  impl->weight_dims = std::move(weight_dims);
  impl_ = std::move(impl);
}

ConvTranspose::~ConvTranspose() = default;
ConvTranspose::ConvTranspose(ConvTranspose&&) noexcept = default;
ConvTranspose& ConvTranspose::operator=(ConvTranspose&&) noexcept = default;

const std::vector<int64_t>& ConvTranspose::weight_dims() const {
  return impl_->weight_dims;
}

std::vector<int64_t> ConvTranspose::OutputDims(
    const std::vector<int64_t>& input_dims) const {
  return ref::ConvTransposeOutputShape(input_dims, impl_->weight_dims,
                                       impl_->params);
}

void ConvTranspose::Run(const float* x, const std::vector<int64_t>& x_dims,
                        float* y, int threads) const {
  threads = ResolveThreadCount(threads);
  try {
    onednn::ScopedOmpThreads scoped_threads(threads);
    const auto prim = impl_->cache.GetOrBuild(Impl::Key(x_dims, threads), [&] {
      const std::vector<int64_t> y_dims = OutputDims(x_dims);
      // A zero batch is valid and has nothing to compute.
      return y_dims[0] == 0 ? nullptr : impl_->Build(x_dims, y_dims);
    });
    if (prim != nullptr) prim->Execute(x, y);
  } catch (const dnnl::error& e) {
    onednn::ThrowOneDnnError("oneDNN ConvTranspose with W " +
                                 ShapeToString(impl_->weight_dims) + " on x " +
                                 ShapeToString(x_dims),
                             e);
  }
}

}  // namespace foldrt::ops
