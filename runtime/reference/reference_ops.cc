#include "runtime/reference/reference_ops.h"

#include <string>
#include <utility>
#include <vector>

#include "core/tensor.h"

namespace foldrt::runtime::reference {

// "float (3, 4)": a tensor as messages show it.
std::string Describe(const RefTensor& t) {
  return (t.dtype == DataType::kFloat ? "float " : "int64 ") +
         ShapeToString(t.shape);
}

// For each element of `out_shape` in C order, sum over axes of index *
// strides[axis]: the offset into a tensor read through `strides` (0 for a
// broadcast axis, permuted strides for a transpose).
std::vector<int64_t> StridedOffsets(const std::vector<int64_t>& out_shape,
                                    const std::vector<int64_t>& strides) {
  const int64_t count = ShapeNumElements(out_shape);
  const size_t rank = out_shape.size();
  std::vector<int64_t> offsets(static_cast<size_t>(count));
  std::vector<int64_t> index(rank, 0);
  int64_t offset = 0;
  for (int64_t e = 0; e < count; ++e) {
    offsets[e] = offset;
    for (size_t axis = rank; axis-- > 0;) {
      ++index[axis];
      offset += strides[axis];
      if (index[axis] < out_shape[axis]) break;
      offset -= strides[axis] * index[axis];
      index[axis] = 0;
    }
  }
  return offsets;
}

RefTensor ZeroFloats(const std::vector<int64_t>& shape) {
  return RefTensor::Float(
      shape, std::vector<float>(static_cast<size_t>(ShapeNumElements(shape))));
}

RefTensor Gathered(const RefTensor& x, std::vector<int64_t> shape,
                   const std::vector<int64_t>& offsets) {
  return MakeTensor(x.dtype, std::move(shape), [&](auto tag, auto& out) {
    const std::vector<decltype(tag)>& in = Elements<decltype(tag)>(x);
    out.reserve(offsets.size());
    for (int64_t offset : offsets) out.push_back(in[offset]);
  });
}

// Converts an initializer or Constant value. Float stays float; integer and
// bool types widen to int64 (exact); anything else would need a conversion
// that hides precision changes, so it is unsupported.
RefTensor FromGraphTensor(const graph::Tensor& tensor,
                          const std::string& value_name) {
  if (tensor.dtype() == DataType::kFloat) {
    return RefTensor::Float(tensor.dims(), tensor.ToFloats());
  }
  switch (tensor.dtype()) {
    case DataType::kInt64:
    case DataType::kInt32:
    case DataType::kInt16:
    case DataType::kInt8:
    case DataType::kUint32:
    case DataType::kUint16:
    case DataType::kUint8:
    case DataType::kBool:
      return RefTensor::Int64(tensor.dims(), tensor.ToInt64s());
    default:
      throw UnsupportedError("constant '" + value_name + "' has element type " +
                             graph::DataTypeName(tensor.dtype()) +
                             "; the reference evaluator handles float32 and "
                             "integer tensors only");
  }
}

}  // namespace foldrt::runtime::reference

namespace foldrt::runtime {

void RegisterReferences(OpRegistry* registry) {
  reference::RegisterElementwiseReferences(registry);
  reference::RegisterLayerReferences(registry);
  reference::RegisterShapeReferences(registry);
  reference::RegisterTensorOpReferences(registry);
}

}  // namespace foldrt::runtime
