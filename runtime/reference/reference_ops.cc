#include "runtime/reference/reference_ops.h"

#include <string>
#include <utility>
#include <vector>

#include "core/tensor.h"

namespace foldrt::runtime::reference {

std::string Describe(const Tensor& t) {
  return std::string(DataTypeName(t.dtype())) + " " + ShapeToString(t.shape());
}

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

Tensor Gathered(const Tensor& x, std::vector<int64_t> shape,
                const std::vector<int64_t>& offsets) {
  return MakeTensor(x.dtype(), std::move(shape), [&](auto tag, auto& out) {
    const decltype(tag)* in = x.data<decltype(tag)>();
    out.reserve(offsets.size());
    for (int64_t offset : offsets) out.push_back(in[offset]);
  });
}

Tensor FromGraphConstant(const graph::Tensor& tensor,
                         const std::string& value_name) {
  return ToRuntimeTensor(tensor, "the constant '" + value_name + "'");
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
