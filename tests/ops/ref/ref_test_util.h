// Helpers shared by the tests of the scalar reference ops.
#ifndef FOLDRT_TESTS_OPS_REF_REF_TEST_UTIL_H_
#define FOLDRT_TESTS_OPS_REF_REF_TEST_UTIL_H_

#include <cstdint>
#include <random>
#include <vector>

#include "core/tensor.h"

namespace foldrt::ops::ref::test {

// Uniform values in [-1, 1), reproducible from `seed`.
inline std::vector<float> RandomValues(int64_t count, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  std::vector<float> values(static_cast<size_t>(count));
  for (float& v : values) v = dist(rng);
  return values;
}

inline std::vector<float> RandomTensor(const std::vector<int64_t>& shape,
                                       uint32_t seed) {
  return RandomValues(ShapeNumElements(shape), seed);
}

// The output of a reference op: a buffer of ShapeNumElements(y_shape)
// floats that run(y) fills.
template <class Run>
std::vector<float> RunIntoNew(const std::vector<int64_t>& y_shape, Run&& run) {
  std::vector<float> y(static_cast<size_t>(ShapeNumElements(y_shape)));
  run(y.data());
  return y;
}

}  // namespace foldrt::ops::ref::test

#endif  // FOLDRT_TESTS_OPS_REF_REF_TEST_UTIL_H_
