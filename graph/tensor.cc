#include "graph/tensor.h"

#include <cstring>
#include <iterator>
#include <limits>

#include "core/error.h"

namespace foldrt::graph {

// raw_data is little-endian by definition; the byte copies below rely on the
// host agreeing.
static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
              "foldrt's tensor bytes assume a little-endian host");

std::string DataTypeName(DataType dtype) {
  // Indexed by the ONNX code; one name per enumerator, in order.
  static constexpr const char* kNames[] = {
      "UNDEFINED",      "FLOAT",        "UINT8",          "INT8",
      "UINT16",         "INT16",        "INT32",          "INT64",
      "STRING",         "BOOL",         "FLOAT16",        "DOUBLE",
      "UINT32",         "UINT64",       "COMPLEX64",      "COMPLEX128",
      "BFLOAT16",       "FLOAT8E4M3FN", "FLOAT8E4M3FNUZ", "FLOAT8E5M2",
      "FLOAT8E5M2FNUZ", "UINT4",        "INT4",           "FLOAT4E2M1"};
  static_assert(
      std::size(kNames) == static_cast<size_t>(DataType::kFloat4E2M1) + 1,
      "one name per DataType");
  const auto code = static_cast<int32_t>(dtype);
  if (code >= 0 && static_cast<size_t>(code) < std::size(kNames)) {
    return kNames[code];
  }
  return "DataType(" + std::to_string(code) + ")";
}

int DataTypeBitWidth(DataType dtype) {
  switch (dtype) {
    case DataType::kUint4:
    case DataType::kInt4:
    case DataType::kFloat4E2M1:
      return 4;
    case DataType::kUint8:
    case DataType::kInt8:
    case DataType::kBool:
    case DataType::kFloat8E4M3Fn:
    case DataType::kFloat8E4M3Fnuz:
    case DataType::kFloat8E5M2:
    case DataType::kFloat8E5M2Fnuz:
      return 8;
    case DataType::kUint16:
    case DataType::kInt16:
    case DataType::kFloat16:
    case DataType::kBfloat16:
      return 16;
    case DataType::kFloat:
    case DataType::kInt32:
    case DataType::kUint32:
      return 32;
    case DataType::kInt64:
    case DataType::kDouble:
    case DataType::kUint64:
    case DataType::kComplex64:
      return 64;
    case DataType::kComplex128:
      return 128;
    case DataType::kUndefined:
    case DataType::kString:
      return 0;
  }
  return 0;
}

int64_t ElementCount(const std::vector<int64_t>& dims) {
  int64_t count = 1;
  for (int64_t dim : dims) {
    if (dim < 0) {
      throw InvalidArgumentError("negative tensor dimension " +
                                 std::to_string(dim));
    }
    if (dim != 0 && count > std::numeric_limits<int64_t>::max() / dim) {
      throw InvalidArgumentError("tensor element count overflows int64");
    }
    count *= dim;
  }
  return count;
}

int64_t ByteSize(DataType dtype, int64_t count) {
  const int bits = DataTypeBitWidth(dtype);
  if (bits == 0) return -1;
  if (count > std::numeric_limits<int64_t>::max() / bits) {
    throw InvalidArgumentError("tensor byte size overflows int64");
  }
  return (count * bits + 7) / 8;
}

namespace {

std::string TensorLabel(const std::string& name) {
  return name.empty() ? "tensor" : "tensor '" + name + "'";
}

void CheckByteCount(const std::string& name, DataType dtype,
                    const std::vector<int64_t>& dims, size_t byte_count) {
  if (dtype == DataType::kString) {
    throw InvalidArgumentError(TensorLabel(name) +
                               ": STRING elements are not raw bytes");
  }
  const int64_t expected = ByteSize(dtype, ElementCount(dims));
  if (expected >= 0 && static_cast<uint64_t>(expected) != byte_count) {
    throw InvalidArgumentError(
        TensorLabel(name) + ": " + std::to_string(byte_count) +
        " data bytes, but " + std::to_string(ElementCount(dims)) +
        " elements of " + DataTypeName(dtype) + " need " +
        std::to_string(expected));
  }
}

template <typename T>
std::vector<int64_t> WidenFromBytes(const std::string& bytes) {
  std::vector<int64_t> out(bytes.size() / sizeof(T));
  for (size_t i = 0; i < out.size(); ++i) {
    T element;
    std::memcpy(&element, bytes.data() + i * sizeof(T), sizeof(T));
    out[i] = static_cast<int64_t>(element);
  }
  return out;
}

}  // namespace

