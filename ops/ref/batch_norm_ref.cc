#include "ops/ref/batch_norm_ref.h"

#include <cmath>
#include <functional>

namespace foldrt::ops::ref {
namespace {

// Visits every logical element, then zeroes the padding of blocked layouts.
// x_channels: the channels of x's buffer (see BatchNormAffineRef).
void ForEachElement(const float* x, float* y, const ChannelShape& shape,
                    Layout layout, size_t x_channels,
                    const std::function<float(size_t c, float v)>& f) {
  const ChannelShape x_shape{shape.batch, x_channels, shape.spatial};
  for (size_t n = 0; n < shape.batch; ++n) {
    for (size_t c = 0; c < shape.channels; ++c) {
      for (size_t s = 0; s < shape.spatial; ++s) {
        y[ElementOffset(shape, layout, n, c, s)] =
            f(c, x[ElementOffset(x_shape, layout, n, c, s)]);
      }
    }
  }
  const size_t block = ChannelBlock(layout);
  const size_t padded = (shape.channels + block - 1) / block * block;
  for (size_t n = 0; n < shape.batch; ++n) {
    for (size_t c = shape.channels; c < padded; ++c) {
      for (size_t s = 0; s < shape.spatial; ++s) {
        y[ElementOffset(shape, layout, n, c, s)] = 0.0f;
      }
    }
  }
}

}  // namespace

void BatchNormAffineRef(const float* x, float* y, const ChannelShape& shape,
                        Layout layout, const float* scale, const float* shift,
                        const Activation& act, size_t x_channels) {
  ForEachElement(
      x, y, shape, layout, x_channels == 0 ? shape.channels : x_channels,
      [&](size_t c, float v) {
        const double r = static_cast<double>(scale[c]) * v + shift[c];
        return ApplyActivation(act, static_cast<float>(r));
      });
}

void BatchNormStatisticsRef(const float* x, float* y, const ChannelShape& shape,
                            Layout layout, const float* gamma,
                            const float* beta, const float* mean,
                            const float* var, float epsilon,
                            const Activation& act) {
  ForEachElement(x, y, shape, layout, shape.channels, [&](size_t c, float v) {
    const double r = static_cast<double>(gamma[c]) *
                         (static_cast<double>(v) - mean[c]) /
                         std::sqrt(static_cast<double>(var[c]) + epsilon) +
                     beta[c];
    return ApplyActivation(act, static_cast<float>(r));
  });
}

}  // namespace foldrt::ops::ref
