// Reading tensor data that an ONNX model keeps in external files next to it
// (TensorProto.data_location = EXTERNAL): where the file may be (only inside
// the model's folder), which bytes of it, and how many a model may read.
#include <algorithm>
#include <climits>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>

#include "graph/onnx/onnx_internal.h"

namespace foldrt::graph::onnx_internal {
namespace {

namespace fs = std::filesystem;

// Parses a non-negative decimal integer from an external_data entry.
int64_t ParseExternalDataNumber(const std::string& key, const std::string& text,
                                const std::string& tensor,
                                const ErrorContext& where) {
  int64_t value = 0;
  bool valid = !text.empty();
  for (char c : text) {
    if (c < '0' || c > '9' || value > (INT64_MAX - (c - '0')) / 10) {
      valid = false;
      break;
    }
    value = value * 10 + (c - '0');
  }
  if (!valid) {
    throw FormatError(TensorLabel(tensor) + ": external data " + key + " '" +
                          text + "' is not a non-negative integer",
                      where);
  }
  return value;
}

// True when `path` names `dir` itself or something below it; both must be
// absolute and normalized.
bool IsWithin(const fs::path& dir, const fs::path& path) {
  const fs::path relative = path.lexically_relative(dir);
  return !relative.empty() && *relative.begin() != "..";
}

}  // namespace

std::string ReadExternalData(const onnx::TensorProto& proto,
                             int64_t expected_bytes, const ImportContext& ctx,
                             const ErrorContext& where) {
  const std::string& name = proto.name();
  if (!ctx.base_dir) {
    throw UnsupportedError(TensorLabel(name) +
                               " keeps its data in an external file, which "
                               "needs the model loaded from its file",
                           where);
  }
  std::optional<std::string> location;
  std::optional<std::string> offset_text;
  std::optional<std::string> length_text;
  for (const onnx::StringStringEntryProto& entry : proto.external_data()) {
    if (entry.key() == "location") location = entry.value();
    if (entry.key() == "offset") offset_text = entry.value();
    if (entry.key() == "length") length_text = entry.value();
  }
  if (!location || location->empty()) {
    throw FormatError(
        TensorLabel(name) + " has external data without a location", where);
  }
  const fs::path relative(*location);
  if (relative.is_absolute()) {
    throw FormatError(TensorLabel(name) + ": external data location '" +
                          *location +
                          "' is an absolute path; it must be relative to the "
                          "model's folder",
                      where);
  }
  const fs::path lexical = (*ctx.base_dir / relative).lexically_normal();
  if (!IsWithin(*ctx.base_dir, lexical)) {
    throw FormatError(TensorLabel(name) + ": external data location '" +
                          *location + "' leaves the model's folder",
                      where);
  }
  std::error_code error;
  const fs::path resolved = fs::canonical(lexical, error);
  if (error) {
    throw IoError(TensorLabel(name) + ": cannot open external data file '" +
                      lexical.string() + "': " + error.message(),
                  where);
  }
  if (!IsWithin(*ctx.base_dir, resolved)) {
    throw FormatError(TensorLabel(name) + ": external data location '" +
                          *location + "' resolves to '" + resolved.string() +
                          "', outside the model's folder",
                      where);
  }
  if (!fs::is_regular_file(resolved, error)) {
    throw FormatError(TensorLabel(name) + ": external data '" +
                          resolved.string() + "' is not a regular file",
                      where);
  }
  const uintmax_t file_size = fs::file_size(resolved, error);
  if (error) {
    throw IoError(TensorLabel(name) + ": cannot read the size of '" +
                      resolved.string() + "': " + error.message(),
                  where);
  }
  const int64_t offset =
      offset_text ? ParseExternalDataNumber("offset", *offset_text, name, where)
                  : 0;
  if (static_cast<uintmax_t>(offset) > file_size) {
    throw FormatError(TensorLabel(name) + ": external data offset " +
                          std::to_string(offset) + " is past the end of '" +
                          resolved.string() + "' (" +
                          std::to_string(file_size) + " bytes)",
                      where);
  }
  const uintmax_t available = file_size - static_cast<uintmax_t>(offset);
  int64_t length = static_cast<int64_t>(available);
  if (length_text) {
    length = ParseExternalDataNumber("length", *length_text, name, where);
    if (static_cast<uintmax_t>(length) > available) {
      throw FormatError(TensorLabel(name) + ": external data offset " +
                            std::to_string(offset) + " + length " +
                            std::to_string(length) + " is past the end of '" +
                            resolved.string() + "' (" +
                            std::to_string(file_size) + " bytes)",
                        where);
    }
  }
  if (expected_bytes >= 0 && length != expected_bytes) {
    throw FormatError(
        TensorLabel(name) + ": external data holds " + std::to_string(length) +
            " bytes, but the tensor needs " + std::to_string(expected_bytes),
        where);
  }
  // The model file and every external tensor count together, so that many
  // tensors pointing at one large file cannot add up past the limit.
  if (static_cast<uint64_t>(length) >
      ctx.limits.max_model_bytes -
          std::min(ctx.bytes_read, ctx.limits.max_model_bytes)) {
    throw UnsupportedError(
        TensorLabel(name) + ": reading its " + std::to_string(length) +
            " bytes of external data would take the model past " +
            LimitText(ctx.limits.max_model_bytes, "bytes"),
        where);
  }
  ctx.bytes_read += static_cast<uint64_t>(length);
  std::ifstream in(resolved, std::ios::binary);
  std::string bytes(static_cast<size_t>(length), '\0');
  in.seekg(offset);
  in.read(bytes.data(), length);
  if (!in) {
    throw IoError(TensorLabel(name) + ": reading " + std::to_string(length) +
                      " bytes at offset " + std::to_string(offset) + " of '" +
                      resolved.string() + "' failed",
                  where);
  }
  return bytes;
}

}  // namespace foldrt::graph::onnx_internal
