// Constant tensors of the graph IR (initializers, Constant node values,
// tensor attributes): ONNX element types and the tensor bytes.
#ifndef FOLDRT_GRAPH_TENSOR_H_
#define FOLDRT_GRAPH_TENSOR_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace foldrt::graph {

// ONNX TensorProto.DataType codes. A code this enum does not name (from a
// newer ONNX) is carried through static_cast unchanged.
enum class DataType : int32_t {
  kUndefined = 0,
  kFloat = 1,
  kUint8 = 2,
  kInt8 = 3,
  kUint16 = 4,
  kInt16 = 5,
  kInt32 = 6,
  kInt64 = 7,
  kString = 8,
  kBool = 9,
  kFloat16 = 10,
  kDouble = 11,
  kUint32 = 12,
  kUint64 = 13,
  kComplex64 = 14,
  kComplex128 = 15,
  kBfloat16 = 16,
  kFloat8E4M3Fn = 17,
  kFloat8E4M3Fnuz = 18,
  kFloat8E5M2 = 19,
  kFloat8E5M2Fnuz = 20,
  kUint4 = 21,
  kInt4 = 22,
  kFloat4E2M1 = 23,
};

// The ONNX spelling ("FLOAT", "INT64", ...), or "DataType(N)" for codes
// this enum does not name.
std::string DataTypeName(DataType dtype);

// Bits per element; 0 for kString, kUndefined and codes foldrt does not know
// (their bytes are kept but their size cannot be checked).
int DataTypeBitWidth(DataType dtype);

// Where the ONNX file kept the numbers. Export writes them back the same
// way, so a tensor nobody touched serializes to the same bytes.
enum class TensorStorage {
  kRawData,     // TensorProto.raw_data
  kTypedField,  // float_data, int32_data, int64_data, double_data, ...
};

// A constant tensor. Numbers are held as ONNX raw_data bytes (packed,
// little-endian) whatever field they came from, so element types foldrt
// does not interpret survive untouched; strings are held separately.
// Tensors are plain values: copying one copies its bytes, which is how a
// pass duplicates a weight shared by two producers before changing it.
class Tensor {
 public:
  Tensor() = default;
  // `bytes` must hold exactly the elements that `dims` and `dtype` describe
  // (checked for every type with a known bit width); throws
  // InvalidArgumentError otherwise, or for a negative dimension, or for
  // kString (use FromStrings).
  Tensor(std::string name, DataType dtype, std::vector<int64_t> dims,
         std::string bytes);

  static Tensor FromFloats(std::string name, std::vector<int64_t> dims,
                           const std::vector<float>& values);
  static Tensor FromInt64s(std::string name, std::vector<int64_t> dims,
                           const std::vector<int64_t>& values);
  static Tensor FromStrings(std::string name, std::vector<int64_t> dims,
                            std::vector<std::string> values);

  const std::string& name() const { return name_; }
  void set_name(std::string name) { name_ = std::move(name); }
  DataType dtype() const { return dtype_; }
  const std::vector<int64_t>& dims() const { return dims_; }
  int64_t NumElements() const;

  // Raw element bytes; empty for kString tensors.
  const std::string& bytes() const { return bytes_; }
  // Elements of a kString tensor.
  const std::vector<std::string>& strings() const { return strings_; }

  // Replaces type, shape and bytes at once, with the constructor's checks.
  void SetBytes(DataType dtype, std::vector<int64_t> dims, std::string bytes);

  // Copies the elements out as float32. Throws UnsupportedError unless the
  // tensor is kFloat: a silent conversion would hide precision changes.
  std::vector<float> ToFloats() const;
  // Replaces the elements, keeping dims; the tensor must be kFloat with
  // exactly values.size() elements (InvalidArgumentError otherwise).
  void SetFloats(const std::vector<float>& values);
  // Makes this a kFloat tensor of shape `dims` holding `values`.
  void SetFloats(std::vector<int64_t> dims, const std::vector<float>& values);

  // Copies the elements out widened to int64; kInt64, kInt32, kInt16, kInt8,
  // kUint32, kUint16, kUint8 and kBool only (UnsupportedError otherwise).
  std::vector<int64_t> ToInt64s() const;

  const std::string& doc_string() const { return doc_string_; }
  void set_doc_string(std::string doc) { doc_string_ = std::move(doc); }
  TensorStorage storage() const { return storage_; }
  void set_storage(TensorStorage storage) { storage_ = storage; }
  // TensorProto fields from an ONNX newer than the one foldrt is built
  // against, serialized; export puts them back.
  const std::string& unknown_fields() const { return unknown_fields_; }
  void set_unknown_fields(std::string fields) {
    unknown_fields_ = std::move(fields);
  }

 private:
  std::string name_;
  DataType dtype_ = DataType::kUndefined;
  std::vector<int64_t> dims_;
  std::string bytes_;
  std::vector<std::string> strings_;
  std::string doc_string_;
  TensorStorage storage_ = TensorStorage::kRawData;
  std::string unknown_fields_;
};

// Number of elements of a shape; throws InvalidArgumentError for a negative
// dimension or an element count that overflows int64.
int64_t ElementCount(const std::vector<int64_t>& dims);

// Bytes `count` elements of `dtype` occupy in raw_data, or -1 when the bit
// width is unknown (see DataTypeBitWidth).
int64_t ByteSize(DataType dtype, int64_t count);

}  // namespace foldrt::graph

#endif  // FOLDRT_GRAPH_TENSOR_H_
