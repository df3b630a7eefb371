// What the ONNX import, export and shape-inference files (graph/onnx/)
// share: the import context, protobuf unknown-field plumbing, the typed
// tensor fields and the external-data reader. Private to graph/onnx/: the
// public API is graph/onnx_io.h, and these files are the only ones in foldrt
// that include the ONNX protobuf headers, so nothing above graph/ sees them.
#ifndef FOLDRT_GRAPH_ONNX_ONNX_INTERNAL_H_
#define FOLDRT_GRAPH_ONNX_ONNX_INTERNAL_H_

#include <onnx/onnx_pb.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <optional>
#include <string>
#include <unordered_set>
#include <vector>

#include "core/error.h"
#include "graph/graph.h"
#include "graph/onnx_io.h"

namespace foldrt::graph::onnx_internal {

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
              "tensor bytes are copied as ONNX's little-endian raw_data");

inline std::string TensorLabel(const std::string& name) {
  return name.empty() ? "tensor" : "tensor '" + name + "'";
}

inline std::string ShapeText(const std::vector<int64_t>& dims) {
  std::string text = "[";
  for (size_t i = 0; i < dims.size(); ++i) {
    if (i != 0) text += ",";
    text += std::to_string(dims[i]);
  }
  return text + "]";
}

// Fields of a newer ONNX schema than the one foldrt is built against arrive
// as protobuf unknown fields; keeping them serialized lets export restore
// them.
template <typename Message>
std::string SaveUnknownFields(const Message& message) {
  std::string bytes;
  if (!message.unknown_fields().empty()) {
    message.unknown_fields().SerializeToString(&bytes);
  }
  return bytes;
}

template <typename Message>
void RestoreUnknownFields(const std::string& bytes, Message* message,
                          const ErrorContext& where) {
  if (bytes.empty()) return;
  if (!message->mutable_unknown_fields()->ParseFromString(bytes)) {
    throw FormatError("corrupt preserved protobuf fields", where);
  }
}

template <typename Message>
void ParseSerialized(const std::string& bytes, Message* message,
                     const std::string& what, const ErrorContext& where) {
  if (!message->ParseFromString(bytes)) {
    throw FormatError(what + " does not hold a valid serialized ONNX message",
                      where);
  }
}

// What one import reads under, shared by the functions that import a model
// and its tensors.
struct ImportContext {
  std::string file;
  // Canonical folder of the model file; unset for models parsed from memory.
  std::optional<std::filesystem::path> base_dir;
  // Imported operator domains, the default one spelled "".
  std::unordered_set<std::string> domains;
  ImportLimits limits;
  // Bytes read so far (the model file, then external data), checked against
  // limits.max_model_bytes before each external read. Mutable: the import
  // functions share the context by const reference.
  mutable uint64_t bytes_read = 0;
  // Subgraphs (If/Loop/Scan bodies) enclosing the graph being imported.
  mutable int subgraph_depth = 0;
};

inline std::string LimitText(uint64_t limit, const char* unit) {
  return "foldrt's limit of " + std::to_string(limit) + " " + unit;
}

inline std::string ErrnoText() { return std::strerror(errno); }

// External data (external_data.cc).

// The bytes of a tensor stored in an external file (data_location EXTERNAL),
// resolved relative to ctx.base_dir and never outside it. `expected_bytes`
// (< 0: unknown) must match the stored length. Counts the bytes read
// against ctx.limits.max_model_bytes.
std::string ReadExternalData(const onnx::TensorProto& proto,
                             int64_t expected_bytes, const ImportContext& ctx,
                             const ErrorContext& where);

// Typed fields (tensor_data.cc).

// True when any of the typed data fields (float_data, int32_data, ...) of
// `proto` holds values.
bool HasTypedData(const onnx::TensorProto& proto);

// Converts the typed field that ONNX assigns to `dtype` into raw bytes.
std::string ReadTypedData(const onnx::TensorProto& proto, DataType dtype,
                          int64_t count, const ErrorContext& where);

// Writes the tensor's bytes into the typed field ONNX assigns to its dtype.
void WriteTypedData(const Tensor& tensor, onnx::TensorProto* proto,
                    const ErrorContext& where);

// Import (onnx_import.cc).

ValueInfo ImportValueInfo(const onnx::ValueInfoProto& proto);

// The model `proto` holds, checked and logged. Tensor bytes move out of
// `proto`.
Model ImportParsed(onnx::ModelProto* proto, ImportContext* ctx);

// Export (onnx_export.cc).

// The model as a ModelProto (verified first), checked against protobuf's
// 2 GiB message limit.
onnx::ModelProto ExportCheckedProto(const Model& model);

}  // namespace foldrt::graph::onnx_internal

#endif  // FOLDRT_GRAPH_ONNX_ONNX_INTERNAL_H_
