#include "tests/ops/ops_test_util.h"

#include <algorithm>
#include <cfloat>

namespace foldrt::ops::test {

std::vector<float> Random(size_t n, std::mt19937& rng) {
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  std::vector<float> v(n);
  for (float& f : v) f = u(rng);
  return v;
}

std::vector<float> Abs(std::vector<float> v) {
  for (float& f : v) f = std::fabs(f);
  return v;
}

size_t Count(const std::vector<int64_t>& dims) {
  return static_cast<size_t>(ShapeNumElements(dims));
}

std::vector<Activation> SweepActivations() {
  return {Activation::None(), Activation::Relu(),
          Activation::Clip(-0.5f, 0.75f)};
}

std::shared_ptr<const float> SharedCopy(const std::vector<float>& values,
                                        bool* freed) {
  float* copy = new float[values.size()];
  std::copy(values.begin(), values.end(), copy);
  return std::shared_ptr<const float>(copy, [freed](const float* p) {
    if (freed != nullptr) *freed = true;
    delete[] p;
  });
}

int CountMismatches(const std::vector<float>& got, const Expected& e,
                    const std::string& what) {
  int bad = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    const float tol = e.atol[i] + FLT_EPSILON * std::fabs(e.ref[i]);
    if (!(std::fabs(got[i] - e.ref[i]) <= tol)) {
      if (++bad <= 5) {
        ADD_FAILURE() << what << ": y[" << i << "] = " << got[i]
                      << ", expected " << e.ref[i] << " +- " << tol;
      }
    }
  }
  return bad;
}

}  // namespace foldrt::ops::test
