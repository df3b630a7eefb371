#include "ops/ref/eltwise_ref.h"

#include "ops/activation.h"

namespace foldrt::ops::ref {

void SigmoidRef(const float* x, float* y, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    y[i] = static_cast<float>(SigmoidOf(x[i]));
  }
}

void SwishRef(const float* x, float* y, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    const double v = x[i];
    y[i] = static_cast<float>(v * SigmoidOf(v));
  }
}

}  // namespace foldrt::ops::ref
