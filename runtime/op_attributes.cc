#include "runtime/op_attributes.h"

#include <algorithm>
#include <string>

#include "core/error.h"
#include "core/tensor.h"

namespace foldrt::runtime {

using graph::Node;

int64_t NormalizeAxis(int64_t axis, int64_t rank, bool inclusive) {
  const int64_t upper = inclusive ? rank : rank - 1;
  if (axis < -rank || axis > upper) return -1;
  return axis < 0 ? axis + rank : axis;
}

int64_t CheckedAxis(int64_t axis, const std::vector<int64_t>& shape,
                    bool inclusive) {
  const int64_t normalized =
      NormalizeAxis(axis, static_cast<int64_t>(shape.size()), inclusive);
  if (normalized < 0) {
    throw InvalidArgumentError("axis " + std::to_string(axis) +
                               " is out of range for shape " +
                               ShapeToString(shape));
  }
  return normalized;
}

std::vector<int64_t> BroadcastShapes(const std::vector<int64_t>& a,
                                     const std::vector<int64_t>& b) {
  const size_t rank = std::max(a.size(), b.size());
  std::vector<int64_t> out(rank);
  for (size_t i = 0; i < rank; ++i) {
    const int64_t da = i < rank - a.size() ? 1 : a[i - (rank - a.size())];
    const int64_t db = i < rank - b.size() ? 1 : b[i - (rank - b.size())];
    if (da != db && da != 1 && db != 1) {
      throw InvalidArgumentError("shapes " + ShapeToString(a) + " and " +
                                 ShapeToString(b) + " do not broadcast");
    }
    out[i] = da == 1 ? db : da;
  }
  return out;
}

int64_t ShapeProduct(const std::vector<int64_t>& shape, size_t from,
                     size_t to) {
  return ShapeNumElements(
      std::vector<int64_t>(shape.begin() + from, shape.begin() + to));
}

std::vector<int64_t> ContiguousStrides(const std::vector<int64_t>& shape) {
  std::vector<int64_t> strides(shape.size(), 1);
  for (size_t i = shape.size(); i-- > 1;) {
    strides[i - 1] = strides[i] * shape[i];
  }
  return strides;
}

std::vector<int64_t> BroadcastStrides(const std::vector<int64_t>& shape,
                                      const std::vector<int64_t>& out) {
  const size_t lead = out.size() - shape.size();
  const std::vector<int64_t> contiguous = ContiguousStrides(shape);
  std::vector<int64_t> strides(out.size(), 0);
  for (size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] != 1) strides[lead + i] = contiguous[i];
  }
  return strides;
}

// --------------------------------------------------- windowed ops

WindowAttributes ReadWindowAttributes(const Node& node, size_t spatial_rank) {
  WindowAttributes w;
  w.auto_pad = ops::ref::ParseAutoPad(node.GetString("auto_pad", "NOTSET"));
  const std::vector<int64_t> ones(spatial_rank, 1);
  w.strides = node.GetInts("strides", ones);
  w.dilations = node.GetInts("dilations", ones);
  const std::vector<int64_t> pads =
      node.GetInts("pads", std::vector<int64_t>(2 * spatial_rank, 0));
  if (pads.size() != 2 * spatial_rank) {
    throw InvalidArgumentError("pads has " + std::to_string(pads.size()) +
                               " values, expected " +
                               std::to_string(2 * spatial_rank) +
                               " (begin and end of each spatial axis)");
  }
  w.pads_begin.assign(pads.begin(), pads.begin() + spatial_rank);
  w.pads_end.assign(pads.begin() + spatial_rank, pads.end());
  if (w.auto_pad != ops::ref::AutoPad::kNotSet && node.HasAttribute("pads")) {
    throw InvalidArgumentError("pads and auto_pad " +
                               node.GetString("auto_pad", "") +
                               " are both set");
  }
  // ResolveAutoPad divides by the strides before the reference ops would
  // check them.
  ops::ref::CheckWindowParam("window", "strides", w.strides, spatial_rank, 1);
  ops::ref::CheckWindowParam("window", "dilations", w.dilations, spatial_rank,
                             1);
  ops::ref::CheckWindowParam("window", "pads", w.pads_begin, spatial_rank, 0);
  ops::ref::CheckWindowParam("window", "pads", w.pads_end, spatial_rank, 0);
  return w;
}

