// The batch-norm math every path in foldrt shares (docs/design.md, "The BN
// math every path shares"). Inference-mode BN on channel c,
//   y = gamma[c] * (x - mean[c]) / sqrt(var[c] + eps) + beta[c],
// is the per-channel affine y = scale[c] * x + shift[c] with
//   scale[c] = gamma[c] / sqrt(var[c] + eps),  shift[c] = beta[c] - mean[c] *
//   scale[c].
// Both are computed here, in double, and rounded to float once. The standalone
// kernels use the float result; the folding passes use the double result to
// rescale weights and round those once. Folded and unfolded models therefore
// agree by construction.
#ifndef FOLDRT_CORE_BATCH_NORM_AFFINE_H_
#define FOLDRT_CORE_BATCH_NORM_AFFINE_H_

#include <cstddef>
#include <vector>

namespace foldrt {

// ONNX BatchNormalization's default epsilon.
inline constexpr float kDefaultBatchNormEpsilon = 1e-5f;

struct BatchNormAffineF64 {
  std::vector<double> scale;
  std::vector<double> shift;
};

struct BatchNormAffine {
  std::vector<float> scale;
  std::vector<float> shift;
};

// Validates and converts trained BN parameters, each of `channels` floats.
// Throws InvalidArgumentError (naming the channel) when a parameter is NaN or
// infinite, a variance is negative, or var + eps is not positive.
BatchNormAffineF64 ComputeBatchNormAffineF64(const float* gamma,
                                             const float* beta,
                                             const float* mean,
                                             const float* var, size_t channels,
                                             float epsilon);

// The same, rounded to float once.
BatchNormAffine ComputeBatchNormAffine(const float* gamma, const float* beta,
                                       const float* mean, const float* var,
                                       size_t channels, float epsilon);

// Vector form: additionally checks that all four have the same, non-zero
// length.
BatchNormAffine ComputeBatchNormAffine(const std::vector<float>& gamma,
                                       const std::vector<float>& beta,
                                       const std::vector<float>& mean,
                                       const std::vector<float>& var,
                                       float epsilon);

}  // namespace foldrt

#endif  // FOLDRT_CORE_BATCH_NORM_AFFINE_H_
