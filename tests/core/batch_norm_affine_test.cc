#include "core/batch_norm_affine.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "core/error.h"

namespace foldrt {
namespace {

TEST(BatchNormAffineTest, MatchesTextbookFormulaInDouble) {
  const std::vector<float> gamma = {1.5f, -0.75f, 0.3f};
  const std::vector<float> beta = {0.1f, -2.0f, 4.0f};
  const std::vector<float> mean = {0.5f, -1.25f, 3.0f};
  const std::vector<float> var = {2.0f, 0.01f, 1e5f};
  const float eps = 1e-3f;
  const BatchNormAffineF64 exact = ComputeBatchNormAffineF64(
      gamma.data(), beta.data(), mean.data(), var.data(), 3, eps);
  const BatchNormAffine rounded =
      ComputeBatchNormAffine(gamma, beta, mean, var, eps);
  for (size_t c = 0; c < 3; ++c) {
    const double a = double{gamma[c]} / std::sqrt(double{var[c]} + double{eps});
    const double b = double{beta[c]} - double{mean[c]} * a;
    EXPECT_EQ(exact.scale[c], a) << "channel " << c;
    EXPECT_EQ(exact.shift[c], b) << "channel " << c;
    // Rounded once, from the double values: not from a float a.
    EXPECT_EQ(rounded.scale[c], static_cast<float>(a)) << "channel " << c;
    EXPECT_EQ(rounded.shift[c], static_cast<float>(b)) << "channel " << c;
  }
  EXPECT_LT(rounded.scale[1], 0.0f);  // negative gamma gives negative scale
}

TEST(BatchNormAffineTest, ShiftUsesUnroundedScale) {
  // A case where beta - mean * float(a) differs from the exact shift: the
  // shift must come from the double scale.
  const std::vector<float> gamma = {1.0f}, beta = {0.0f}, mean = {12345.678f},
                           var = {3.0f};
  const BatchNormAffine r =
      ComputeBatchNormAffine(gamma, beta, mean, var, 0.0f);
  const double a = 1.0 / std::sqrt(3.0);
  EXPECT_EQ(r.shift[0], static_cast<float>(-double{mean[0]} * a));
}

TEST(BatchNormAffineTest, ZeroVarianceUsesEpsilon) {
  const std::vector<float> one = {2.0f}, zero = {0.0f};
  const BatchNormAffine r =
      ComputeBatchNormAffine(one, zero, zero, zero, 1e-5f);
  EXPECT_EQ(r.scale[0], static_cast<float>(2.0 / std::sqrt(double{1e-5f})));
  EXPECT_EQ(r.shift[0], 0.0f);
}

TEST(BatchNormAffineTest, RejectsBadParameters) {
  const std::vector<float> ok = {1.0f, 1.0f};
  const std::vector<float> short_vec = {1.0f};
  EXPECT_THROW(ComputeBatchNormAffine(ok, short_vec, ok, ok, 1e-5f),
               InvalidArgumentError);
  EXPECT_THROW(ComputeBatchNormAffine({}, {}, {}, {}, 1e-5f),
               InvalidArgumentError);
  const std::vector<float> negative_var = {1.0f, -0.5f};
  try {
    ComputeBatchNormAffine(ok, ok, ok, negative_var, 1e-5f);
    FAIL() << "negative variance accepted";
  } catch (const InvalidArgumentError& e) {
    EXPECT_NE(std::string(e.what()).find("channel 1"), std::string::npos)
        << e.what();
    EXPECT_NE(std::string(e.what()).find("negative"), std::string::npos)
        << e.what();
  }
  const std::vector<float> zero_var = {0.0f, 0.0f};
  EXPECT_THROW(ComputeBatchNormAffine(ok, ok, ok, zero_var, 0.0f),
               InvalidArgumentError);
  const std::vector<float> nan_mean = {std::nanf(""), 0.0f};
  EXPECT_THROW(ComputeBatchNormAffine(ok, ok, nan_mean, ok, 1e-5f),
               InvalidArgumentError);
  const std::vector<float> inf_gamma = {1.0f,
                                        std::numeric_limits<float>::infinity()};
  EXPECT_THROW(ComputeBatchNormAffine(inf_gamma, ok, ok, ok, 1e-5f),
               InvalidArgumentError);
  EXPECT_THROW(ComputeBatchNormAffine(ok, ok, ok, ok, std::nanf("")),
               InvalidArgumentError);
}

}  // namespace
}  // namespace foldrt