std::optional<std::vector<int64_t>> OptionalInts(const Node& node,
                                                 const std::string& name) {
  if (!node.HasAttribute(name)) return std::nullopt;
  return node.GetInts(name);
}

namespace {

// kernel_shape is optional for Conv and ConvTranspose; when present it must
// describe W.
void CheckKernelShape(const std::optional<std::vector<int64_t>>& kernel,
                      const std::vector<int64_t>& w_shape) {
  if (!kernel) return;
  const std::vector<int64_t> w_kernel(
      w_shape.begin() + std::min<size_t>(2, w_shape.size()), w_shape.end());
  if (*kernel != w_kernel) {
    throw InvalidArgumentError("kernel_shape " + ShapeToString(*kernel) +
                               " does not match W " + ShapeToString(w_shape));
  }
}

}  // namespace

ConvAttributes ReadConvAttributes(const Node& node, size_t spatial_rank) {
  ConvAttributes attrs;
  attrs.window = ReadWindowAttributes(node, spatial_rank);
  attrs.groups = node.GetInt("group", 1);
  if (attrs.groups < 1) {
    throw InvalidArgumentError("group " + std::to_string(attrs.groups) +
                               " is not positive");
  }
  attrs.kernel_shape = OptionalInts(node, "kernel_shape");
  return attrs;
}

ops::ref::ConvParams ResolveConvParams(const ConvAttributes& attrs,
                                       const std::vector<int64_t>& x_shape,
                                       const std::vector<int64_t>& w_shape) {
  CheckKernelShape(attrs.kernel_shape, w_shape);
  ops::ref::ConvParams params;
  params.strides = attrs.window.strides;
  params.dilations = attrs.window.dilations;
  params.pads_begin = attrs.window.pads_begin;
  params.pads_end = attrs.window.pads_end;
  params.groups = attrs.groups;
  if (w_shape.size() == x_shape.size() && x_shape.size() > 2 &&
      params.strides.size() == x_shape.size() - 2) {
    ops::ref::ResolveAutoPad(
        attrs.window.auto_pad,
        std::vector<int64_t>(x_shape.begin() + 2, x_shape.end()),
        std::vector<int64_t>(w_shape.begin() + 2, w_shape.end()),
        params.strides, params.dilations, &params.pads_begin, &params.pads_end);
  }
  // Validates ranks, channels and window fit with the op's own messages.
  ops::ref::ConvOutputShape(x_shape, w_shape, params);
  return params;
}

ConvTransposeAttributes ReadConvTransposeAttributes(const Node& node,
                                                    size_t spatial_rank) {
  ConvTransposeAttributes attrs;
  attrs.window = ReadWindowAttributes(node, spatial_rank);
  if (attrs.window.auto_pad == ops::ref::AutoPad::kSameUpper ||
      attrs.window.auto_pad == ops::ref::AutoPad::kSameLower) {
    throw UnsupportedError("auto_pad " + node.GetString("auto_pad", "") +
                           " is ambiguous for ConvTranspose; use explicit "
                           "pads");
  }
  attrs.groups = node.GetInt("group", 1);
  if (attrs.groups < 1) {
    throw InvalidArgumentError("group " + std::to_string(attrs.groups) +
                               " is not positive");
  }
  attrs.output_padding =
      node.GetInts("output_padding", std::vector<int64_t>(spatial_rank, 0));
  attrs.kernel_shape = OptionalInts(node, "kernel_shape");
  attrs.output_shape = OptionalInts(node, "output_shape");
  // Some exporters write the whole (N, C, spatial...) shape; the spatial
  // tail is what the attribute means.
  if (attrs.output_shape && attrs.output_shape->size() == spatial_rank + 2) {
    attrs.output_shape->erase(attrs.output_shape->begin(),
                              attrs.output_shape->begin() + 2);
  }
  return attrs;
}

