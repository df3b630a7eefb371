#include "ops/ref/conv_transpose_ref.h"

#include <array>

#include "core/error.h"
#include "core/tensor.h"
#include "ops/ref/shape_util.h"

namespace foldrt::ops::ref {
namespace {

std::string Describe(const std::vector<int64_t>& x_shape,
                     const std::vector<int64_t>& w_shape) {
  return "ConvTranspose of x " + ShapeToString(x_shape) + " with W " +
         ShapeToString(w_shape);
}

// Checks everything but the pads and returns the number of spatial axes.
size_t CheckShapesAndStrides(const std::vector<int64_t>& x_shape,
                             const std::vector<int64_t>& w_shape,
                             const ConvTransposeParams& params) {
  const std::string what = Describe(x_shape, w_shape);
  CheckWindowInputShape(what, x_shape);
  if (w_shape.size() != x_shape.size()) {
    throw InvalidArgumentError(what + ": W must have the rank of x");
  }
  ShapeNumElements(w_shape);
  const size_t spatial_rank = x_shape.size() - 2;
  const ConvParams& conv = params.conv;
  CheckWindowParam(what, "strides", conv.strides, spatial_rank, 1);
  CheckWindowParam(what, "dilations", conv.dilations, spatial_rank, 1);
  CheckWindowParam(what, "output_padding", params.output_padding, spatial_rank,
                   0);
  if (conv.groups < 1) {
    throw InvalidArgumentError(what + ": group " + std::to_string(conv.groups) +
                               " is not positive");
  }
  if (x_shape[1] != w_shape[0]) {
    throw InvalidArgumentError(what + ": x has " + std::to_string(x_shape[1]) +
                               " channels, W's first axis " +
                               std::to_string(w_shape[0]) +
                               " (W is (Cin, Cout / group, k...))");
  }
  if (x_shape[1] % conv.groups != 0) {
    throw InvalidArgumentError(
        what + ": input channels " + std::to_string(x_shape[1]) +
        " are not divisible by group " + std::to_string(conv.groups));
  }
  for (size_t i = 0; i < spatial_rank; ++i) {
    if (w_shape[2 + i] < 1) throw InvalidArgumentError(what + ": empty kernel");
  }
  return spatial_rank;
}

// The output size along spatial axis i before any cropping.
int64_t UncroppedSize(const std::vector<int64_t>& x_shape,
                      const std::vector<int64_t>& w_shape,
                      const ConvTransposeParams& params, size_t i) {
  return params.conv.strides[i] * (x_shape[2 + i] - 1) +
         params.output_padding[i] +
         params.conv.dilations[i] * (w_shape[2 + i] - 1) + 1;
}

}  // namespace

ConvTransposeParams DefaultConvTransposeParams(size_t spatial_rank) {
  ConvTransposeParams params;
  params.conv = DefaultConvParams(spatial_rank);
  params.output_padding.assign(spatial_rank, 0);
  return params;
}

void SetConvTransposeOutputSize(const std::vector<int64_t>& x_shape,
                                const std::vector<int64_t>& w_shape,
                                const std::vector<int64_t>& output_spatial,
                                ConvTransposeParams* params) {
  const size_t spatial_rank = CheckShapesAndStrides(x_shape, w_shape, *params);
  const std::string what = Describe(x_shape, w_shape);
  CheckWindowParam(what, "output_shape", output_spatial, spatial_rank, 1);
  params->conv.pads_begin.assign(spatial_rank, 0);
  params->conv.pads_end.assign(spatial_rank, 0);
  for (size_t i = 0; i < spatial_rank; ++i) {
    const int64_t total =
        UncroppedSize(x_shape, w_shape, *params, i) - output_spatial[i];
    if (total < 0) {
      throw InvalidArgumentError(
          what + ": output_shape " + ShapeToString(output_spatial) +
          " is larger than the uncropped output along spatial axis " +
          std::to_string(i));
    }
    params->conv.pads_begin[i] = total / 2;
    params->conv.pads_end[i] = total - total / 2;
  }
}

std::vector<int64_t> ConvTransposeOutputShape(
    const std::vector<int64_t>& x_shape, const std::vector<int64_t>& w_shape,
    const ConvTransposeParams& params) {
  const size_t spatial_rank = CheckShapesAndStrides(x_shape, w_shape, params);
  const std::string what = Describe(x_shape, w_shape);
  CheckWindowParam(what, "pads (begin)", params.conv.pads_begin, spatial_rank,
                   0);
  CheckWindowParam(what, "pads (end)", params.conv.pads_end, spatial_rank, 0);
  std::vector<int64_t> y_shape = {x_shape[0], w_shape[1] * params.conv.groups};
  for (size_t i = 0; i < spatial_rank; ++i) {
    const int64_t out = UncroppedSize(x_shape, w_shape, params, i) -
                        params.conv.pads_begin[i] - params.conv.pads_end[i];
    if (out < 1) {
      throw InvalidArgumentError(what + ": pads crop the whole output along " +
                                 "spatial axis " + std::to_string(i));
    }
    y_shape.push_back(out);
  }
  return y_shape;
}

void ConvTransposeRef(const float* x, const std::vector<int64_t>& x_shape,
                      const float* w, const std::vector<int64_t>& w_shape,
                      const float* bias, const ConvTransposeParams& params,
                      float* y) {
  const std::vector<int64_t> y_shape =
      ConvTransposeOutputShape(x_shape, w_shape, params);
  const ConvParams& conv = params.conv;
  const std::array<int64_t, 3> in =
      ToThreeAxes(std::vector<int64_t>(x_shape.begin() + 2, x_shape.end()), 1);
  const std::array<int64_t, 3> k =
      ToThreeAxes(std::vector<int64_t>(w_shape.begin() + 2, w_shape.end()), 1);
  const std::array<int64_t, 3> out =
      ToThreeAxes(std::vector<int64_t>(y_shape.begin() + 2, y_shape.end()), 1);
  const std::array<int64_t, 3> stride = ToThreeAxes(conv.strides, 1);
  const std::array<int64_t, 3> dilation = ToThreeAxes(conv.dilations, 1);
  const std::array<int64_t, 3> pad = ToThreeAxes(conv.pads_begin, 0);

  const int64_t batch = x_shape[0];
  const int64_t in_channels = x_shape[1];
  const int64_t in_per_group = in_channels / conv.groups;
  const int64_t out_per_group = w_shape[1];
  const int64_t out_channels = y_shape[1];
  const int64_t in_plane = in[0] * in[1] * in[2];
  const int64_t out_plane = out[0] * out[1] * out[2];
  const int64_t k_plane = k[0] * k[1] * k[2];

  // Scatter into a double copy of y, then round once.
  std::vector<double> acc(
      static_cast<size_t>(batch * out_channels * out_plane));
  for (int64_t n = 0; n < batch; ++n) {
    for (int64_t oc = 0; oc < out_channels; ++oc) {
      double* acc_c = acc.data() + (n * out_channels + oc) * out_plane;
      const double b = bias != nullptr ? bias[oc] : 0.0;
      for (int64_t i = 0; i < out_plane; ++i) acc_c[i] = b;
    }
    for (int64_t ic = 0; ic < in_channels; ++ic) {
      const int64_t group = ic / in_per_group;
      const float* x_c = x + (n * in_channels + ic) * in_plane;
      for (int64_t j = 0; j < out_per_group; ++j) {
        const int64_t oc = group * out_per_group + j;
        double* acc_c = acc.data() + (n * out_channels + oc) * out_plane;
        const float* w_c = w + (ic * out_per_group + j) * k_plane;
        for (int64_t id = 0; id < in[0]; ++id) {
          for (int64_t ih = 0; ih < in[1]; ++ih) {
            for (int64_t iw = 0; iw < in[2]; ++iw) {
              const double xv = x_c[(id * in[1] + ih) * in[2] + iw];
              for (int64_t kd = 0; kd < k[0]; ++kd) {
                const int64_t od = id * stride[0] - pad[0] + kd * dilation[0];
                if (od < 0 || od >= out[0]) continue;
                for (int64_t kh = 0; kh < k[1]; ++kh) {
                  const int64_t oh = ih * stride[1] - pad[1] + kh * dilation[1];
                  if (oh < 0 || oh >= out[1]) continue;
                  for (int64_t kw = 0; kw < k[2]; ++kw) {
                    const int64_t ow =
                        iw * stride[2] - pad[2] + kw * dilation[2];
                    if (ow < 0 || ow >= out[2]) continue;
                    acc_c[(od * out[1] + oh) * out[2] + ow] +=
                        xv * w_c[(kd * k[1] + kh) * k[2] + kw];
                  }
                }
              }
            }
          }
        }
      }
    }
  }
  for (size_t i = 0; i < acc.size(); ++i) y[i] = static_cast<float>(acc[i]);
}

}  // namespace foldrt::ops::ref
