#include "core/batch_norm_affine.h"

#include <cmath>
#include <sstream>
#include <string>

#include "core/error.h"

namespace foldrt {
namespace {

void CheckFinite(const char* what, const float* values, size_t channels) {
  for (size_t c = 0; c < channels; ++c) {
    if (!std::isfinite(values[c])) {
      std::ostringstream msg;
      msg << "BatchNormalization " << what << " of channel " << c << " is "
          << values[c] << "; parameters must be finite";
      throw InvalidArgumentError(msg.str());
    }
  }
}

}  // namespace

BatchNormAffineF64 ComputeBatchNormAffineF64(const float* gamma,
                                             const float* beta,
                                             const float* mean,
                                             const float* var, size_t channels,
                                             float epsilon) {
  if (channels == 0) {
    throw InvalidArgumentError("BatchNormalization needs at least one channel");
  }
  if (!gamma || !beta || !mean || !var) {
    throw InvalidArgumentError("BatchNormalization parameter pointer is null");
  }
  if (!std::isfinite(epsilon)) {
    throw InvalidArgumentError("BatchNormalization epsilon must be finite");
  }
  CheckFinite("scale (gamma)", gamma, channels);
  CheckFinite("bias (beta)", beta, channels);
  CheckFinite("running mean", mean, channels);
  CheckFinite("running variance", var, channels);

  BatchNormAffineF64 out;
  out.scale.resize(channels);
  out.shift.resize(channels);
  const double eps = epsilon;  // float -> double is exact
  for (size_t c = 0; c < channels; ++c) {
    if (var[c] < 0.0f) {
      std::ostringstream msg;
      msg << "BatchNormalization running variance of channel " << c
          << " is negative (" << var[c] << ")";
      throw InvalidArgumentError(msg.str());
    }
    const double denom = static_cast<double>(var[c]) + eps;
    if (!(denom > 0.0)) {
      std::ostringstream msg;
      msg << "BatchNormalization var + epsilon of channel " << c << " is "
          << denom << "; it must be positive (zero variance needs epsilon > 0)";
      throw InvalidArgumentError(msg.str());
    }
    const double a = static_cast<double>(gamma[c]) / std::sqrt(denom);
    out.scale[c] = a;
    out.shift[c] =
        static_cast<double>(beta[c]) - static_cast<double>(mean[c]) * a;
  }
  return out;
}

BatchNormAffine ComputeBatchNormAffine(const float* gamma, const float* beta,
                                       const float* mean, const float* var,
                                       size_t channels, float epsilon) {
  const BatchNormAffineF64 exact =
      ComputeBatchNormAffineF64(gamma, beta, mean, var, channels, epsilon);
  BatchNormAffine out;
  out.scale.assign(exact.scale.begin(), exact.scale.end());
  out.shift.assign(exact.shift.begin(), exact.shift.end());
  return out;
}

BatchNormAffine ComputeBatchNormAffine(const std::vector<float>& gamma,
                                       const std::vector<float>& beta,
                                       const std::vector<float>& mean,
                                       const std::vector<float>& var,
                                       float epsilon) {
  const size_t c = gamma.size();
  if (beta.size() != c || mean.size() != c || var.size() != c) {
    std::ostringstream msg;
    msg << "BatchNormalization parameter lengths differ: scale " << c
        << ", bias " << beta.size() << ", mean " << mean.size() << ", variance "
        << var.size();
    throw InvalidArgumentError(msg.str());
  }
  return ComputeBatchNormAffine(gamma.data(), beta.data(), mean.data(),
                                var.data(), c, epsilon);
}

}  // namespace foldrt
