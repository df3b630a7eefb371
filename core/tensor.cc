#include "core/tensor.h"

#include <cstring>
#include <limits>
#include <new>
#include <utility>

namespace foldrt {
namespace {

// Cache-line alignment: what vectorized kernels and oneDNN like best.
constexpr std::align_val_t kAlignment{64};

std::shared_ptr<void> AllocateZeroed(size_t bytes) {
  if (bytes == 0) return std::shared_ptr<void>();
  void* memory = ::operator new(bytes, kAlignment);
  std::memset(memory, 0, bytes);
  return std::shared_ptr<void>(
      memory, [](void* p) { ::operator delete(p, kAlignment); });
}

}  // namespace

const char* DataTypeName(DataType dtype) {
  switch (dtype) {
    case DataType::kFloat32:
      return "float32";
    case DataType::kInt64:
      return "int64";
  }
  return "unknown";
}

size_t DataTypeSize(DataType dtype) {
  switch (dtype) {
    case DataType::kFloat32:
      return sizeof(float);
    case DataType::kInt64:
      return sizeof(int64_t);
  }
  return 0;
}

std::string ShapeToString(const std::vector<int64_t>& shape) {
  std::string s = "(";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i > 0) s += ", ";
    s += std::to_string(shape[i]);
  }
  return s + ")";
}

int64_t ShapeNumElements(const std::vector<int64_t>& shape) {
  int64_t count = 1;
  for (int64_t d : shape) {
    if (d < 0) {
      throw InvalidArgumentError("shape " + ShapeToString(shape) +
                                 " has a negative dimension");
    }
    if (d != 0 && count > std::numeric_limits<int64_t>::max() / d) {
      throw InvalidArgumentError("shape " + ShapeToString(shape) +
                                 " has too many elements");
    }
    count *= d;
  }
  return count;
}

Tensor::Tensor() : Tensor(DataType::kFloat32, {0}) {}

Tensor::Tensor(DataType dtype, std::vector<int64_t> shape)
    : dtype_(dtype),
      shape_(std::move(shape)),
      num_elements_(ShapeNumElements(shape_)) {
  // Byte counts must fit size_t too (they always do on 64-bit hosts, where
  // the element count check above is the binding one).
  if (static_cast<uint64_t>(num_elements_) >
      std::numeric_limits<size_t>::max() / DataTypeSize(dtype_)) {
    throw InvalidArgumentError("shape " + ShapeToString(shape_) +
                               " is too large");
  }
}

Tensor Tensor::Zeros(DataType dtype, std::vector<int64_t> shape) {
  Tensor t(dtype, std::move(shape));
  t.storage_ = AllocateZeroed(t.ByteSize());
  t.data_ = t.storage_.get();
  return t;
}

namespace {

// FromFloats and FromInt64s: a zeroed tensor of `shape` holding `values`.
template <typename T>
Tensor TensorFromValues(std::vector<int64_t> shape,
                        const std::vector<T>& values) {
  Tensor t = Tensor::Zeros(DataTypeOf<T>(), std::move(shape));
  if (values.size() != static_cast<size_t>(t.NumElements())) {
    throw InvalidArgumentError(std::to_string(values.size()) +
                               " values for a tensor of shape " +
                               ShapeToString(t.shape()) + " (" +
                               std::to_string(t.NumElements()) + " elements)");
  }
  if (!values.empty()) {
    std::memcpy(t.mutable_data<T>(), values.data(), t.ByteSize());
  }
  return t;
}

}  // namespace

Tensor Tensor::FromFloats(std::vector<int64_t> shape,
                          const std::vector<float>& values) {
  return TensorFromValues(std::move(shape), values);
}

Tensor Tensor::FromInt64s(std::vector<int64_t> shape,
                          const std::vector<int64_t>& values) {
  return TensorFromValues(std::move(shape), values);
}

Tensor Tensor::View(DataType dtype, std::vector<int64_t> shape, void* data) {
  Tensor t(dtype, std::move(shape));
  if (data == nullptr && t.NumElements() > 0) {
    throw InvalidArgumentError("a view of shape " + ShapeToString(t.shape_) +
                               " needs data");
  }
  t.data_ = data;
  return t;
}

Tensor Tensor::ConstView(DataType dtype, std::vector<int64_t> shape,
                         const void* data) {
  // The pointer is only handed out as const: CheckWritable guards the rest.
  Tensor t = View(dtype, std::move(shape), const_cast<void*>(data));
  t.read_only_ = true;
  return t;
}

Tensor Tensor::Clone() const {
  Tensor copy = Zeros(dtype_, shape_);
  if (ByteSize() > 0) std::memcpy(copy.data_, data_, ByteSize());
  return copy;
}

void Tensor::CheckType(DataType requested) const {
  if (requested != dtype_) {
    throw InvalidArgumentError(std::string("a ") + DataTypeName(dtype_) +
                               " tensor accessed as " +
                               DataTypeName(requested));
  }
}

void Tensor::CheckWritable() const {
  if (read_only_) {
    throw InvalidArgumentError("the tensor is a read-only view");
  }
}

}  // namespace foldrt
