#include "ops/activation.h"

#include <cmath>
#include <sstream>

#include "core/error.h"

namespace foldrt::ops {

Activation Activation::Clip(float min, float max) {
  if (std::isnan(min) || std::isnan(max) || min > max) {
    std::ostringstream msg;
    msg << "Clip bounds must satisfy min <= max, got min " << min << ", max "
        << max;
    throw InvalidArgumentError(msg.str());
  }
  Activation a;
  a.kind = Kind::kClip;
  a.min = min;
  a.max = max;
  return a;
}

std::string Activation::ToString() const {
  switch (kind) {
    case Kind::kNone:
      return "none";
    case Kind::kRelu:
      return "relu";
    case Kind::kClip: {
      std::ostringstream s;
      s << "clip(" << min << "," << max << ")";
      return s.str();
    }
    case Kind::kSigmoid:
      return "sigmoid";
    case Kind::kSwish:
      return "swish";
  }
  return "?";
}

}  // namespace foldrt::ops