Tensor::Tensor(std::string name, DataType dtype, std::vector<int64_t> dims,
               std::string bytes)
    : name_(std::move(name)) {
  SetBytes(dtype, std::move(dims), std::move(bytes));
}

Tensor Tensor::FromFloats(std::string name, std::vector<int64_t> dims,
                          const std::vector<float>& values) {
  Tensor tensor;
  tensor.name_ = std::move(name);
  tensor.SetFloats(std::move(dims), values);
  return tensor;
}

Tensor Tensor::FromInt64s(std::string name, std::vector<int64_t> dims,
                          const std::vector<int64_t>& values) {
  std::string bytes(reinterpret_cast<const char*>(values.data()),
                    values.size() * sizeof(int64_t));
  return Tensor(std::move(name), DataType::kInt64, std::move(dims),
                std::move(bytes));
}

Tensor Tensor::FromStrings(std::string name, std::vector<int64_t> dims,
                           std::vector<std::string> values) {
  if (ElementCount(dims) != static_cast<int64_t>(values.size())) {
    throw InvalidArgumentError(
        TensorLabel(name) + ": " + std::to_string(values.size()) +
        " strings for " + std::to_string(ElementCount(dims)) + " elements");
  }
  Tensor tensor;
  tensor.name_ = std::move(name);
  tensor.dtype_ = DataType::kString;
  tensor.dims_ = std::move(dims);
  tensor.strings_ = std::move(values);
  return tensor;
}

int64_t Tensor::NumElements() const { return ElementCount(dims_); }

void Tensor::SetBytes(DataType dtype, std::vector<int64_t> dims,
                      std::string bytes) {
  CheckByteCount(name_, dtype, dims, bytes.size());
  dtype_ = dtype;
  dims_ = std::move(dims);
  bytes_ = std::move(bytes);
  strings_.clear();
}

std::vector<float> Tensor::ToFloats() const {
  if (dtype_ != DataType::kFloat) {
    throw UnsupportedError(TensorLabel(name_) + " is " + DataTypeName(dtype_) +
                           ", only FLOAT can be read as float32");
  }
  std::vector<float> values(bytes_.size() / sizeof(float));
  if (!values.empty()) std::memcpy(values.data(), bytes_.data(), bytes_.size());
  return values;
}

void Tensor::SetFloats(const std::vector<float>& values) {
  if (dtype_ != DataType::kFloat) {
    throw InvalidArgumentError(TensorLabel(name_) + " is " +
                               DataTypeName(dtype_) + ", not FLOAT");
  }
  SetFloats(dims_, values);
}

void Tensor::SetFloats(std::vector<int64_t> dims,
                       const std::vector<float>& values) {
  // Built from the object bytes directly: no zero fill first.
  std::string bytes(reinterpret_cast<const char*>(values.data()),
                    values.size() * sizeof(float));
  SetBytes(DataType::kFloat, std::move(dims), std::move(bytes));
}

std::vector<int64_t> Tensor::ToInt64s() const {
  switch (dtype_) {
    case DataType::kInt64:
      return WidenFromBytes<int64_t>(bytes_);
    case DataType::kInt32:
      return WidenFromBytes<int32_t>(bytes_);
    case DataType::kInt16:
      return WidenFromBytes<int16_t>(bytes_);
    case DataType::kInt8:
      return WidenFromBytes<int8_t>(bytes_);
    case DataType::kUint32:
      return WidenFromBytes<uint32_t>(bytes_);
    case DataType::kUint16:
      return WidenFromBytes<uint16_t>(bytes_);
    case DataType::kUint8:
    case DataType::kBool:
      return WidenFromBytes<uint8_t>(bytes_);
    default:
      throw UnsupportedError(TensorLabel(name_) + " is " +
                             DataTypeName(dtype_) +
                             ", which cannot be read as int64");
  }
}

}  // namespace foldrt::graph
