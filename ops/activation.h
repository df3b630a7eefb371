// Activations fused into BN (and later other ops). NaN propagates through all
// of them, as in ONNX Runtime and PyTorch: Relu(NaN) = Clip(NaN) = NaN.
#ifndef FOLDRT_OPS_ACTIVATION_H_
#define FOLDRT_OPS_ACTIVATION_H_

#include <limits>
#include <string>

namespace foldrt::ops {

struct Activation {
  enum class Kind { kNone, kRelu, kClip };
  Kind kind = Kind::kNone;
  float min = -std::numeric_limits<float>::infinity();  // kClip only
  float max = std::numeric_limits<float>::infinity();   // kClip only

  static Activation None() { return {}; }
  static Activation Relu() { return {Kind::kRelu}; }
  // Throws InvalidArgumentError if min > max or either is NaN.
  static Activation Clip(float min, float max);

  // "none", "relu", "clip(0,6)".
  std::string ToString() const;
};

// Scalar definition, shared by the reference kernels and tests.
inline float ApplyActivation(const Activation& act, float v) {
  switch (act.kind) {
    case Activation::Kind::kNone:
      return v;
    case Activation::Kind::kRelu:
      return v < 0.0f ? 0.0f : v;  // NaN < 0 is false: NaN stays
    case Activation::Kind::kClip:
      return v < act.min ? act.min : (v > act.max ? act.max : v);
  }
  return v;
}

}  // namespace foldrt::ops

#endif  // FOLDRT_OPS_ACTIVATION_H_