ops::ref::ConvTransposeParams ResolveConvTransposeParams(
    const ConvTransposeAttributes& attrs, const std::vector<int64_t>& x_shape,
    const std::vector<int64_t>& w_shape) {
  CheckKernelShape(attrs.kernel_shape, w_shape);
  ops::ref::ConvTransposeParams params;
  params.conv.strides = attrs.window.strides;
  params.conv.dilations = attrs.window.dilations;
  params.conv.pads_begin = attrs.window.pads_begin;
  params.conv.pads_end = attrs.window.pads_end;
  params.conv.groups = attrs.groups;
  params.output_padding = attrs.output_padding;
  if (attrs.output_shape) {
    ops::ref::SetConvTransposeOutputSize(x_shape, w_shape, *attrs.output_shape,
                                         &params);
  }
  ops::ref::ConvTransposeOutputShape(x_shape, w_shape, params);
  return params;
}

PoolAttributes ReadPoolAttributes(const Node& node) {
  if (!node.HasAttribute("kernel_shape")) {
    throw InvalidArgumentError("the kernel_shape attribute is required");
  }
  PoolAttributes attrs;
  attrs.kernel = node.GetInts("kernel_shape");
  if (attrs.kernel.empty() || attrs.kernel.size() > 3) {
    throw UnsupportedError("kernel_shape " + ShapeToString(attrs.kernel) +
                           " has " + std::to_string(attrs.kernel.size()) +
                           " axes; 1 to 3 are supported");
  }
  ops::ref::CheckWindowParam("window", "kernel_shape", attrs.kernel,
                             attrs.kernel.size(), 1);
  attrs.window = ReadWindowAttributes(node, attrs.kernel.size());
  attrs.ceil_mode = node.GetInt("ceil_mode", 0) != 0;
  attrs.count_include_pad = node.GetInt("count_include_pad", 0) != 0;
  if (node.op_type() == "MaxPool" && node.GetInt("storage_order", 0) != 0) {
    throw UnsupportedError(
        "storage_order=1 (column-major Indices) is not supported");
  }
  return attrs;
}

ops::ref::PoolParams ResolvePoolParams(const PoolAttributes& attrs,
                                       const std::vector<int64_t>& x_shape) {
  if (x_shape.size() != attrs.kernel.size() + 2) {
    throw InvalidArgumentError("kernel_shape " + ShapeToString(attrs.kernel) +
                               " does not fit input " + ShapeToString(x_shape) +
                               " (N, C, spatial...)");
  }
  ops::ref::PoolParams params = ops::ref::DefaultPoolParams(attrs.kernel);
  params.strides = attrs.window.strides;
  params.dilations = attrs.window.dilations;
  params.pads_begin = attrs.window.pads_begin;
  params.pads_end = attrs.window.pads_end;
  params.ceil_mode = attrs.ceil_mode;
  params.count_include_pad = attrs.count_include_pad;
  ops::ref::ResolveAutoPad(
      attrs.window.auto_pad,
      std::vector<int64_t>(x_shape.begin() + 2, x_shape.end()), params.kernel,
      params.strides, params.dilations, &params.pads_begin, &params.pads_end);
  ops::ref::PoolOutputShape(x_shape, params);
  return params;
}

ops::ref::GemmParams ReadGemmParams(const Node& node) {
  ops::ref::GemmParams params;
  params.trans_a = node.GetInt("transA", 0) != 0;
  params.trans_b = node.GetInt("transB", 0) != 0;
  params.alpha = node.GetFloat("alpha", 1.0f);
  params.beta = node.GetFloat("beta", 1.0f);
  return params;
}

// --------------------------------------------------- shape ops

