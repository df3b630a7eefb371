// References of the data movement ops (Concat, Gather, and Slice, Split and
// Pad, which read their geometry from runtime/op_attributes.h), ReduceMean
// and Cast: element loops over the rules the kernels share, so that they and
// the kernels can differ only in how they move the data.
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "core/tensor.h"
#include "runtime/op_attributes.h"
#include "runtime/reference/reference_ops.h"

namespace foldrt::runtime::reference {
namespace {

// Input `index` when the node has it, else nullopt.
std::optional<std::vector<int64_t>> OptionalInt64Input(const NodeContext& ctx,
                                                       size_t index) {
  if (!ctx.HasInput(index)) return std::nullopt;
  return ctx.Int64Input(index);
}

void EvalConcat(const NodeContext& ctx) {
  if (!ctx.node().HasAttribute("axis")) {
    ctx.Invalid("the axis attribute is required");
  }
  std::vector<const Tensor*> parts;
  for (size_t i = 0; i < ctx.node().num_inputs(); ++i) {
    parts.push_back(&ctx.Input(i));
  }
  if (parts.empty()) ctx.Invalid("needs at least one input");
  const Tensor& first = *parts[0];
  const int64_t rank = static_cast<int64_t>(first.shape().size());
  const int64_t axis = ctx.AxisFor(first, "input");
  std::vector<int64_t> y_shape = first.shape();
  y_shape[axis] = 0;
  for (size_t i = 0; i < parts.size(); ++i) {
    const Tensor& part = *parts[i];
    bool fits = part.dtype() == first.dtype() &&
                part.shape().size() == first.shape().size();
    for (int64_t d = 0; fits && d < rank; ++d) {
      fits = d == axis || part.shape()[d] == first.shape()[d];
    }
    if (!fits) {
      ctx.Invalid("input " + std::to_string(i) + " is " + Describe(part) +
                  ", which does not concatenate with input 0 " +
                  Describe(first) + " along axis " + std::to_string(axis));
    }
    y_shape[axis] += part.shape()[axis];
  }
  const int64_t outer = ShapeProduct(first.shape(), 0, axis);
  const int64_t inner =
      ShapeProduct(first.shape(), axis + 1, first.shape().size());
  const int64_t count = ShapeNumElements(y_shape);
  ctx.SetOutput(0, MakeTensor(first.dtype(), y_shape, [&](auto tag, auto& out) {
                  using T = decltype(tag);
                  out.reserve(count);
                  for (int64_t o = 0; o < outer; ++o) {
                    for (const Tensor* part : parts) {
                      const int64_t chunk = part->shape()[axis] * inner;
                      const T* src = part->data<T>() + o * chunk;
                      out.insert(out.end(), src, src + chunk);
                    }
                  }
                }));
}

void EvalGather(const NodeContext& ctx) {
  const Tensor& data = ctx.Input(0);
  const Tensor& indices = ctx.Input(1);
  if (indices.dtype() != DataType::kInt64) {
    ctx.Invalid("indices are " + Describe(indices) +
                "; expected an integer tensor");
  }
  const int64_t axis = ctx.AxisFor(data, "data");
  const int64_t axis_size = data.shape()[axis];
  const int64_t outer = ShapeProduct(data.shape(), 0, axis);
  const int64_t inner =
      ShapeProduct(data.shape(), axis + 1, data.shape().size());
  std::vector<int64_t> y_shape(data.shape().begin(),
                               data.shape().begin() + axis);
  y_shape.insert(y_shape.end(), indices.shape().begin(), indices.shape().end());
  y_shape.insert(y_shape.end(), data.shape().begin() + axis + 1,
                 data.shape().end());
  const int64_t count = ShapeNumElements(y_shape);
  ctx.SetOutput(0, MakeTensor(data.dtype(), y_shape, [&](auto tag, auto& out) {
                  using T = decltype(tag);
                  const T* in = data.data<T>();
                  const int64_t* index_values = indices.data<int64_t>();
                  out.reserve(count);
                  for (int64_t o = 0; o < outer; ++o) {
                    for (int64_t k = 0; k < indices.NumElements(); ++k) {
                      const int64_t raw = index_values[k];
                      const int64_t index = raw < 0 ? raw + axis_size : raw;
                      if (index < 0 || index >= axis_size) {
                        ctx.Invalid("index " + std::to_string(raw) +
                                    " is out of range for axis " +
                                    std::to_string(axis) + " of " +
                                    Describe(data));
                      }
                      const T* src = in + (o * axis_size + index) * inner;
                      out.insert(out.end(), src, src + inner);
                    }
                  }
                }));
}

void EvalSlice(const NodeContext& ctx) {
  const Tensor& x = ctx.Input(0);
  std::vector<int64_t> starts;
  std::vector<int64_t> ends;
  std::optional<std::vector<int64_t>> axes;
  std::optional<std::vector<int64_t>> steps;
  if (ctx.opset() < 10) {
    starts = ctx.node().GetInts("starts");
    ends = ctx.node().GetInts("ends");
    axes = OptionalInts(ctx.node(), "axes");
  } else {
    starts = ctx.Int64Input(1);
    ends = ctx.Int64Input(2);
    axes = OptionalInt64Input(ctx, 3);
    steps = OptionalInt64Input(ctx, 4);
  }
  const SliceGeometry g = ResolveSlice(x.shape(), starts, ends, axes, steps);
  const std::vector<int64_t> x_strides = ContiguousStrides(x.shape());
  std::vector<int64_t> strides(x.shape().size());
  int64_t base = 0;
  for (size_t axis = 0; axis < x.shape().size(); ++axis) {
    strides[axis] = x_strides[axis] * g.step[axis];
    if (g.shape[axis] > 0) base += g.begin[axis] * x_strides[axis];
  }
  std::vector<int64_t> offsets = StridedOffsets(g.shape, strides);
  for (int64_t& offset : offsets) offset += base;
  ctx.SetOutput(0, Gathered(x, g.shape, offsets));
}

void EvalSplit(const NodeContext& ctx) {
  const Tensor& x = ctx.Input(0);
  const size_t num_outputs = ctx.node().num_outputs();
  if (num_outputs == 0) ctx.Invalid("has no outputs");
  const size_t axis =
      static_cast<size_t>(CheckedAxis(ctx.node().GetInt("axis", 0), x.shape()));
  const std::optional<std::vector<int64_t>> given =
      ctx.opset() >= 13 ? OptionalInt64Input(ctx, 1)
                        : OptionalInts(ctx.node(), "split");
  const std::vector<int64_t> sizes =
      ResolveSplitSizes(x.shape(), axis, given, num_outputs, Describe(x));
  const std::vector<int64_t> x_strides = ContiguousStrides(x.shape());
  int64_t start = 0;
  for (size_t i = 0; i < num_outputs; ++i) {
    std::vector<int64_t> shape = x.shape();
    shape[axis] = sizes[i];
    std::vector<int64_t> offsets = StridedOffsets(shape, x_strides);
    for (int64_t& offset : offsets) offset += start * x_strides[axis];
    ctx.SetOutput(i, Gathered(x, shape, offsets));
    start += sizes[i];
  }
}

void EvalPad(const NodeContext& ctx) {
  const Tensor& x = ctx.Input(0);
  const PadMode mode = ReadPadMode(ctx.node());
  if (ctx.HasInput(3)) ctx.Unsupported("the axes input is not supported");
  std::vector<int64_t> pads;
  float value = 0.0f;                // before opset 11
  const Tensor* constant = nullptr;  // from opset 11 on, when given
  if (ctx.opset() < 11) {
    pads = ctx.node().GetInts("pads");
    value = ctx.node().GetFloat("value", 0.0f);
  } else {
    pads = ctx.Int64Input(1);
    if (ctx.HasInput(2)) {
      constant = &ctx.Input(2);
      if (constant->dtype() != x.dtype() || constant->NumElements() != 1) {
        ctx.Invalid("constant_value is " + Describe(*constant) +
                    "; expected one " + DataTypeName(x.dtype()));
      }
    }
  }
  const std::vector<std::vector<int64_t>> source =
      PadSourceIndices(x.shape(), pads, mode, Describe(x));
  const size_t rank = x.shape().size();
  std::vector<int64_t> shape(rank);
  for (size_t axis = 0; axis < rank; ++axis) {
    shape[axis] = static_cast<int64_t>(source[axis].size());
  }
  const std::vector<int64_t> x_strides = ContiguousStrides(x.shape());
  ctx.SetOutput(0, MakeTensor(x.dtype(), shape, [&](auto tag, auto& out) {
                  using T = decltype(tag);
                  const T* in = x.data<T>();
                  const T fill = constant != nullptr ? constant->data<T>()[0]
                                                     : static_cast<T>(value);
                  const int64_t count = ShapeNumElements(shape);
                  std::vector<int64_t> index(rank, 0);
                  for (int64_t e = 0; e < count; ++e) {
                    int64_t offset = 0;
                    bool padded = false;
                    for (size_t axis = 0; axis < rank; ++axis) {
                      const int64_t i = source[axis][index[axis]];
                      if (i < 0) padded = true;
                      offset += i * x_strides[axis];
                    }
                    out.push_back(padded ? fill : in[offset]);
                    for (size_t axis = rank; axis-- > 0;) {
                      if (++index[axis] < shape[axis]) break;
                      index[axis] = 0;
                    }
                  }
                }));
}

void EvalReduceMean(const NodeContext& ctx) {
  const Tensor& x = ctx.FloatInput(0);
  std::vector<int64_t> axes;
  if (AxesAreAnInput(ctx.node(), ctx.opset())) {
    if (ctx.HasInput(1)) axes = ctx.Int64Input(1);
  } else {
    axes = ctx.node().GetInts("axes");
  }
  const std::vector<bool> reduced = ReducedAxes(
      x.shape(), axes, ctx.node().GetInt("noop_with_empty_axes", 0) != 0);
  const bool keep_dims = ctx.node().GetInt("keepdims", 1) != 0;
  // Sum into the output position with keepdims, in double.
  std::vector<int64_t> kept_shape;
  int64_t count = 1;
  for (size_t i = 0; i < x.shape().size(); ++i) {
    kept_shape.push_back(reduced[i] ? 1 : x.shape()[i]);
    if (reduced[i]) count *= x.shape()[i];
  }
  const std::vector<int64_t> kept_strides = ContiguousStrides(kept_shape);
  std::vector<int64_t> strides(x.shape().size());
  for (size_t i = 0; i < x.shape().size(); ++i) {
    strides[i] = reduced[i] ? 0 : kept_strides[i];
  }
  const std::vector<int64_t> targets = StridedOffsets(x.shape(), strides);
  std::vector<double> sums(static_cast<size_t>(ShapeNumElements(kept_shape)),
                           0.0);
  const float* xv = x.data<float>();
  for (size_t e = 0; e < targets.size(); ++e) sums[targets[e]] += xv[e];
  std::vector<float> y(sums.size());
  for (size_t i = 0; i < sums.size(); ++i) {
    // The mean of no values is NaN, as numpy's.
    y[i] = count == 0 ? std::numeric_limits<float>::quiet_NaN()
                      : static_cast<float>(sums[i] / count);
  }
  ctx.SetOutput(0, Tensor::FromFloats(
                       ReduceOutputShape(x.shape(), reduced, keep_dims), y));
}

void EvalCast(const NodeContext& ctx) {
  const Tensor& x = ctx.Input(0);
  const DataType to = ReadCastTarget(ctx.node()) == graph::DataType::kFloat
                          ? DataType::kFloat32
                          : DataType::kInt64;
  if (to == x.dtype()) {
    ctx.SetOutput(0, x);
  } else if (to == DataType::kFloat32) {
    const std::vector<int64_t> values = x.ToVector<int64_t>();
    const std::vector<float> y(values.begin(), values.end());
    ctx.SetOutput(0, Tensor::FromFloats(x.shape(), y));
  } else {
    std::vector<int64_t> y;
    y.reserve(static_cast<size_t>(x.NumElements()));
    for (float v : x.ToVector<float>()) y.push_back(CastFloatToInt64(v));
    ctx.SetOutput(0, Tensor::FromInt64s(x.shape(), y));
  }
}

}  // namespace

void RegisterTensorOpReferences(OpRegistry* registry) {
  registry->SetReference("Cast", EvalCast);
  registry->SetReference("Concat", EvalConcat);
  registry->SetReference("Gather", EvalGather);
  registry->SetReference("Pad", EvalPad);
  registry->SetReference("ReduceMean", EvalReduceMean);
  registry->SetReference("Slice", EvalSlice);
  registry->SetReference("Split", EvalSplit);
}

}  // namespace foldrt::runtime::reference
