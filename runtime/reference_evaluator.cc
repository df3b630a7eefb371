#include "runtime/reference_evaluator.h"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <map>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "ops/activation.h"
#include "ops/layout.h"
#include "ops/ref/batch_norm_ref.h"
#include "ops/ref/conv_ref.h"
#include "ops/ref/conv_transpose_ref.h"
#include "ops/ref/gemm_ref.h"
#include "ops/ref/matmul_ref.h"
#include "ops/ref/pool_ref.h"
#include "ops/ref/shape_util.h"
#include "core/batch_norm_affine.h"
#include "core/error.h"
#include "runtime/op_attributes.h"
#include "runtime/op_registry.h"
#include "runtime/reference/reference_ops.h"

namespace foldrt::runtime {

using graph::DataType;
using graph::Node;
using ops::ref::ShapeElementCount;
using ops::ref::ShapeToString;

RefTensor RefTensor::Float(std::vector<int64_t> shape,
                           std::vector<float> data) {
  RefTensor t;
  t.dtype = DataType::kFloat;
  t.shape = std::move(shape);
  t.f32 = std::move(data);
  return t;
}

RefTensor RefTensor::Int64(std::vector<int64_t> shape,
                           std::vector<int64_t> data) {
  RefTensor t;
  t.dtype = DataType::kInt64;
  t.shape = std::move(shape);
  t.i64 = std::move(data);
  return t;
}

int64_t RefTensor::NumElements() const { return ShapeElementCount(shape); }

namespace {

using reference::ContiguousStrides;
using reference::Describe;
using reference::DispatchDtype;
using reference::Elements;
using reference::FromGraphTensor;
using reference::NodeContext;
using reference::StridedOffsets;

// Checks that a caller-built tensor is internally consistent.
void CheckWellFormed(const RefTensor& t, const std::string& what) {
  int64_t count = 0;
  try {
    count = t.NumElements();
  } catch (const InvalidArgumentError& e) {
    throw InvalidArgumentError(what + ": " + e.message());
  }
  if (t.dtype != DataType::kFloat && t.dtype != DataType::kInt64) {
    throw InvalidArgumentError(what + " has dtype " +
                               graph::DataTypeName(t.dtype) +
                               "; expected FLOAT or INT64");
  }
  const size_t held = t.dtype == DataType::kFloat ? t.f32.size() : t.i64.size();
  const size_t other =
      t.dtype == DataType::kFloat ? t.i64.size() : t.f32.size();
  if (held != static_cast<size_t>(count) || other != 0) {
    throw InvalidArgumentError(
        what + " of shape " + ShapeToString(t.shape) + " holds " +
        std::to_string(held) + " elements, expected " + std::to_string(count) +
        (other != 0 ? " (and data in the vector of the other dtype)" : ""));
  }
}

// ------------------------------------------------------ elementwise ops

std::vector<int64_t> BroadcastShape(const std::vector<int64_t>& a,
                                    const std::vector<int64_t>& b) {
  return BroadcastShapes(a, b);
}

// Offsets into a tensor of `shape` for every element of `out_shape` it is
// broadcast to (numpy rules: right-aligned, size-1 axes repeat).
std::vector<int64_t> BroadcastOffsets(const std::vector<int64_t>& shape,
                                      const std::vector<int64_t>& out_shape) {
  const size_t lead = out_shape.size() - shape.size();
  const std::vector<int64_t> contiguous = ContiguousStrides(shape);
  std::vector<int64_t> strides(out_shape.size(), 0);
  for (size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] != 1) strides[lead + i] = contiguous[i];
  }
  return StridedOffsets(out_shape, strides);
}

enum class BinaryOp { kAdd, kSub, kMul, kDiv };

