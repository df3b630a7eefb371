// ONNX files to and from the graph IR. The ONNX protobuf classes stay inside
// graph/onnx/ (load, import, external data, export, shape inference):
// nothing that includes this header sees them.
//
// Import accepts IR version 3 and newer with default-domain (ai.onnx) opsets
// kMinOpsetVersion..kMaxOpsetVersion. Nodes of other domains (ai.onnx.ml,
// custom ops) are kept as long as the model imports their domain. Tensor
// data may sit in raw_data, in the typed fields, or in external files next
// to the model. Initializers that old exporters also list as graph inputs
// become constants (Graph::initializer_inputs() remembers the listing).
// The imported model has passed Graph::Verify.
//
// Export writes a ModelProto that onnx::checker accepts; what foldrt did not
// change comes out as it came in (attribute kinds foldrt does not interpret,
// doc strings, value_info, metadata, fields of newer ONNX versions). Tensor
// data is always written inline, external data included, and nodes in
// topological order.
#ifndef FOLDRT_GRAPH_ONNX_IO_H_
#define FOLDRT_GRAPH_ONNX_IO_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <unordered_map>

#include "graph/graph.h"

namespace foldrt::graph {

inline constexpr int64_t kMinIrVersion = 3;
inline constexpr int64_t kMinOpsetVersion = 7;
inline constexpr int64_t kMaxOpsetVersion = 17;

// Bounds on what one import may read, so that a hostile or corrupt model
// is refused with an error naming the file or tensor instead of exhausting
// memory further down (the folding passes and the runtime copy tensors).
struct ImportLimits {
  // The .onnx file plus every byte of external data it references.
  uint64_t max_model_bytes = uint64_t{4} << 30;
  // Elements of any one tensor: initializers, Constant values, tensor
  // attributes (also inside subgraphs).
  int64_t max_tensor_elements = int64_t{1} << 31;
};

// Reads an .onnx file; external data files are resolved relative to its
// folder and may not lie outside it. Throws IoError when a file cannot be
// read, FormatError for malformed input (not an ONNX model, truncated,
// inconsistent tensors, a graph that fails Verify, external data escaping
// the folder), UnsupportedError for valid models outside what foldrt reads
// and for models beyond `limits` (the message names the file or tensor).
Model LoadOnnxModel(const std::string& path, const ImportLimits& limits = {});

// Parses a serialized ModelProto held in memory. `name_for_errors` labels
// messages and becomes Model::source. A model with external data cannot be
// parsed this way (UnsupportedError): there is no folder to resolve it in.
Model ParseOnnxModel(const void* data, size_t size,
                     const std::string& name_for_errors,
                     const ImportLimits& limits = {});

// Writes the model to `path` through a temporary file in the same folder
// that is renamed over `path` once complete, so a failure never leaves a
// partial file. The file gets mode 0644.
void SaveOnnxModel(const Model& model, const std::string& path);

// The serialized ModelProto. Verifies the graph first (FormatError);
// UnsupportedError when the result would exceed protobuf's 2 GiB limit.
std::string SerializeOnnxModel(const Model& model);

// The types and shapes ONNX's own shape inference (onnx::shape_inference,
// with data propagation, so Shape -> Reshape chains resolve) gives the
// values of the main graph: graph inputs, outputs and every intermediate
// value it could infer, keyed by value name; declared value_info is kept
// where inference adds nothing. The model itself is not changed. Nodes ONNX
// has no schema for (custom domains) and nodes whose inference fails are
// skipped, leaving their outputs (and what depends on them) absent or
// partly unknown. Symbols inference invents for unknown dimensions start
// with "unk__". Throws FormatError when inference finds the model
// inconsistent (e.g. a declared shape contradicting the inferred one) or
// before running it on a model that would crash or hang ONNX 1.12's
// inference (a stride or dilation <= 0, a dimension < 0 or > 2^31), and
// what SerializeOnnxModel throws.
std::unordered_map<std::string, ValueInfo> InferShapes(const Model& model);

}  // namespace foldrt::graph

#endif  // FOLDRT_GRAPH_ONNX_IO_H_