std::vector<int64_t> ReshapeOutputShape(const std::vector<int64_t>& x_shape,
                                        const std::vector<int64_t>& target,
                                        bool allow_zero) {
  std::vector<int64_t> shape(target.size());
  int64_t inferred_axis = -1;
  int64_t known = 1;
  for (size_t i = 0; i < target.size(); ++i) {
    int64_t d = target[i];
    if (d == 0 && !allow_zero) {
      if (i >= x_shape.size()) {
        throw InvalidArgumentError(
            "shape " + ShapeToString(target) + " copies axis " +
            std::to_string(i) + ", which " + ShapeToString(x_shape) + " lacks");
      }
      d = x_shape[i];
    }
    if (d == -1) {
      if (inferred_axis >= 0) {
        throw InvalidArgumentError("shape " + ShapeToString(target) +
                                   " has two -1 entries");
      }
      inferred_axis = static_cast<int64_t>(i);
      continue;
    }
    if (d < 0) {
      throw InvalidArgumentError("shape " + ShapeToString(target) +
                                 " is invalid");
    }
    shape[i] = d;
    known *= d;
  }
  const int64_t count = ShapeNumElements(x_shape);
  if (inferred_axis >= 0) {
    if (known == 0 || count % known != 0) {
      throw InvalidArgumentError("cannot reshape " + ShapeToString(x_shape) +
                                 " to " + ShapeToString(target));
    }
    shape[inferred_axis] = count / known;
  }
  if (ShapeNumElements(shape) != count) {
    throw InvalidArgumentError("cannot reshape " + ShapeToString(x_shape) +
                               " to " + ShapeToString(target));
  }
  return shape;
}

std::vector<int64_t> FlattenOutputShape(const std::vector<int64_t>& x_shape,
                                        int64_t axis) {
  const size_t split =
      static_cast<size_t>(CheckedAxis(axis, x_shape, /*inclusive=*/true));
  return {ShapeProduct(x_shape, 0, split),
          ShapeProduct(x_shape, split, x_shape.size())};
}

std::vector<int64_t> UnsqueezeOutputShape(const std::vector<int64_t>& x_shape,
                                          const std::vector<int64_t>& axes) {
  if (axes.empty()) throw InvalidArgumentError("axes are required");
  const int64_t out_rank = static_cast<int64_t>(x_shape.size() + axes.size());
  std::vector<bool> inserted(out_rank, false);
  for (int64_t attr_axis : axes) {
    const int64_t axis = NormalizeAxis(attr_axis, out_rank);
    if (axis < 0 || inserted[axis]) {
      throw InvalidArgumentError("axes " + ShapeToString(axes) +
                                 " are out of range or repeated for input " +
                                 ShapeToString(x_shape));
    }
    inserted[axis] = true;
  }
  std::vector<int64_t> shape;
  size_t next = 0;
  for (int64_t i = 0; i < out_rank; ++i) {
    shape.push_back(inserted[i] ? 1 : x_shape[next++]);
  }
  return shape;
}

std::vector<int64_t> SqueezeOutputShape(const std::vector<int64_t>& x_shape,
                                        const std::vector<int64_t>& axes) {
  const int64_t rank = static_cast<int64_t>(x_shape.size());
  std::vector<bool> removed(rank, false);
  for (int64_t attr_axis : axes) {
    const int64_t axis = NormalizeAxis(attr_axis, rank);
    if (axis < 0 || x_shape[axis] != 1) {
      throw InvalidArgumentError("cannot squeeze axes " + ShapeToString(axes) +
                                 " of " + ShapeToString(x_shape));
    }
    removed[axis] = true;
  }
  std::vector<int64_t> shape;
  for (int64_t i = 0; i < rank; ++i) {
    const bool drop = axes.empty() ? x_shape[i] == 1 : removed[i];
    if (!drop) shape.push_back(x_shape[i]);
  }
  return shape;
}

bool AxesAreAnInput(const Node& node, int64_t opset) {
  if (node.op_type() == "ReduceMean") return opset >= 18;
  return opset >= 13;
}

std::vector<int64_t> TransposePerm(
    const std::optional<std::vector<int64_t>>& perm_attribute, size_t rank) {
  std::vector<int64_t> perm(rank);
  for (size_t i = 0; i < rank; ++i) {
    perm[i] = static_cast<int64_t>(rank - 1 - i);
  }
  if (perm_attribute) perm = *perm_attribute;
  std::vector<int64_t> sorted = perm;
  std::sort(sorted.begin(), sorted.end());
  bool is_permutation = sorted.size() == rank;
  for (size_t i = 0; is_permutation && i < rank; ++i) {
    is_permutation = sorted[i] == static_cast<int64_t>(i);
  }
  if (!is_permutation) {
    throw InvalidArgumentError("perm " + ShapeToString(perm) +
                               " is not a permutation of " +
                               std::to_string(rank) + " axes");
  }
  return perm;
}

