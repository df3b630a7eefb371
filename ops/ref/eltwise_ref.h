// Scalar references the Sigmoid and Swish kernels (ops/eltwise.h) are tested
// against: the double definitions of ops/activation.h (SigmoidOf), one
// rounding to float.
#ifndef FOLDRT_OPS_REF_ELTWISE_REF_H_
#define FOLDRT_OPS_REF_ELTWISE_REF_H_

#include <cstddef>

namespace foldrt::ops::ref {

// y[i] = float(sigmoid(x[i])), float(x[i] * sigmoid(x[i])) in double; -inf
// gives NaN in Swish (-inf * 0), as Sigmoid -> Mul does. y may equal x.
void SigmoidRef(const float* x, float* y, size_t n);
void SwishRef(const float* x, float* y, size_t n);

}  // namespace foldrt::ops::ref

#endif  // FOLDRT_OPS_REF_ELTWISE_REF_H_
