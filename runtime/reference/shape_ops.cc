// References of the shape ops: Constant, Shape, Transpose and the views
// (Reshape, Flatten, Squeeze, Unsqueeze), int64 and float alike.
#include <cstdint>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "core/tensor.h"
#include "runtime/op_attributes.h"
#include "runtime/reference/reference_ops.h"

namespace foldrt::runtime::reference {
namespace {

void EvalConstant(const NodeContext& ctx) {
  const graph::Tensor* value = ctx.node().ConstantValue();
  if (value == nullptr) {
    ctx.Unsupported(
        "only value, value_float(s) and value_int(s) constants are supported "
        "(not sparse_value or strings)");
  }
  ctx.SetOutput(0, FromGraphConstant(*value, ctx.node().output(0)));
}

void EvalTranspose(const NodeContext& ctx) {
  const Tensor& x = ctx.Input(0);
  const size_t rank = x.shape().size();
  const std::vector<int64_t> perm =
      TransposePerm(OptionalInts(ctx.node(), "perm"), rank);
  const std::vector<int64_t> in_strides = ContiguousStrides(x.shape());
  std::vector<int64_t> y_shape(rank);
  std::vector<int64_t> strides(rank);
  for (size_t i = 0; i < rank; ++i) {
    y_shape[i] = x.shape()[perm[i]];
    strides[i] = in_strides[perm[i]];
  }
  ctx.SetOutput(0, Gathered(x, y_shape, StridedOffsets(y_shape, strides)));
}

// The input with a new shape of the same element count.
void SetReshaped(const NodeContext& ctx, const Tensor& x,
                 std::vector<int64_t> shape) {
  if (ShapeNumElements(shape) != x.NumElements()) {
    ctx.Invalid("cannot reshape " + Describe(x) + " to " +
                ShapeToString(shape));
  }
  // The same elements, copied: a Tensor's shape is fixed.
  Tensor y = Tensor::Zeros(x.dtype(), std::move(shape));
  if (y.ByteSize() > 0) {
    std::memcpy(y.mutable_raw_data(), x.raw_data(), y.ByteSize());
  }
  ctx.SetOutput(0, std::move(y));
}

void EvalFlatten(const NodeContext& ctx) {
  const Tensor& x = ctx.Input(0);
  SetReshaped(ctx, x,
              FlattenOutputShape(x.shape(), ctx.node().GetInt("axis", 1)));
}

void EvalReshape(const NodeContext& ctx) {
  const Tensor& x = ctx.Input(0);
  SetReshaped(ctx, x,
              ReshapeOutputShape(x.shape(), ctx.Int64Input(1),
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
  const Tensor& x = ctx.Input(0);
  SetReshaped(ctx, x, UnsqueezeOutputShape(x.shape(), AxesOf(ctx)));
}

void EvalSqueeze(const NodeContext& ctx) {
  const Tensor& x = ctx.Input(0);
  SetReshaped(ctx, x, SqueezeOutputShape(x.shape(), AxesOf(ctx)));
}

void EvalShape(const NodeContext& ctx) {
  const Tensor& x = ctx.Input(0);
  const auto [start, end] =
      ShapeOpRange(ctx.node(), static_cast<int64_t>(x.shape().size()));
  std::vector<int64_t> dims;
  for (int64_t i = start; i < end; ++i) dims.push_back(x.shape()[i]);
  const int64_t count = static_cast<int64_t>(dims.size());
  ctx.SetOutput(0, Tensor::FromInt64s({count}, dims));
}

}  // namespace

void RegisterShapeReferences(OpRegistry* registry) {
  registry->SetReference("Constant", EvalConstant);
  registry->SetReference("Flatten", EvalFlatten);
  registry->SetReference("Reshape", EvalReshape);
  registry->SetReference("Shape", EvalShape);
  registry->SetReference("Squeeze", EvalSqueeze);
  registry->SetReference("Transpose", EvalTranspose);
  registry->SetReference("Unsqueeze", EvalUnsqueeze);
}

}  // namespace foldrt::runtime::reference