std::pair<int64_t, int64_t> ShapeOpRange(const Node& node, int64_t rank) {
  const auto clamp = [&](int64_t v) {
    if (v < 0) v += rank;
    return std::min(std::max<int64_t>(v, 0), rank);
  };
  return {clamp(node.GetInt("start", 0)), clamp(node.GetInt("end", rank))};
}

int64_t SoftmaxAxis(const Node& node, int64_t opset) {
  return node.GetInt("axis", opset < 13 ? 1 : -1);
}

SoftmaxGeometry SoftmaxGeometryFor(int64_t attr_axis, int64_t opset,
                                   const std::vector<int64_t>& x_shape) {
  const bool flattening = opset < 13;
  const int64_t axis = CheckedAxis(attr_axis, x_shape);
  const size_t rank = x_shape.size();
  SoftmaxGeometry g;
  g.outer = ShapeProduct(x_shape, 0, axis);
  g.length = flattening ? ShapeProduct(x_shape, axis, rank) : x_shape[axis];
  g.inner = flattening ? 1 : ShapeProduct(x_shape, axis + 1, rank);
  return g;
}

// --------------------------------------------------- data movement ops

SliceGeometry ResolveSlice(const std::vector<int64_t>& x_shape,
                           const std::vector<int64_t>& starts,
                           const std::vector<int64_t>& ends,
                           const std::optional<std::vector<int64_t>>& axes,
                           const std::optional<std::vector<int64_t>>& steps) {
  if (ends.size() != starts.size() || (axes && axes->size() != starts.size()) ||
      (steps && steps->size() != starts.size())) {
    throw InvalidArgumentError(
        "starts, ends, axes and steps must have the same length");
  }
  const size_t rank = x_shape.size();
  SliceGeometry g{std::vector<int64_t>(rank, 0), std::vector<int64_t>(rank, 1),
                  x_shape};
  std::vector<bool> seen(rank, false);
  for (size_t i = 0; i < starts.size(); ++i) {
    const int64_t axis =
        CheckedAxis(axes ? (*axes)[i] : static_cast<int64_t>(i), x_shape);
    if (seen[axis]) {
      throw InvalidArgumentError("axis " + std::to_string(axis) +
                                 " is sliced twice");
    }
    seen[axis] = true;
    const int64_t st = steps ? (*steps)[i] : 1;
    if (st == 0) throw InvalidArgumentError("a slice step is 0");
    const int64_t dim = x_shape[axis];
    int64_t s = starts[i];
    int64_t e = ends[i];
    if (s < 0) s += dim;
    if (e < 0) e += dim;
    if (st > 0) {
      s = std::clamp<int64_t>(s, 0, dim);
      e = std::clamp<int64_t>(e, 0, dim);
      g.shape[axis] = e > s ? (e - s + st - 1) / st : 0;
    } else {
      s = std::clamp<int64_t>(s, 0, dim - 1);
      e = std::clamp<int64_t>(e, -1, dim - 1);
      g.shape[axis] = s > e ? (s - e + (-st) - 1) / (-st) : 0;
    }
    g.begin[axis] = s;
    g.step[axis] = st;
  }
  return g;
}

std::vector<int64_t> ResolveSplitSizes(
    const std::vector<int64_t>& x_shape, size_t axis,
    const std::optional<std::vector<int64_t>>& sizes, size_t num_outputs,
    const std::string& what) {
  const int64_t dim = x_shape[axis];
  const int64_t parts = static_cast<int64_t>(num_outputs);
  if (!sizes) {
    if (dim % parts != 0) {
      throw InvalidArgumentError("axis " + std::to_string(axis) + " of " +
                                 what + " does not split evenly into " +
                                 std::to_string(parts) + " parts");
    }
    return std::vector<int64_t>(num_outputs, dim / parts);
  }
  int64_t total = 0;
  for (int64_t size : *sizes) {
    if (size < 0) throw InvalidArgumentError("a split size is negative");
    total += size;
  }
  if (sizes->size() != num_outputs || total != dim) {
    throw InvalidArgumentError("split " + ShapeToString(*sizes) +
                               " does not divide axis " + std::to_string(axis) +
                               " of " + what + " into " +
                               std::to_string(num_outputs) + " outputs");
  }
  return *sizes;
}