template <typename T>
RefTensor ApplyBinary(const NodeContext& ctx, BinaryOp op, const RefTensor& a,
                      const RefTensor& b) {
  const std::vector<int64_t> shape = BroadcastShape(a.shape, b.shape);
  const std::vector<int64_t> a_at = BroadcastOffsets(a.shape, shape);
  const std::vector<int64_t> b_at = BroadcastOffsets(b.shape, shape);
  const std::vector<T>& av = Elements<T>(a);
  const std::vector<T>& bv = Elements<T>(b);
  RefTensor y;
  y.dtype = a.dtype;
  y.shape = shape;
  std::vector<T>& yv = Elements<T>(y);
  yv.resize(a_at.size());
  for (size_t i = 0; i < yv.size(); ++i) {
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
  const RefTensor& a = ctx.Input(0);
  const RefTensor& b = ctx.Input(1);
  if (a.dtype != b.dtype) {
    ctx.Invalid("operands have different element types: " + Describe(a) +
                " and " + Describe(b));
  }
  ctx.SetOutput(0, DispatchDtype(a.dtype, [&](auto tag) {
                  return ApplyBinary<decltype(tag)>(ctx, kOp, a, b);
                }));
}

// y = f(x) elementwise on a float input, f computed in double.
template <typename F>
void EvalUnaryFloat(const NodeContext& ctx, F f) {
  const RefTensor& x = ctx.FloatInput(0);
  RefTensor y = RefTensor::Float(x.shape, std::vector<float>(x.f32.size()));
  for (size_t i = 0; i < x.f32.size(); ++i) {
    y.f32[i] = static_cast<float>(f(static_cast<double>(x.f32[i])));
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

// ----------------------------------------------------------- BatchNorm

void EvalBatchNormalization(const NodeContext& ctx) {
  const Node& node = ctx.node();
  if (ctx.opset() < 9 && node.GetInt("spatial", 1) != 1) {
    ctx.Unsupported("spatial=0 (per-element statistics) is not supported");
  }
  // training_mode=1 with the statistics outputs unused counts as inference
  // here as in the runtime (docs/design.md, "The BN math"). Strictly, ONNX
  // normalizes with the batch's own statistics then (issue 16).
  for (size_t i = 1; i < node.num_outputs(); ++i) {
    ctx.RequireUnused(i, "training statistics");
  }
  const RefTensor& x = ctx.FloatInput(0);
  const ops::ChannelShape shape = ops::SplitChannelShape(x.shape);
  const char* const kParamNames[] = {"scale", "B", "input_mean", "input_var"};
  for (size_t i = 1; i <= 4; ++i) {
    const RefTensor& param = ctx.FloatInput(i);
    if (param.shape !=
        std::vector<int64_t>{static_cast<int64_t>(shape.channels)}) {
      ctx.Invalid(std::string(kParamNames[i - 1]) + " is " + Describe(param) +
                  ", expected (" + std::to_string(shape.channels) +
                  ") for input " + Describe(x));
    }
  }
  const float* gamma = ctx.FloatInput(1).f32.data();
  const float* beta = ctx.FloatInput(2).f32.data();
  const float* mean = ctx.FloatInput(3).f32.data();
  const float* var = ctx.FloatInput(4).f32.data();
  const float epsilon = node.GetFloat("epsilon", kDefaultBatchNormEpsilon);
  // The runtime's parameter checks (NaN, negative variance, var + eps <= 0),
  // so that the reference rejects exactly what the runtime rejects.
  ComputeBatchNormAffineF64(gamma, beta, mean, var, shape.channels, epsilon);
  RefTensor y = RefTensor::Float(x.shape, std::vector<float>(x.f32.size()));
  ops::ref::BatchNormStatisticsRef(x.f32.data(), y.f32.data(), shape,
                                   ops::Layout::kNchw, gamma, beta, mean, var,
                                   epsilon, ops::Activation::None());
  ctx.SetOutput(0, std::move(y));
}

// ------------------------------------------------- Conv, ConvTranspose

size_t SpatialRank(const RefTensor& x) {
  return x.shape.size() >= 2 ? x.shape.size() - 2 : 0;
}

// The optional bias: (C_out) floats or null.
const float* BiasOf(const NodeContext& ctx, int64_t out_channels) {
  const RefTensor* bias = ctx.OptionalFloatInput(2);
  if (bias == nullptr) return nullptr;
  if (bias->shape != std::vector<int64_t>{out_channels}) {
    ctx.Invalid("bias is " + Describe(*bias) + ", expected (" +
                std::to_string(out_channels) + ")");
  }
  return bias->f32.data();
}

void EvalConv(const NodeContext& ctx) {
  const RefTensor& x = ctx.FloatInput(0);
  const RefTensor& w = ctx.FloatInput(1);
  const ops::ref::ConvParams params = ResolveConvParams(
      ReadConvAttributes(ctx.node(), SpatialRank(x)), x.shape, w.shape);
  const std::vector<int64_t> y_shape =
      ops::ref::ConvOutputShape(x.shape, w.shape, params);
  const float* bias = BiasOf(ctx, y_shape[1]);
  RefTensor y =
      RefTensor::Float(y_shape, std::vector<float>(ShapeElementCount(y_shape)));
  ops::ref::ConvRef(x.f32.data(), x.shape, w.f32.data(), w.shape, bias, params,
                    y.f32.data());
  ctx.SetOutput(0, std::move(y));
}

void EvalConvTranspose(const NodeContext& ctx) {
  const RefTensor& x = ctx.FloatInput(0);
  const RefTensor& w = ctx.FloatInput(1);
  const ops::ref::ConvTransposeParams params = ResolveConvTransposeParams(
      ReadConvTransposeAttributes(ctx.node(), SpatialRank(x)), x.shape,
      w.shape);
  const std::vector<int64_t> y_shape =
      ops::ref::ConvTransposeOutputShape(x.shape, w.shape, params);
  const float* bias = BiasOf(ctx, y_shape[1]);
  RefTensor y =
      RefTensor::Float(y_shape, std::vector<float>(ShapeElementCount(y_shape)));
  ops::ref::ConvTransposeRef(x.f32.data(), x.shape, w.f32.data(), w.shape, bias,
                             params, y.f32.data());
  ctx.SetOutput(0, std::move(y));
}

// ------------------------------------------------------- Gemm, MatMul

void EvalGemm(const NodeContext& ctx) {
  const Node& node = ctx.node();
  const RefTensor& a = ctx.FloatInput(0);
  const RefTensor& b = ctx.FloatInput(1);
  const RefTensor* c = ctx.OptionalFloatInput(2);
  const ops::ref::GemmParams params = ReadGemmParams(node);
  const std::vector<int64_t> y_shape = ops::ref::GemmOutputShape(
      a.shape, b.shape, c != nullptr ? &c->shape : nullptr, params);
  RefTensor y =
      RefTensor::Float(y_shape, std::vector<float>(ShapeElementCount(y_shape)));
  ops::ref::GemmRef(a.f32.data(), a.shape, b.f32.data(), b.shape,
                    c != nullptr ? c->f32.data() : nullptr,
                    c != nullptr ? c->shape : std::vector<int64_t>{}, params,
                    y.f32.data());
  ctx.SetOutput(0, std::move(y));
}

void EvalMatMul(const NodeContext& ctx) {
  const RefTensor& a = ctx.FloatInput(0);
  const RefTensor& b = ctx.FloatInput(1);
  const std::vector<int64_t> y_shape =
      ops::ref::MatMulOutputShape(a.shape, b.shape);
  RefTensor y =
      RefTensor::Float(y_shape, std::vector<float>(ShapeElementCount(y_shape)));
  ops::ref::MatMulRef(a.f32.data(), a.shape, b.f32.data(), b.shape,
                      y.f32.data());
  ctx.SetOutput(0, std::move(y));
}

// ------------------------------------------------------------- pooling

void EvalGlobalAveragePool(const NodeContext& ctx) {
  const RefTensor& x = ctx.FloatInput(0);
  const std::vector<int64_t> y_shape = ops::ref::GlobalPoolOutputShape(x.shape);
  RefTensor y =
      RefTensor::Float(y_shape, std::vector<float>(ShapeElementCount(y_shape)));
  ops::ref::GlobalAveragePoolRef(x.f32.data(), x.shape, y.f32.data());
  ctx.SetOutput(0, std::move(y));
}

ops::ref::PoolParams ReadPoolParams(const NodeContext& ctx,
                                    const RefTensor& x) {
  return ResolvePoolParams(ReadPoolAttributes(ctx.node()), x.shape);
}

void EvalMaxPool(const NodeContext& ctx) {
  ctx.RequireUnused(1, "Indices");
  const RefTensor& x = ctx.FloatInput(0);
  const ops::ref::PoolParams params = ReadPoolParams(ctx, x);
  const std::vector<int64_t> y_shape =
      ops::ref::PoolOutputShape(x.shape, params);
  RefTensor y =
      RefTensor::Float(y_shape, std::vector<float>(ShapeElementCount(y_shape)));
  ops::ref::MaxPoolRef(x.f32.data(), x.shape, params, y.f32.data());
  ctx.SetOutput(0, std::move(y));
}

void EvalAveragePool(const NodeContext& ctx) {
  const RefTensor& x = ctx.FloatInput(0);
  const ops::ref::PoolParams params = ReadPoolParams(ctx, x);
  const std::vector<int64_t> y_shape =
      ops::ref::PoolOutputShape(x.shape, params);
  RefTensor y =
      RefTensor::Float(y_shape, std::vector<float>(ShapeElementCount(y_shape)));
  ops::ref::AveragePoolRef(x.f32.data(), x.shape, params, y.f32.data());
  ctx.SetOutput(0, std::move(y));
}

void EvalSoftmax(const NodeContext& ctx) {
  const RefTensor& x = ctx.FloatInput(0);
  const SoftmaxGeometry geometry = SoftmaxGeometryFor(
      SoftmaxAxis(ctx.node(), ctx.opset()), ctx.opset(), x.shape);
  const int64_t outer = geometry.outer;
  const int64_t length = geometry.length;
  const int64_t inner = geometry.inner;
  RefTensor y = RefTensor::Float(x.shape, std::vector<float>(x.f32.size()));
  for (int64_t o = 0; o < outer; ++o) {
    for (int64_t i = 0; i < inner; ++i) {
      const int64_t base = o * length * inner + i;
      double max = -std::numeric_limits<double>::infinity();
      for (int64_t j = 0; j < length; ++j) {
        max = std::max(max, static_cast<double>(x.f32[base + j * inner]));
      }
      double sum = 0.0;
      for (int64_t j = 0; j < length; ++j) {
        sum += std::exp(x.f32[base + j * inner] - max);
      }
      for (int64_t j = 0; j < length; ++j) {
        y.f32[base + j * inner] =
            static_cast<float>(std::exp(x.f32[base + j * inner] - max) / sum);
      }
    }
  }
  ctx.SetOutput(0, std::move(y));
}

// ------------------------------------------- data movement and shapes

void EvalConcat(const NodeContext& ctx) {
  if (!ctx.node().HasAttribute("axis")) {
    ctx.Invalid("the axis attribute is required");
  }
  std::vector<const RefTensor*> parts;
  for (size_t i = 0; i < ctx.node().num_inputs(); ++i) {
    parts.push_back(&ctx.Input(i));
  }
  if (parts.empty()) ctx.Invalid("needs at least one input");
  const RefTensor& first = *parts[0];
  const int64_t rank = static_cast<int64_t>(first.shape.size());
  const int64_t attr_axis = ctx.node().GetInt("axis", 0);
  const int64_t axis = NormalizeAxis(attr_axis, rank);
  if (axis < 0) {
    ctx.Invalid("axis " + std::to_string(attr_axis) +
                " is out of range for input " + Describe(first));
  }
  std::vector<int64_t> y_shape = first.shape;
  y_shape[axis] = 0;
  for (size_t i = 0; i < parts.size(); ++i) {
    const RefTensor& part = *parts[i];
    bool fits =
        part.dtype == first.dtype && part.shape.size() == first.shape.size();
    for (int64_t d = 0; fits && d < rank; ++d) {
      fits = d == axis || part.shape[d] == first.shape[d];
    }
    if (!fits) {
      ctx.Invalid("input " + std::to_string(i) + " is " + Describe(part) +
                  ", which does not concatenate with input 0 " +
                  Describe(first) + " along axis " + std::to_string(axis));
    }
    y_shape[axis] += part.shape[axis];
  }
  const int64_t outer = ShapeElementCount(
      std::vector<int64_t>(first.shape.begin(), first.shape.begin() + axis));
  const int64_t inner = ShapeElementCount(
      std::vector<int64_t>(first.shape.begin() + axis + 1, first.shape.end()));
  RefTensor y;
  y.dtype = first.dtype;
  y.shape = y_shape;
  DispatchDtype(first.dtype, [&](auto tag) {
    using T = decltype(tag);
    std::vector<T>& out = Elements<T>(y);
    out.reserve(ShapeElementCount(y_shape));
    for (int64_t o = 0; o < outer; ++o) {
      for (const RefTensor* part : parts) {
        const int64_t chunk = part->shape[axis] * inner;
        const T* src = Elements<T>(*part).data() + o * chunk;
        out.insert(out.end(), src, src + chunk);
      }
    }
    return 0;
  });
  ctx.SetOutput(0, std::move(y));
}

void EvalConstant(const NodeContext& ctx) {
  const graph::Tensor* value = ctx.node().ConstantValue();
  if (value == nullptr) {
    ctx.Unsupported(
        "only value, value_float(s) and value_int(s) constants are supported "
        "(not sparse_value or strings)");
  }
  ctx.SetOutput(0, FromGraphTensor(*value, ctx.node().output(0)));
}

void EvalTranspose(const NodeContext& ctx) {
  const RefTensor& x = ctx.Input(0);
  const size_t rank = x.shape.size();
  const std::vector<int64_t> perm =
      TransposePerm(OptionalInts(ctx.node(), "perm"), rank);
  const std::vector<int64_t> in_strides = ContiguousStrides(x.shape);
  std::vector<int64_t> y_shape(rank);
  std::vector<int64_t> strides(rank);
  for (size_t i = 0; i < rank; ++i) {
    y_shape[i] = x.shape[perm[i]];
    strides[i] = in_strides[perm[i]];
  }
  const std::vector<int64_t> offsets = StridedOffsets(y_shape, strides);
  RefTensor y;
  y.dtype = x.dtype;
  y.shape = y_shape;
  DispatchDtype(x.dtype, [&](auto tag) {
    using T = decltype(tag);
    const std::vector<T>& in = Elements<T>(x);
    std::vector<T>& out = Elements<T>(y);
    out.resize(offsets.size());
    for (size_t i = 0; i < offsets.size(); ++i) out[i] = in[offsets[i]];
    return 0;
  });
  ctx.SetOutput(0, std::move(y));
}

// The input with a new shape of the same element count.
void SetReshaped(const NodeContext& ctx, const RefTensor& x,
                 std::vector<int64_t> shape) {
  if (ShapeElementCount(shape) != x.NumElements()) {
    ctx.Invalid("cannot reshape " + Describe(x) + " to " +
                ShapeToString(shape));
  }
  RefTensor y = x;
  y.shape = std::move(shape);
  ctx.SetOutput(0, std::move(y));
}

void EvalFlatten(const NodeContext& ctx) {
  const RefTensor& x = ctx.Input(0);
  SetReshaped(ctx, x,
              FlattenOutputShape(x.shape, ctx.node().GetInt("axis", 1)));
}

void EvalReshape(const NodeContext& ctx) {
  const RefTensor& x = ctx.Input(0);
  SetReshaped(ctx, x,
              ReshapeOutputShape(x.shape, ctx.Int64Input(1),
                                 ctx.node().GetInt("allowzero", 0) != 0));
}

// Squeeze / Unsqueeze axes: the attribute before opset 13, the optional
// second input from 13 on.
std::vector<int64_t> AxesOf(const NodeContext& ctx) {
  if (!AxesAreAnInput(ctx.node(), ctx.opset())) {
    return ctx.node().GetInts("axes");
  }
  return ctx.HasInput(1) ? ctx.Int64Input(1) : std::vector<int64_t>{};
}

void EvalUnsqueeze(const NodeContext& ctx) {
  const RefTensor& x = ctx.Input(0);
  SetReshaped(ctx, x, UnsqueezeOutputShape(x.shape, AxesOf(ctx)));
}

void EvalSqueeze(const NodeContext& ctx) {
  const RefTensor& x = ctx.Input(0);
  SetReshaped(ctx, x, SqueezeOutputShape(x.shape, AxesOf(ctx)));
}

void EvalShape(const NodeContext& ctx) {
  const RefTensor& x = ctx.Input(0);
  const auto [start, end] =
      ShapeOpRange(ctx.node(), static_cast<int64_t>(x.shape.size()));
  std::vector<int64_t> dims;
  for (int64_t i = start; i < end; ++i) dims.push_back(x.shape[i]);
  const int64_t count = static_cast<int64_t>(dims.size());
  ctx.SetOutput(0, RefTensor::Int64({count}, std::move(dims)));
}

void EvalGather(const NodeContext& ctx) {
  const RefTensor& data = ctx.Input(0);
  const RefTensor& indices = ctx.Input(1);
  if (indices.dtype != DataType::kInt64) {
    ctx.Invalid("indices are " + Describe(indices) +
                "; expected an integer tensor");
  }
  const int64_t rank = static_cast<int64_t>(data.shape.size());
  const int64_t attr_axis = ctx.node().GetInt("axis", 0);
  const int64_t axis = NormalizeAxis(attr_axis, rank);
  if (axis < 0) {
    ctx.Invalid("axis " + std::to_string(attr_axis) +
                " is out of range for data " + Describe(data));
  }
  const int64_t axis_size = data.shape[axis];
  const int64_t outer = ShapeElementCount(
      std::vector<int64_t>(data.shape.begin(), data.shape.begin() + axis));
  const int64_t inner = ShapeElementCount(
      std::vector<int64_t>(data.shape.begin() + axis + 1, data.shape.end()));
  std::vector<int64_t> y_shape(data.shape.begin(), data.shape.begin() + axis);
  y_shape.insert(y_shape.end(), indices.shape.begin(), indices.shape.end());
  y_shape.insert(y_shape.end(), data.shape.begin() + axis + 1,
                 data.shape.end());
  RefTensor y;
  y.dtype = data.dtype;
  y.shape = y_shape;
  DispatchDtype(data.dtype, [&](auto tag) {
    using T = decltype(tag);
    const std::vector<T>& in = Elements<T>(data);
    std::vector<T>& out = Elements<T>(y);
    out.reserve(ShapeElementCount(y_shape));
    for (int64_t o = 0; o < outer; ++o) {
      for (int64_t raw : indices.i64) {
        const int64_t index = raw < 0 ? raw + axis_size : raw;
        if (index < 0 || index >= axis_size) {
          ctx.Invalid("index " + std::to_string(raw) +
                      " is out of range for axis " + std::to_string(axis) +
                      " of " + Describe(data));
        }
        const T* src = in.data() + (o * axis_size + index) * inner;
        out.insert(out.end(), src, src + inner);
      }
    }
    return 0;
  });
  ctx.SetOutput(0, std::move(y));
}

}  // namespace

void RegisterReferences(OpRegistry* registry) {
  registry->SetReference("Add", EvalBinary<BinaryOp::kAdd>);
  registry->SetReference("AveragePool", EvalAveragePool);
  registry->SetReference("BatchNormalization", EvalBatchNormalization);
  registry->SetReference("Clip", EvalClip);
  registry->SetReference("Concat", EvalConcat);
  registry->SetReference("Constant", EvalConstant);
  registry->SetReference("Conv", EvalConv);
  registry->SetReference("ConvTranspose", EvalConvTranspose);
  registry->SetReference("Div", EvalBinary<BinaryOp::kDiv>);
  registry->SetReference("Dropout", EvalDropout);
  registry->SetReference("Flatten", EvalFlatten);
  registry->SetReference("Gather", EvalGather);
  registry->SetReference("Gemm", EvalGemm);
  registry->SetReference("GlobalAveragePool", EvalGlobalAveragePool);
  registry->SetReference("HardSigmoid", EvalHardSigmoid);
  registry->SetReference("HardSwish", EvalHardSwish);
  registry->SetReference("Identity", EvalIdentity);
  registry->SetReference("MatMul", EvalMatMul);
  registry->SetReference("MaxPool", EvalMaxPool);
  registry->SetReference("Mul", EvalBinary<BinaryOp::kMul>);
  registry->SetReference("Relu", EvalRelu);
  registry->SetReference("Reshape", EvalReshape);
  registry->SetReference("Shape", EvalShape);
  registry->SetReference("Sigmoid", EvalSigmoid);
  registry->SetReference("Softmax", EvalSoftmax);
  registry->SetReference("Squeeze", EvalSqueeze);
  registry->SetReference("Sub", EvalBinary<BinaryOp::kSub>);
  registry->SetReference("Transpose", EvalTranspose);
  registry->SetReference("Unsqueeze", EvalUnsqueeze);
  reference::RegisterTensorOpReferences(registry);
}

namespace {

void EvaluateNode(const NodeContext& ctx) {
  const Node& node = ctx.node();
  if (!graph::IsDefaultDomain(node.domain())) {
    ctx.Unsupported("domain '" + node.domain() +
                    "' is not supported by the reference evaluator");
  }
  const OpRegistration* op = OpRegistry::Get().Find(node.op_type());
  if (op == nullptr || op->reference == nullptr) {
    std::string supported;
    for (const std::string& name : ReferenceEvaluatorOps()) {
      supported += (supported.empty() ? "" : ", ") + name;
    }
    ctx.Unsupported("op " + node.op_type() +
                    " is not implemented by the reference evaluator "
                    "(it implements " +
                    supported + ")");
  }
  try {
    op->reference(ctx);
  } catch (const Error& e) {
    // Raised below the node (ops/ref, the BN math, an attribute getter):
    // the same error type, naming the node, unless it names one already.
    if (!e.context().node.empty()) throw;
    RethrowWithContext(e, ctx.error_context());
  }
}

// Checks a fed input against the graph's declaration of it; `symbols`
// collects the values symbolic dims take.
void CheckInput(const graph::ValueInfo& info, const RefTensor& tensor,
                const std::string& file,
                std::map<std::string, int64_t>* symbols) {
  const std::string what = "input '" + info.name + "'";
  const ErrorContext context{file, "", ""};
  try {
    CheckWellFormed(tensor, what);
  } catch (const InvalidArgumentError& e) {
    throw InvalidArgumentError(e.message(), context);
  }
  if (!info.has_tensor_type) return;
  if (info.dtype != tensor.dtype) {
    throw InvalidArgumentError(what + " is " + Describe(tensor) +
                                   ", the graph declares element type " +
                                   graph::DataTypeName(info.dtype),
                               context);
  }
  if (!info.shape) return;
  const std::vector<graph::Dim>& dims = *info.shape;
  bool fits = dims.size() == tensor.shape.size();
  for (size_t i = 0; fits && i < dims.size(); ++i) {
    const int64_t actual = tensor.shape[i];
    if (dims[i].kind == graph::Dim::Kind::kKnown) {
      fits = dims[i].value == actual;
    } else if (dims[i].kind == graph::Dim::Kind::kSymbolic) {
      const auto [it, inserted] = symbols->emplace(dims[i].symbol, actual);
      fits = inserted || it->second == actual;
    }
  }
  if (!fits) {
    std::string declared = "(";
    for (size_t i = 0; i < dims.size(); ++i) {
      if (i) declared += ", ";
      switch (dims[i].kind) {
        case graph::Dim::Kind::kKnown:
          declared += std::to_string(dims[i].value);
          break;
        case graph::Dim::Kind::kSymbolic:
          declared += dims[i].symbol;
          break;
        case graph::Dim::Kind::kUnknown:
          declared += "?";
          break;
      }
    }
    throw InvalidArgumentError(
        what + " has shape " + ShapeToString(tensor.shape) +
            ", the graph declares " + declared +
            ") (a symbolic dim takes one value across all inputs)",
        context);
  }
}

std::map<std::string, RefTensor> Evaluate(
    const graph::Graph& graph, int64_t opset,
    const std::map<std::string, RefTensor>& inputs, const std::string& file) {
  const ErrorContext context{file, "", ""};
  std::map<std::string, RefTensor> values;
  std::map<std::string, int64_t> symbols;
  for (const graph::ValueInfo& info : graph.inputs()) {
    const auto it = inputs.find(info.name);
    if (it == inputs.end()) {
      throw InvalidArgumentError("graph input '" + info.name + "' is not fed",
                                 context);
    }
    CheckInput(info, it->second, file, &symbols);
    values.emplace(info.name, it->second);
  }
  for (const auto& [name, tensor] : inputs) {
    if (values.count(name) == 0) {
      std::string names;
      for (const graph::ValueInfo& info : graph.inputs()) {
        names += (names.empty() ? "'" : ", '") + info.name + "'";
      }
      throw InvalidArgumentError("'" + name +
                                     "' is not an input of the graph (its "
                                     "inputs: " +
                                     names + ")",
                                 context);
    }
  }
  for (const Node* node : graph.TopologicalOrder()) {
    EvaluateNode(NodeContext(graph, *node, opset, file, &values));
  }
  std::map<std::string, RefTensor> outputs;
  for (const graph::ValueInfo& info : graph.outputs()) {
    auto it = values.find(info.name);
    if (it != values.end()) {
      outputs[info.name] = it->second;
      continue;
    }
    const graph::Tensor* initializer = graph.FindInitializer(info.name);
    if (initializer == nullptr) {
      throw InvalidArgumentError(
          "graph output '" + info.name + "' was not computed", context);
    }
    outputs[info.name] = FromGraphTensor(*initializer, info.name);
  }
  return outputs;
}

}  // namespace

const std::vector<std::string>& ReferenceEvaluatorOps() {
  static const auto* const ops = [] {
    auto* names = new std::vector<std::string>;
    const OpRegistry& registry = OpRegistry::Get();
    for (const std::string& type : registry.OpTypes()) {
      if (registry.Find(type)->reference != nullptr) names->push_back(type);
    }
    return names;
  }();
  return *ops;
}

std::map<std::string, RefTensor> EvaluateReference(
    const graph::Graph& graph, int64_t opset,
    const std::map<std::string, RefTensor>& inputs) {
  return Evaluate(graph, opset, inputs, /*file=*/"");
}

std::map<std::string, RefTensor> EvaluateReference(
    const graph::Model& model, const std::map<std::string, RefTensor>& inputs) {
  const int64_t opset = graph::OpsetVersion(model, "");
  if (opset == 0) {
    throw UnsupportedError("the model imports no default-domain opset",
                           ErrorContext{model.source, "", ""});
  }
  return Evaluate(model.graph, opset, inputs, model.source);
}

}  // namespace foldrt::runtime
