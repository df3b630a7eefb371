// Elementwise activation kernels on fp32 spans: Sigmoid and Swish (SiLU,
// x * sigmoid(x), what EfficientNet exports as Sigmoid followed by Mul).
//
// Raw kernels in the style of the BN ones: Highway, dynamic dispatch over
// every target the CPU has (ops/eltwise-inl.h, ops/eltwise_hwy.cc), pointers
// and sizes in, no validation, never throw, single-threaded (the runtime
// splits a tensor over threads and calls them per chunk). y may equal x (in
// place); otherwise the two must not overlap. No alignment is assumed.
//
// Semantics, for every float input (the scalar definitions of
// ops/activation.h, ops/ref/eltwise_ref.h):
//  - SigmoidF32: 1 / (1 + e^-x), never NaN for a non-NaN input; it
//    saturates to exactly 1 for x >= 17 (1 - 2^-25 rounds up) and to exactly
//    0 below about -103.97 (the result underflows), +0 for -inf, 1 for +inf.
//    Subnormal results between are produced, not flushed. NaN in -> NaN out.
//  - SwishF32: x * sigmoid(x), with the exp never overflowing: x for large
//    x, -0 for very negative finite x, +inf for +inf and NaN for -inf (as
//    the Sigmoid -> Mul pair it replaces computes: -inf * 0), NaN for NaN.
// Accuracy: within 4 ULP of the result computed in double and rounded once
// (measured: 2 ULP for Sigmoid, 3 for Swish, on every x86 target; see
// tests/ops/eltwise_test.cc). Exception: Swish for x < -87.3, where e^x is
// subnormal and x * e^x is off by up to |x| * 2^-149 (results below 1e-36;
// the Sigmoid -> Mul pair in float has the same limitation).
#ifndef FOLDRT_OPS_ELTWISE_H_
#define FOLDRT_OPS_ELTWISE_H_

#include <cstddef>

namespace foldrt::ops {

void SigmoidF32(const float* x, float* y, size_t n);
void SwishF32(const float* x, float* y, size_t n);

}  // namespace foldrt::ops

#endif  // FOLDRT_OPS_ELTWISE_H_