std::vector<bool> ReducedAxes(const std::vector<int64_t>& x_shape,
                              const std::vector<int64_t>& axes,
                              bool noop_with_empty_axes) {
  std::vector<bool> reduce(x_shape.size(),
                           axes.empty() && !noop_with_empty_axes);
  for (int64_t axis : axes) {
    const int64_t a = CheckedAxis(axis, x_shape);
    if (reduce[a]) {
      throw InvalidArgumentError("axis " + std::to_string(axis) +
                                 " is repeated");
    }
    reduce[a] = true;
  }
  return reduce;
}

std::vector<int64_t> ReduceOutputShape(const std::vector<int64_t>& x_shape,
                                       const std::vector<bool>& reduced,
                                       bool keep_dims) {
  std::vector<int64_t> shape;
  for (size_t i = 0; i < x_shape.size(); ++i) {
    if (!reduced[i]) {
      shape.push_back(x_shape[i]);
    } else if (keep_dims) {
      shape.push_back(1);
    }
  }
  return shape;
}

PadMode ReadPadMode(const graph::Node& node) {
  const std::string mode = node.GetString("mode", "constant");
  if (mode == "constant") return PadMode::kConstant;
  if (mode == "reflect") return PadMode::kReflect;
  if (mode == "edge") return PadMode::kEdge;
  throw UnsupportedError("mode '" + mode +
                         "' is not supported (constant, reflect, edge are)");
}

std::vector<std::vector<int64_t>> PadSourceIndices(
    const std::vector<int64_t>& x_shape, const std::vector<int64_t>& pads,
    PadMode mode, const std::string& what) {
  const size_t rank = x_shape.size();
  if (pads.size() != 2 * rank) {
    throw InvalidArgumentError("pads has " + std::to_string(pads.size()) +
                               " values, expected " + std::to_string(2 * rank) +
                               " for " + what);
  }
  std::vector<std::vector<int64_t>> source;
  for (size_t axis = 0; axis < rank; ++axis) {
    const int64_t dim = x_shape[axis];
    const int64_t before = pads[axis];
    const int64_t out = dim + before + pads[axis + rank];
    if (out < 0) {
      throw InvalidArgumentError("pads " + ShapeToString(pads) +
                                 " crop more than " + what + " has");
    }
    if (mode != PadMode::kConstant && dim == 0 && out > 0) {
      throw InvalidArgumentError("cannot pad an empty axis in this mode");
    }
    std::vector<int64_t>& map = source.emplace_back(out);
    for (int64_t o = 0; o < out; ++o) {
      int64_t i = o - before;
      if (i < 0 || i >= dim) {
        switch (mode) {
          case PadMode::kConstant:
            i = -1;
            break;
          case PadMode::kEdge:
            i = std::clamp<int64_t>(i, 0, dim - 1);
            break;
          case PadMode::kReflect: {
            // Mirror without repeating the edge, as numpy's "reflect".
            const int64_t period = 2 * (dim - 1);
            if (period == 0) {
              i = 0;
            } else {
              i = ((i % period) + period) % period;
              if (i >= dim) i = period - i;
            }
            break;
          }
        }
      }
      map[o] = i;
    }
  }
  return source;
}

graph::DataType ReadCastTarget(const graph::Node& node) {
  if (!node.HasAttribute("to")) {
    throw InvalidArgumentError("the to attribute is required");
  }
  const auto to = static_cast<graph::DataType>(node.GetInt("to", 0));
  if (to != graph::DataType::kFloat && to != graph::DataType::kInt64) {
    throw UnsupportedError(
        "Cast to " + graph::DataTypeName(to) +
        " is not supported; foldrt computes in float32 and int64");
  }
  return to;
}

}  // namespace foldrt::runtime
