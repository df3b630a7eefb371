#include "ops/ref/pool_ref.h"

#include <array>
#include <cmath>
#include <limits>
#include <utility>

#include "core/error.h"
#include "core/tensor.h"
#include "ops/ref/shape_util.h"

namespace foldrt::ops::ref {
namespace {

// The 3-D view of a pooling problem both window ops loop over.
struct PoolGeometry {
  int64_t planes = 0;  // N * C
  std::array<int64_t, 3> in{};
  std::array<int64_t, 3> out{};
  std::array<int64_t, 3> kernel{};
  std::array<int64_t, 3> stride{};
  std::array<int64_t, 3> dilation{};
  std::array<int64_t, 3> pad_begin{};
  std::array<int64_t, 3> pad_end{};
};

PoolGeometry Geometry(const std::vector<int64_t>& x_shape,
                      const PoolParams& params) {
  const std::vector<int64_t> y_shape = PoolOutputShape(x_shape, params);
  PoolGeometry g;
  g.planes = x_shape[0] * x_shape[1];
  g.in =
      ToThreeAxes(std::vector<int64_t>(x_shape.begin() + 2, x_shape.end()), 1);
  g.out =
      ToThreeAxes(std::vector<int64_t>(y_shape.begin() + 2, y_shape.end()), 1);
  g.kernel = ToThreeAxes(params.kernel, 1);
  g.stride = ToThreeAxes(params.strides, 1);
  g.dilation = ToThreeAxes(params.dilations, 1);
  g.pad_begin = ToThreeAxes(params.pads_begin, 0);
  g.pad_end = ToThreeAxes(params.pads_end, 0);
  return g;
}

// Calls visit(x_offset) for every input element in the window of output
// (od, oh, ow) of one plane; returns how many window positions lie inside the
// padded input (the count_include_pad divisor).
template <typename Visit>
int64_t ForEachInWindow(const PoolGeometry& g, int64_t od, int64_t oh,
                        int64_t ow, Visit visit) {
  const std::array<int64_t, 3> start = {od * g.stride[0] - g.pad_begin[0],
                                        oh * g.stride[1] - g.pad_begin[1],
                                        ow * g.stride[2] - g.pad_begin[2]};
  int64_t padded_positions = 0;
  for (int64_t kd = 0; kd < g.kernel[0]; ++kd) {
    const int64_t id = start[0] + kd * g.dilation[0];
    if (id >= g.in[0] + g.pad_end[0]) continue;
    for (int64_t kh = 0; kh < g.kernel[1]; ++kh) {
      const int64_t ih = start[1] + kh * g.dilation[1];
      if (ih >= g.in[1] + g.pad_end[1]) continue;
      for (int64_t kw = 0; kw < g.kernel[2]; ++kw) {
        const int64_t iw = start[2] + kw * g.dilation[2];
        if (iw >= g.in[2] + g.pad_end[2]) continue;
        ++padded_positions;
        if (id < 0 || id >= g.in[0] || ih < 0 || ih >= g.in[1] || iw < 0 ||
            iw >= g.in[2]) {
          continue;
        }
        visit((id * g.in[1] + ih) * g.in[2] + iw);
      }
    }
  }
  return padded_positions;
}

// y, in order, from output(x_plane, od, oh, ow) for every plane and output
// position (D, H, W of the lifted three-axis geometry).
template <class Output>
void ForEachOutput(const PoolGeometry& g, const float* x, float* y,
                   Output&& output) {
  const int64_t in_plane = g.in[0] * g.in[1] * g.in[2];
  float* y_at = y;
  for (int64_t p = 0; p < g.planes; ++p) {
    const float* x_plane = x + p * in_plane;
    for (int64_t od = 0; od < g.out[0]; ++od) {
      for (int64_t oh = 0; oh < g.out[1]; ++oh) {
        for (int64_t ow = 0; ow < g.out[2]; ++ow) {
          *y_at++ = output(x_plane, od, oh, ow);
        }
      }
    }
  }
}

}  // namespace

std::vector<int64_t> GlobalPoolOutputShape(
    const std::vector<int64_t>& x_shape) {
  if (x_shape.size() < 3) {
    throw InvalidArgumentError("global pooling of " + ShapeToString(x_shape) +
                               ": needs rank >= 3 (N, C, spatial...)");
  }
  ShapeNumElements(x_shape);
  std::vector<int64_t> y_shape = {x_shape[0], x_shape[1]};
  y_shape.resize(x_shape.size(), 1);
  return y_shape;
}

void GlobalAveragePoolRef(const float* x, const std::vector<int64_t>& x_shape,
                          float* y) {
  GlobalPoolOutputShape(x_shape);
  const int64_t planes = x_shape[0] * x_shape[1];
  const int64_t plane_size = ShapeNumElements(
      std::vector<int64_t>(x_shape.begin() + 2, x_shape.end()));
  for (int64_t p = 0; p < planes; ++p) {
    double sum = 0.0;
    for (int64_t i = 0; i < plane_size; ++i) sum += x[p * plane_size + i];
    y[p] = static_cast<float>(sum / static_cast<double>(plane_size));
  }
}

PoolParams DefaultPoolParams(std::vector<int64_t> kernel) {
  PoolParams params;
  const size_t rank = kernel.size();
  params.kernel = std::move(kernel);
  params.strides.assign(rank, 1);
  params.dilations.assign(rank, 1);
  params.pads_begin.assign(rank, 0);
  params.pads_end.assign(rank, 0);
  return params;
}

std::vector<int64_t> PoolOutputShape(const std::vector<int64_t>& x_shape,
                                     const PoolParams& params) {
  const std::string what = "pooling of " + ShapeToString(x_shape) +
                           " with kernel " + ShapeToString(params.kernel);
  CheckWindowInputShape(what, x_shape);
  const size_t rank = x_shape.size() - 2;
  CheckWindowParam(what, "kernel_shape", params.kernel, rank, 1);
  CheckStridesDilationsPads(what, rank, params.strides, params.dilations,
                            params.pads_begin, params.pads_end);
  std::vector<int64_t> y_shape = {x_shape[0], x_shape[1]};
  for (size_t i = 0; i < rank; ++i) {
    const int64_t dilated_kernel =
        (params.kernel[i] - 1) * params.dilations[i] + 1;
    // A pad as large as the window would allow windows that see only
    // padding; PyTorch and ONNX Runtime reject those too.
    if (params.pads_begin[i] >= dilated_kernel ||
        params.pads_end[i] >= dilated_kernel) {
      throw InvalidArgumentError(what + ": pads must be smaller than the " +
                                 "(dilated) kernel");
    }
    y_shape.push_back(FittingOutputSize(
        what, "the window", i, x_shape[2 + i], params.kernel[i],
        params.strides[i], params.dilations[i], params.pads_begin[i],
        params.pads_end[i], params.ceil_mode));
  }
  return y_shape;
}

void MaxPoolRef(const float* x, const std::vector<int64_t>& x_shape,
                const PoolParams& params, float* y) {
  const PoolGeometry g = Geometry(x_shape, params);
  ForEachOutput(
      g, x, y, [&](const float* x_plane, int64_t od, int64_t oh, int64_t ow) {
        float best = -std::numeric_limits<float>::infinity();
        bool saw_nan = false;
        ForEachInWindow(g, od, oh, ow, [&](int64_t offset) {
          const float v = x_plane[offset];
          if (std::isnan(v)) saw_nan = true;
          if (v > best) best = v;
        });
        return saw_nan ? std::numeric_limits<float>::quiet_NaN() : best;
      });
}

void AveragePoolRef(const float* x, const std::vector<int64_t>& x_shape,
                    const PoolParams& params, float* y) {
  for (int64_t d : params.dilations) {
    if (d != 1) {
      throw InvalidArgumentError("AveragePool: dilations " +
                                 ShapeToString(params.dilations) +
                                 " are not supported (all must be 1)");
    }
  }
  const PoolGeometry g = Geometry(x_shape, params);
  ForEachOutput(g, x, y,
                [&](const float* x_plane, int64_t od, int64_t oh, int64_t ow) {
                  double sum = 0.0;
                  int64_t inside = 0;
                  const int64_t padded_positions =
                      ForEachInWindow(g, od, oh, ow, [&](int64_t offset) {
                        sum += x_plane[offset];
                        ++inside;
                      });
                  const int64_t divisor =
                      params.count_include_pad ? padded_positions : inside;
                  return static_cast<float>(sum / static_cast<double>(divisor));
                });
}

}  // namespace foldrt::ops::ref
