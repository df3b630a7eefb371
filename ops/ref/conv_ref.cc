#include "ops/ref/conv_ref.h"

#include <array>

#include "core/error.h"
#include "core/tensor.h"
#include "ops/ref/shape_util.h"

namespace foldrt::ops::ref {

ConvParams DefaultConvParams(size_t spatial_rank) {
  ConvParams params;
  params.strides.assign(spatial_rank, 1);
  params.dilations.assign(spatial_rank, 1);
  params.pads_begin.assign(spatial_rank, 0);
  params.pads_end.assign(spatial_rank, 0);
  return params;
}

ConvParams ConvParamsWithDefaults(const std::string& what, size_t spatial_rank,
                                  std::vector<int64_t> strides,
                                  std::vector<int64_t> dilations,
                                  std::vector<int64_t> pads_begin,
                                  std::vector<int64_t> pads_end,
                                  int64_t groups) {
  ConvParams params = DefaultConvParams(spatial_rank);
  if (!strides.empty()) params.strides = std::move(strides);
  if (!dilations.empty()) params.dilations = std::move(dilations);
  if (!pads_begin.empty()) params.pads_begin = std::move(pads_begin);
  if (!pads_end.empty()) params.pads_end = std::move(pads_end);
  params.groups = groups;
  CheckStridesDilationsPads(what, spatial_rank, params.strides,
                            params.dilations, params.pads_begin,
                            params.pads_end);
  return params;
}

void CheckConvWeightShape(const std::string& what,
                          const std::vector<int64_t>& w_shape,
                          const std::string& channel_axes) {
  if (w_shape.size() < 3 || w_shape.size() > 5) {
    throw InvalidArgumentError(what + ": W must have rank 3, 4 or 5 (" +
                               channel_axes + ", 1 to 3 kernel dims)");
  }
  for (int64_t d : w_shape) {
    if (d < 1) throw InvalidArgumentError(what + ": W has an empty axis");
  }
  ShapeNumElements(w_shape);
}

std::vector<int64_t> ConvOutputShape(const std::vector<int64_t>& x_shape,
                                     const std::vector<int64_t>& w_shape,
                                     const ConvParams& params) {
  const std::string what = "Conv of x " + ShapeToString(x_shape) + " with W " +
                           ShapeToString(w_shape);
  CheckWindowInputShape(what, x_shape);
  if (w_shape.size() != x_shape.size()) {
    throw InvalidArgumentError(what + ": W must have the rank of x");
  }
  ShapeNumElements(w_shape);
  const size_t spatial_rank = x_shape.size() - 2;
  CheckStridesDilationsPads(what, spatial_rank, params.strides,
                            params.dilations, params.pads_begin,
                            params.pads_end);
  const int64_t groups = params.groups;
  const int64_t in_channels = x_shape[1];
  const int64_t out_channels = w_shape[0];
  if (groups < 1) {
    throw InvalidArgumentError(what + ": group " + std::to_string(groups) +
                               " is not positive");
  }
  if (in_channels % groups != 0 || out_channels % groups != 0) {
    throw InvalidArgumentError(
        what + ": input channels " + std::to_string(in_channels) +
        " and output channels " + std::to_string(out_channels) +
        " must both be divisible by group " + std::to_string(groups));
  }
  if (w_shape[1] * groups != in_channels) {
    throw InvalidArgumentError(what + ": W has " + std::to_string(w_shape[1]) +
                               " input channels per group, x has " +
                               std::to_string(in_channels / groups) +
                               " (group " + std::to_string(groups) + ")");
  }
  std::vector<int64_t> y_shape = {x_shape[0], out_channels};
  for (size_t i = 0; i < spatial_rank; ++i) {
    const int64_t kernel = w_shape[2 + i];
    if (kernel < 1) {
      throw InvalidArgumentError(what + ": empty kernel");
    }
    y_shape.push_back(FittingOutputSize(
        what, "the dilated kernel", i, x_shape[2 + i], kernel,
        params.strides[i], params.dilations[i], params.pads_begin[i],
        params.pads_end[i], /*ceil_mode=*/false));
  }
  return y_shape;
}

void ConvRef(const float* x, const std::vector<int64_t>& x_shape,
             const float* w, const std::vector<int64_t>& w_shape,
             const float* bias, const ConvParams& params, float* y) {
  const std::vector<int64_t> y_shape =
      ConvOutputShape(x_shape, w_shape, params);
  const std::vector<int64_t> x_spatial(x_shape.begin() + 2, x_shape.end());
  const std::vector<int64_t> w_spatial(w_shape.begin() + 2, w_shape.end());
  const std::vector<int64_t> y_spatial(y_shape.begin() + 2, y_shape.end());
  const std::array<int64_t, 3> in = ToThreeAxes(x_spatial, 1);
  const std::array<int64_t, 3> k = ToThreeAxes(w_spatial, 1);
  const std::array<int64_t, 3> out = ToThreeAxes(y_spatial, 1);
  const std::array<int64_t, 3> stride = ToThreeAxes(params.strides, 1);
  const std::array<int64_t, 3> dilation = ToThreeAxes(params.dilations, 1);
  const std::array<int64_t, 3> pad = ToThreeAxes(params.pads_begin, 0);

  const int64_t batch = x_shape[0];
  const int64_t in_per_group = w_shape[1];
  const int64_t out_channels = w_shape[0];
  const int64_t out_per_group = out_channels / params.groups;
  const int64_t in_plane = in[0] * in[1] * in[2];
  const int64_t k_plane = k[0] * k[1] * k[2];

  float* y_at = y;
  for (int64_t n = 0; n < batch; ++n) {
    for (int64_t oc = 0; oc < out_channels; ++oc) {
      const int64_t first_ic = oc / out_per_group * in_per_group;
      const float* w_oc = w + oc * in_per_group * k_plane;
      for (int64_t od = 0; od < out[0]; ++od) {
        for (int64_t oh = 0; oh < out[1]; ++oh) {
          for (int64_t ow = 0; ow < out[2]; ++ow) {
            double acc = bias != nullptr ? bias[oc] : 0.0;
            for (int64_t ic = 0; ic < in_per_group; ++ic) {
              const float* x_c =
                  x + (n * x_shape[1] + first_ic + ic) * in_plane;
              const float* w_c = w_oc + ic * k_plane;
              for (int64_t kd = 0; kd < k[0]; ++kd) {
                const int64_t id = od * stride[0] - pad[0] + kd * dilation[0];
                if (id < 0 || id >= in[0]) continue;
                for (int64_t kh = 0; kh < k[1]; ++kh) {
                  const int64_t ih = oh * stride[1] - pad[1] + kh * dilation[1];
                  if (ih < 0 || ih >= in[1]) continue;
                  for (int64_t kw = 0; kw < k[2]; ++kw) {
                    const int64_t iw =
                        ow * stride[2] - pad[2] + kw * dilation[2];
                    if (iw < 0 || iw >= in[2]) continue;
                    acc += static_cast<double>(
                               x_c[(id * in[1] + ih) * in[2] + iw]) *
                           w_c[(kd * k[1] + kh) * k[2] + kw];
                  }
                }
              }
            }
            *y_at++ = static_cast<float>(acc);
          }
        }
      }
    }
  }
}

}  // namespace foldrt::ops::ref
