// References of the layers ops/ref implements: BatchNormalization, Conv,
// ConvTranspose, Gemm, MatMul and the pools (plain loops with double
// accumulation, one rounding to float per output).
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "core/batch_norm_affine.h"
#include "ops/activation.h"
#include "ops/layout.h"
#include "ops/ref/batch_norm_ref.h"
#include "ops/ref/conv_ref.h"
#include "ops/ref/conv_transpose_ref.h"
#include "ops/ref/gemm_ref.h"
#include "ops/ref/matmul_ref.h"
#include "ops/ref/pool_ref.h"
#include "runtime/op_attributes.h"
#include "runtime/reference/reference_ops.h"

namespace foldrt::runtime::reference {
namespace {

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
  const Tensor& x = ctx.FloatInput(0);
  const ops::ChannelShape shape = ops::SplitChannelShape(x.shape());
  const char* const kParamNames[] = {"scale", "B", "input_mean", "input_var"};
  for (size_t i = 1; i <= 4; ++i) {
    const Tensor& param = ctx.FloatInput(i);
    if (param.shape() !=
        std::vector<int64_t>{static_cast<int64_t>(shape.channels)}) {
      ctx.Invalid(std::string(kParamNames[i - 1]) + " is " + Describe(param) +
                  ", expected (" + std::to_string(shape.channels) +
                  ") for input " + Describe(x));
    }
  }
  const float* gamma = ctx.FloatInput(1).data<float>();
  const float* beta = ctx.FloatInput(2).data<float>();
  const float* mean = ctx.FloatInput(3).data<float>();
  const float* var = ctx.FloatInput(4).data<float>();
  const float epsilon = node.GetFloat("epsilon", kDefaultBatchNormEpsilon);
  // The runtime's parameter checks (NaN, negative variance, var + eps <= 0),
  // so that the reference rejects exactly what the runtime rejects.
  ComputeBatchNormAffineF64(gamma, beta, mean, var, shape.channels, epsilon);
  Tensor y = Tensor::Zeros(DataType::kFloat32, x.shape());
  ops::ref::BatchNormStatisticsRef(x.data<float>(), y.mutable_data<float>(),
                                   shape, ops::Layout::kNchw, gamma, beta, mean,
                                   var, epsilon, ops::Activation::None());
  ctx.SetOutput(0, std::move(y));
}

// ------------------------------------------------- Conv, ConvTranspose

size_t SpatialRank(const Tensor& x) {
  return x.shape().size() >= 2 ? x.shape().size() - 2 : 0;
}

// The optional bias: (C_out) floats or null.
const float* BiasOf(const NodeContext& ctx, int64_t out_channels) {
  const Tensor* bias = ctx.OptionalFloatInput(2);
  if (bias == nullptr) return nullptr;
  if (bias->shape() != std::vector<int64_t>{out_channels}) {
    ctx.Invalid("bias is " + Describe(*bias) + ", expected (" +
                std::to_string(out_channels) + ")");
  }
  return bias->data<float>();
}

void EvalConv(const NodeContext& ctx) {
  const Tensor& x = ctx.FloatInput(0);
  const Tensor& w = ctx.FloatInput(1);
  const ops::ref::ConvParams params = ResolveConvParams(
      ReadConvAttributes(ctx.node(), SpatialRank(x)), x.shape(), w.shape());
  const std::vector<int64_t> y_shape =
      ops::ref::ConvOutputShape(x.shape(), w.shape(), params);
  const float* bias = BiasOf(ctx, y_shape[1]);
  Tensor y = Tensor::Zeros(DataType::kFloat32, y_shape);
  ops::ref::ConvRef(x.data<float>(), x.shape(), w.data<float>(), w.shape(),
                    bias, params, y.mutable_data<float>());
  ctx.SetOutput(0, std::move(y));
}

void EvalConvTranspose(const NodeContext& ctx) {
  const Tensor& x = ctx.FloatInput(0);
  const Tensor& w = ctx.FloatInput(1);
  const ops::ref::ConvTransposeParams params = ResolveConvTransposeParams(
      ReadConvTransposeAttributes(ctx.node(), SpatialRank(x)), x.shape(),
      w.shape());
  const std::vector<int64_t> y_shape =
      ops::ref::ConvTransposeOutputShape(x.shape(), w.shape(), params);
  const float* bias = BiasOf(ctx, y_shape[1]);
  Tensor y = Tensor::Zeros(DataType::kFloat32, y_shape);
  ops::ref::ConvTransposeRef(x.data<float>(), x.shape(), w.data<float>(),
                             w.shape(), bias, params, y.mutable_data<float>());
  ctx.SetOutput(0, std::move(y));
}

// ------------------------------------------------------- Gemm, MatMul

void EvalGemm(const NodeContext& ctx) {
  const Node& node = ctx.node();
  const Tensor& a = ctx.FloatInput(0);
  const Tensor& b = ctx.FloatInput(1);
  const Tensor* c = ctx.OptionalFloatInput(2);
  const ops::ref::GemmParams params = ReadGemmParams(node);
  const std::vector<int64_t> y_shape = ops::ref::GemmOutputShape(
      a.shape(), b.shape(), c != nullptr ? &c->shape() : nullptr, params);
  Tensor y = Tensor::Zeros(DataType::kFloat32, y_shape);
  ops::ref::GemmRef(a.data<float>(), a.shape(), b.data<float>(), b.shape(),
                    c != nullptr ? c->data<float>() : nullptr,
                    c != nullptr ? c->shape() : std::vector<int64_t>{}, params,
                    y.mutable_data<float>());
  ctx.SetOutput(0, std::move(y));
}

void EvalMatMul(const NodeContext& ctx) {
  const Tensor& a = ctx.FloatInput(0);
  const Tensor& b = ctx.FloatInput(1);
  const std::vector<int64_t> y_shape =
      ops::ref::MatMulOutputShape(a.shape(), b.shape());
  Tensor y = Tensor::Zeros(DataType::kFloat32, y_shape);
  ops::ref::MatMulRef(a.data<float>(), a.shape(), b.data<float>(), b.shape(),
                      y.mutable_data<float>());
  ctx.SetOutput(0, std::move(y));
}

// ------------------------------------------------------------- pooling

void EvalGlobalAveragePool(const NodeContext& ctx) {
  const Tensor& x = ctx.FloatInput(0);
  const std::vector<int64_t> y_shape =
      ops::ref::GlobalPoolOutputShape(x.shape());
  Tensor y = Tensor::Zeros(DataType::kFloat32, y_shape);
  ops::ref::GlobalAveragePoolRef(x.data<float>(), x.shape(),
                                 y.mutable_data<float>());
  ctx.SetOutput(0, std::move(y));
}

using PoolRef = void (*)(const float* x, const std::vector<int64_t>& x_shape,
                         const ops::ref::PoolParams& params, float* y);

// MaxPool (which must not have its Indices output used) and AveragePool.
template <PoolRef kPool, bool kHasIndices>
void EvalWindowPool(const NodeContext& ctx) {
  if (kHasIndices) ctx.RequireUnused(1, "Indices");
  const Tensor& x = ctx.FloatInput(0);
  const ops::ref::PoolParams params =
      ResolvePoolParams(ReadPoolAttributes(ctx.node()), x.shape());
  Tensor y = Tensor::Zeros(DataType::kFloat32,
                           ops::ref::PoolOutputShape(x.shape(), params));
  kPool(x.data<float>(), x.shape(), params, y.mutable_data<float>());
  ctx.SetOutput(0, std::move(y));
}

}  // namespace

void RegisterLayerReferences(OpRegistry* registry) {
  registry->SetReference(
      "AveragePool",
      EvalWindowPool<ops::ref::AveragePoolRef, /*kHasIndices=*/false>);
  registry->SetReference("BatchNormalization", EvalBatchNormalization);
  registry->SetReference("Conv", EvalConv);
  registry->SetReference("ConvTranspose", EvalConvTranspose);
  registry->SetReference("Gemm", EvalGemm);
  registry->SetReference("GlobalAveragePool", EvalGlobalAveragePool);
  registry->SetReference("MatMul", EvalMatMul);
  registry->SetReference(
      "MaxPool", EvalWindowPool<ops::ref::MaxPoolRef, /*kHasIndices=*/true>);
}

}  // namespace foldrt::runtime::reference
