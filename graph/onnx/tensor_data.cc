// Tensor data in ONNX's typed fields (float_data, int32_data, ...): which
// field holds which element type, and the conversion to and from the packed
// little-endian bytes the graph IR keeps.
#include <cstring>
#include <string>

#include "graph/onnx/onnx_internal.h"

namespace foldrt::graph::onnx_internal {
namespace {

// Appends each element of a typed ONNX field narrowed to Element.
template <typename Element, typename Field>
void AppendElements(const Field& field, std::string* bytes) {
  const size_t start = bytes->size();
  bytes->resize(start + static_cast<size_t>(field.size()) * sizeof(Element));
  char* out = bytes->data() + start;
  for (const auto& stored : field) {
    const Element element = static_cast<Element>(stored);
    std::memcpy(out, &element, sizeof(Element));
    out += sizeof(Element);
  }
}

// Widens packed Elements back into a typed ONNX field.
template <typename Element, typename Field>
void ExtractElements(const std::string& bytes, Field* field) {
  const size_t count = bytes.size() / sizeof(Element);
  field->Reserve(static_cast<int>(count));
  for (size_t i = 0; i < count; ++i) {
    Element element;
    std::memcpy(&element, bytes.data() + i * sizeof(Element), sizeof(Element));
    field->Add(element);
  }
}

}  // namespace

bool HasTypedData(const onnx::TensorProto& proto) {
  return proto.float_data_size() != 0 || proto.int32_data_size() != 0 ||
         proto.string_data_size() != 0 || proto.int64_data_size() != 0 ||
         proto.double_data_size() != 0 || proto.uint64_data_size() != 0;
}

// Converts the typed field that ONNX assigns to `dtype` into raw bytes.
std::string ReadTypedData(const onnx::TensorProto& proto, DataType dtype,
                          int64_t count, const ErrorContext& where) {
  std::string bytes;
  auto take = [&](const auto& field, int64_t per_element,
                  const char* field_name, auto append) {
    if (field.size() != count * per_element) {
      throw FormatError(
          TensorLabel(proto.name()) + ": " + std::to_string(field.size()) +
              " values in " + field_name + ", but " + DataTypeName(dtype) +
              " " + ShapeText({proto.dims().begin(), proto.dims().end()}) +
              " needs " + std::to_string(count * per_element),
          where);
    }
    append(field);
  };
  switch (dtype) {
    case DataType::kFloat:
    case DataType::kComplex64:
      take(proto.float_data(), dtype == DataType::kFloat ? 1 : 2, "float_data",
           [&](const auto& f) { AppendElements<float>(f, &bytes); });
      break;
    case DataType::kDouble:
    case DataType::kComplex128:
      take(proto.double_data(), dtype == DataType::kDouble ? 1 : 2,
           "double_data",
           [&](const auto& f) { AppendElements<double>(f, &bytes); });
      break;
    case DataType::kInt64:
      take(proto.int64_data(), 1, "int64_data",
           [&](const auto& f) { AppendElements<int64_t>(f, &bytes); });
      break;
    case DataType::kUint64:
      take(proto.uint64_data(), 1, "uint64_data",
           [&](const auto& f) { AppendElements<uint64_t>(f, &bytes); });
      break;
    case DataType::kUint32:
      take(proto.uint64_data(), 1, "uint64_data",
           [&](const auto& f) { AppendElements<uint32_t>(f, &bytes); });
      break;
    case DataType::kInt32:
      take(proto.int32_data(), 1, "int32_data",
           [&](const auto& f) { AppendElements<int32_t>(f, &bytes); });
      break;
    case DataType::kInt16:
      take(proto.int32_data(), 1, "int32_data",
           [&](const auto& f) { AppendElements<int16_t>(f, &bytes); });
      break;
    case DataType::kUint16:
    case DataType::kFloat16:
    case DataType::kBfloat16:
      take(proto.int32_data(), 1, "int32_data",
           [&](const auto& f) { AppendElements<uint16_t>(f, &bytes); });
      break;
    case DataType::kInt8:
      take(proto.int32_data(), 1, "int32_data",
           [&](const auto& f) { AppendElements<int8_t>(f, &bytes); });
      break;
    case DataType::kUint8:
    case DataType::kBool:
      take(proto.int32_data(), 1, "int32_data",
           [&](const auto& f) { AppendElements<uint8_t>(f, &bytes); });
      break;
    default:
      throw UnsupportedError(TensorLabel(proto.name()) + " of type " +
                                 DataTypeName(dtype) +
                                 " keeps its data in a typed field foldrt "
                                 "cannot read (only raw_data)",
                             where);
  }
  return bytes;
}

void WriteTypedData(const Tensor& tensor, onnx::TensorProto* proto,
                    const ErrorContext& where) {
  const std::string& bytes = tensor.bytes();
  switch (tensor.dtype()) {
    case DataType::kFloat:
    case DataType::kComplex64:
      ExtractElements<float>(bytes, proto->mutable_float_data());
      break;
    case DataType::kDouble:
    case DataType::kComplex128:
      ExtractElements<double>(bytes, proto->mutable_double_data());
      break;
    case DataType::kInt64:
      ExtractElements<int64_t>(bytes, proto->mutable_int64_data());
      break;
    case DataType::kUint64:
      ExtractElements<uint64_t>(bytes, proto->mutable_uint64_data());
      break;
    case DataType::kUint32:
      ExtractElements<uint32_t>(bytes, proto->mutable_uint64_data());
      break;
    case DataType::kInt32:
      ExtractElements<int32_t>(bytes, proto->mutable_int32_data());
      break;
    case DataType::kInt16:
      ExtractElements<int16_t>(bytes, proto->mutable_int32_data());
      break;
    case DataType::kUint16:
    case DataType::kFloat16:
    case DataType::kBfloat16:
      ExtractElements<uint16_t>(bytes, proto->mutable_int32_data());
      break;
    case DataType::kInt8:
      ExtractElements<int8_t>(bytes, proto->mutable_int32_data());
      break;
    case DataType::kUint8:
    case DataType::kBool:
      ExtractElements<uint8_t>(bytes, proto->mutable_int32_data());
      break;
    default:
      throw UnsupportedError(TensorLabel(tensor.name()) + " of type " +
                                 DataTypeName(tensor.dtype()) +
                                 " can only be written as raw_data",
                             where);
  }
}

}  // namespace foldrt::graph::onnx_internal
