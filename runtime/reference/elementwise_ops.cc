// References of the elementwise ops: Add, Sub, Mul, Div with numpy
// broadcasting (float in double, rounded once; int64 exact), the
// activations (Relu, Sigmoid, HardSigmoid, HardSwish, Clip), Identity,
// Dropout (inference: the identity) and Softmax, in double.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <type_traits>
#include <utility>
#include <vector>

#include "ops/activation.h"
#include "runtime/op_attributes.h"
#include "runtime/reference/reference_ops.h"

namespace foldrt::runtime::reference {
namespace {

// ------------------------------------------------------ binary ops

// Offsets into a tensor of `shape` for every element of `out_shape` it is
// broadcast to (numpy rules: right-aligned, size-1 axes repeat).
std::vector<int64_t> BroadcastOffsets(const std::vector<int64_t>& shape,
                                      const std::vector<int64_t>& out_shape) {
  return StridedOffsets(out_shape, BroadcastStrides(shape, out_shape));
}

enum class BinaryOp { kAdd, kSub, kMul, kDiv };

template <typename T>
Tensor ApplyBinary(const NodeContext& ctx, BinaryOp op, const Tensor& a,
                   const Tensor& b) {
  const std::vector<int64_t> shape = BroadcastShapes(a.shape(), b.shape());
  const std::vector<int64_t> a_at = BroadcastOffsets(a.shape(), shape);
  const std::vector<int64_t> b_at = BroadcastOffsets(b.shape(), shape);
  const T* av = a.data<T>();
  const T* bv = b.data<T>();
  Tensor y = Tensor::Zeros(a.dtype(), shape);
  T* yv = y.mutable_data<T>();
  for (size_t i = 0; i < a_at.size(); ++i) {
    const T x0 = av[a_at[i]];
    const T x1 = bv[b_at[i]];
    if constexpr (std::is_same_v<T, float>) {
      // In double and rounded once: the same as the float operation (double
      // has more than twice float's precision), spelled out for clarity.
      const double l = x0;
      const double r = x1;
      double v = 0.0;
      switch (op) {
        case BinaryOp::kAdd:
          v = l + r;
          break;
        case BinaryOp::kSub:
          v = l - r;
          break;
        case BinaryOp::kMul:
          v = l * r;
          break;
        case BinaryOp::kDiv:
          v = l / r;
          break;
      }
      yv[i] = static_cast<float>(v);
    } else {
      switch (op) {
        case BinaryOp::kAdd:
          yv[i] = x0 + x1;
          break;
        case BinaryOp::kSub:
          yv[i] = x0 - x1;
          break;
        case BinaryOp::kMul:
          yv[i] = x0 * x1;
          break;
        case BinaryOp::kDiv:
          if (x1 == 0) ctx.Invalid("integer division by zero");
          yv[i] = x0 / x1;  // truncates toward zero, as ONNX Runtime does
          break;
      }
    }
  }
  return y;
}

template <BinaryOp kOp>
void EvalBinary(const NodeContext& ctx) {
  const Tensor& a = ctx.Input(0);
  const Tensor& b = ctx.Input(1);
  if (a.dtype() != b.dtype()) {
    ctx.Invalid("operands have different element types: " + Describe(a) +
                " and " + Describe(b));
  }
  ctx.SetOutput(0, DispatchDataType(a.dtype(), [&](auto tag) {
                  return ApplyBinary<decltype(tag)>(ctx, kOp, a, b);
                }));
}

// ------------------------------------------------------ unary ops

// y = f(x) elementwise on a float input, f computed in double.
template <typename F>
void EvalUnaryFloat(const NodeContext& ctx, F f) {
  const Tensor& x = ctx.FloatInput(0);
  Tensor y = Tensor::Zeros(DataType::kFloat32, x.shape());
  const float* xv = x.data<float>();
  float* yv = y.mutable_data<float>();
  for (int64_t i = 0; i < x.NumElements(); ++i) {
    yv[i] = static_cast<float>(f(static_cast<double>(xv[i])));
  }
  ctx.SetOutput(0, std::move(y));
}

void EvalRelu(const NodeContext& ctx) {
  const ops::Activation relu = ops::Activation::Relu();
  EvalUnaryFloat(ctx, [&](double v) {
    return ops::ApplyActivation(relu, static_cast<float>(v));
  });
}

void EvalSigmoid(const NodeContext& ctx) {
  EvalUnaryFloat(ctx, [](double v) { return 1.0 / (1.0 + std::exp(-v)); });
}

void EvalHardSigmoid(const NodeContext& ctx) {
  const double alpha = ctx.node().GetFloat("alpha", 0.2f);
  const double beta = ctx.node().GetFloat("beta", 0.5f);
  EvalUnaryFloat(ctx, [&](double v) { return HardSigmoidOf(v, alpha, beta); });
}

void EvalHardSwish(const NodeContext& ctx) {
  EvalUnaryFloat(ctx,
                 [](double v) { return v * HardSigmoidOf(v, 1.0 / 6.0, 0.5); });
}

void EvalClip(const NodeContext& ctx) {
  float min = std::numeric_limits<float>::lowest();
  float max = std::numeric_limits<float>::max();
  if (ctx.opset() < 11) {
    min = ctx.node().GetFloat("min", min);
    max = ctx.node().GetFloat("max", max);
  } else {
    if (ctx.HasInput(1)) min = static_cast<float>(ctx.ScalarInput(1));
    if (ctx.HasInput(2)) max = static_cast<float>(ctx.ScalarInput(2));
  }
  // The activation the BN kernels fuse: the same NaN rule, and min > max is
  // an error there too.
  const ops::Activation clip = ops::Activation::Clip(min, max);
  EvalUnaryFloat(ctx, [&](double v) {
    return ops::ApplyActivation(clip, static_cast<float>(v));
  });
}

void EvalIdentity(const NodeContext& ctx) { ctx.SetOutput(0, ctx.Input(0)); }

void EvalDropout(const NodeContext& ctx) {
  // Inference Dropout is the identity. Training mode drops at random, which
  // no reference can reproduce.
  if (ctx.opset() >= 12 && ctx.HasInput(2) && ctx.ScalarInput(2) != 0.0) {
    ctx.Unsupported("training_mode is true (random dropout)");
  }
  ctx.RequireUnused(1, "mask");
  ctx.SetOutput(0, ctx.Input(0));
}

// ------------------------------------------------------------- Softmax

void EvalSoftmax(const NodeContext& ctx) {
  const Tensor& x = ctx.FloatInput(0);
  const SoftmaxGeometry geometry = SoftmaxGeometryFor(
      SoftmaxAxis(ctx.node(), ctx.opset()), ctx.opset(), x.shape());
  const int64_t outer = geometry.outer;
  const int64_t length = geometry.length;
  const int64_t inner = geometry.inner;
  Tensor y = Tensor::Zeros(DataType::kFloat32, x.shape());
  const float* xv = x.data<float>();
  float* yv = y.mutable_data<float>();
  for (int64_t o = 0; o < outer; ++o) {
    for (int64_t i = 0; i < inner; ++i) {
      const int64_t base = o * length * inner + i;
      double max = -std::numeric_limits<double>::infinity();
      for (int64_t j = 0; j < length; ++j) {
        max = std::max(max, static_cast<double>(xv[base + j * inner]));
      }
      double sum = 0.0;
      for (int64_t j = 0; j < length; ++j) {
        sum += std::exp(xv[base + j * inner] - max);
      }
      for (int64_t j = 0; j < length; ++j) {
        yv[base + j * inner] =
            static_cast<float>(std::exp(xv[base + j * inner] - max) / sum);
      }
    }
  }
  ctx.SetOutput(0, std::move(y));
}

}  // namespace

void RegisterElementwiseReferences(OpRegistry* registry) {
  registry->SetReference("Add", EvalBinary<BinaryOp::kAdd>);
  registry->SetReference("Clip", EvalClip);
  registry->SetReference("Div", EvalBinary<BinaryOp::kDiv>);
  registry->SetReference("Dropout", EvalDropout);
  registry->SetReference("HardSigmoid", EvalHardSigmoid);
  registry->SetReference("HardSwish", EvalHardSwish);
  registry->SetReference("Identity", EvalIdentity);
  registry->SetReference("Mul", EvalBinary<BinaryOp::kMul>);
  registry->SetReference("Relu", EvalRelu);
  registry->SetReference("Sigmoid", EvalSigmoid);
  registry->SetReference("Softmax", EvalSoftmax);
  registry->SetReference("Sub", EvalBinary<BinaryOp::kSub>);
}

}  // namespace foldrt::runtime::reference
