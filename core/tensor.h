// foldrt::Tensor: the tensors Session::Run takes and returns. A dtype, a
// shape (int64 dims, C order) and the elements, either held in storage the
// tensor owns (shared between copies, like a shared_ptr) or a view of memory
// somebody else owns and keeps alive.
#ifndef FOLDRT_CORE_TENSOR_H_
#define FOLDRT_CORE_TENSOR_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <type_traits>
#include <vector>

#include "core/error.h"

namespace foldrt {

// Element types the runtime computes with: float32 activations and int64
// for the shape arithmetic exporters emit (Shape, Gather, Concat, Reshape
// targets).
enum class DataType { kFloat32, kInt64 };

// "float32", "int64".
const char* DataTypeName(DataType dtype);
size_t DataTypeSize(DataType dtype);

// The DataType of a C++ element type: float -> kFloat32, int64_t -> kInt64.
template <typename T>
constexpr DataType DataTypeOf() {
  static_assert(std::is_same_v<T, float> || std::is_same_v<T, int64_t>,
                "foldrt tensors hold float or int64_t");
  return std::is_same_v<T, float> ? DataType::kFloat32 : DataType::kInt64;
}

// "(3, 4, 10, 10)"; "()" for a scalar.
std::string ShapeToString(const std::vector<int64_t>& shape);

// Product of the dims (1 for a scalar). Throws InvalidArgumentError for a
// negative dim or a count that overflows int64.
int64_t ShapeNumElements(const std::vector<int64_t>& shape);

class Tensor {
 public:
  // An empty float32 tensor of shape (0).
  Tensor();

  // Owned storage, zero-filled, 64-byte aligned.
  static Tensor Zeros(DataType dtype, std::vector<int64_t> shape);
  // Owned copies of `values`; the count must match the shape.
  static Tensor FromFloats(std::vector<int64_t> shape,
                           const std::vector<float>& values);
  static Tensor FromInt64s(std::vector<int64_t> shape,
                           const std::vector<int64_t>& values);
  // Non-owning views of `data`, which must hold the shape's elements and
  // outlive the tensor and its copies. A const view refuses mutable access.
  static Tensor View(DataType dtype, std::vector<int64_t> shape, void* data);
  static Tensor ConstView(DataType dtype, std::vector<int64_t> shape,
                          const void* data);

  DataType dtype() const { return dtype_; }
  const std::vector<int64_t>& shape() const { return shape_; }
  size_t rank() const { return shape_.size(); }
  int64_t NumElements() const { return num_elements_; }
  size_t ByteSize() const {
    return static_cast<size_t>(num_elements_) * DataTypeSize(dtype_);
  }
  // True when the tensor shares ownership of its storage; false for views.
  bool owns_data() const { return storage_ != nullptr; }
  bool is_read_only() const { return read_only_; }

  // Typed element access. Throws InvalidArgumentError when T does not match
  // dtype(), and (mutable_data) for a const view.
  template <typename T>
  const T* data() const {
    CheckType(DataTypeOf<T>());
    return static_cast<const T*>(data_);
  }
  template <typename T>
  T* mutable_data() {
    CheckType(DataTypeOf<T>());
    CheckWritable();
    return static_cast<T*>(data_);
  }
  const void* raw_data() const { return data_; }
  void* mutable_raw_data() {
    CheckWritable();
    return data_;
  }

  // The elements copied out.
  template <typename T>
  std::vector<T> ToVector() const {
    const T* begin = data<T>();
    return std::vector<T>(begin, begin + num_elements_);
  }

  // An owned deep copy (of a view too).
  Tensor Clone() const;

 private:
  Tensor(DataType dtype, std::vector<int64_t> shape);
  void CheckType(DataType requested) const;
  void CheckWritable() const;

  DataType dtype_ = DataType::kFloat32;
  std::vector<int64_t> shape_;
  int64_t num_elements_ = 0;
  std::shared_ptr<void> storage_;  // null for views
  void* data_ = nullptr;
  bool read_only_ = false;
};

}  // namespace foldrt

#endif  // FOLDRT_CORE_TENSOR_H_
