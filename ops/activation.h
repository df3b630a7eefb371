// Activations fused into the op before them: ReLU and Clip (BN, Conv,
// ConvTranspose, Gemm, MatMul), Sigmoid and Swish (Conv, ConvTranspose,
// Gemm, MatMul only; the BN kernels reject them). NaN propagates through all
// of them, as in ONNX Runtime and PyTorch: Relu(NaN) = Clip(NaN) =
// Sigmoid(NaN) = Swish(NaN) = NaN.
#ifndef FOLDRT_OPS_ACTIVATION_H_
#define FOLDRT_OPS_ACTIVATION_H_

#include <cmath>
#include <limits>
#include <string>

namespace foldrt::ops {

struct Activation {
  // kSwish is SiLU, x * sigmoid(x) (Sigmoid followed by Mul with its input).
  enum class Kind { kNone, kRelu, kClip, kSigmoid, kSwish };
  Kind kind = Kind::kNone;
  float min = -std::numeric_limits<float>::infinity();  // kClip only
  float max = std::numeric_limits<float>::infinity();   // kClip only

  static Activation None() { return {}; }
  static Activation Relu() { return {Kind::kRelu}; }
  static Activation Sigmoid() { return {Kind::kSigmoid}; }
  static Activation Swish() { return {Kind::kSwish}; }
  // Throws InvalidArgumentError if min > max or either is NaN.
  static Activation Clip(float min, float max);

  // "none", "relu", "clip(0,6)", "sigmoid", "swish".
  std::string ToString() const;
};

// 1 / (1 + e^-v) in double, written so that exp never overflows (e^v /
// (1 + e^v) for v < 0): exactly 0 for -inf, 1 for +inf, NaN for NaN.
inline double SigmoidOf(double v) {
  if (v >= 0.0) return 1.0 / (1.0 + std::exp(-v));
  const double e = std::exp(v);  // NaN: exp(NaN) = NaN
  return e / (1.0 + e);
}

// Scalar definition, shared by the reference kernels and tests. Sigmoid and
// Swish are computed in double and rounded once; Swish(-inf) is NaN (-inf *
// 0), as the Sigmoid -> Mul pair it replaces computes.
inline float ApplyActivation(const Activation& act, float v) {
  switch (act.kind) {
    case Activation::Kind::kNone:
      return v;
    case Activation::Kind::kRelu:
      return v < 0.0f ? 0.0f : v;  // NaN < 0 is false: NaN stays
    case Activation::Kind::kClip:
      return v < act.min ? act.min : (v > act.max ? act.max : v);
    case Activation::Kind::kSigmoid:
      return static_cast<float>(SigmoidOf(v));
    case Activation::Kind::kSwish:
      return static_cast<float>(v * SigmoidOf(v));
  }
  return v;
}

}  // namespace foldrt::ops

#endif  // FOLDRT_OPS_ACTIVATION_H_
