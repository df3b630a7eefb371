// The model summary behind `foldrt inspect`, in the spirit of Keras's
// model.summary(): every node with its output shapes (from ONNX shape
// inference) and parameter count, the parameter totals split into trainable
// and non-trainable, and for every BatchNormalization its epsilon, channel
// axis and what `foldrt fold` would do with it. inspect_command.cc renders
// it as a table or JSON.
#ifndef FOLDRT_TOOLS_FOLDRT_MODEL_SUMMARY_H_
#define FOLDRT_TOOLS_FOLDRT_MODEL_SUMMARY_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/batch_norm_affine.h"
#include "graph/graph.h"
#include "graph/passes/fold_report.h"
#include "graph/tensor.h"

namespace foldrt {

// The channel axis BatchNormalization normalizes over, in every opset.
inline constexpr int kBatchNormChannelAxis = 1;

using Shape = std::optional<std::vector<graph::Dim>>;

struct ValueSummary {
  std::string name;
  graph::DataType dtype = graph::DataType::kUndefined;
  Shape shape;  // nullopt: not even the rank is known
};

struct LayerSummary {
  std::string name;
  std::string op;
  std::string domain;  // "ai.onnx" for the default domain
  std::vector<ValueSummary> outputs;
  int64_t trainable_params = 0;
  int64_t non_trainable_params = 0;
};

struct BatchNormSummary {
  graph::BatchNormFoldRecord fold;
  bool in_subgraph = false;
  float epsilon = kDefaultBatchNormEpsilon;
  int64_t channels = 0;  // 0 when unknown
  Shape input_shape;
};

struct ModelSummary {
  std::string file;
  int64_t ir_version = 0;
  std::vector<graph::OpsetImport> opsets;
  std::string producer_name;
  std::string producer_version;
  std::vector<ValueSummary> inputs;
  std::vector<ValueSummary> outputs;
  // Why the shapes are only the declared ones; empty when inference ran.
  std::string shape_inference_error;
  std::vector<LayerSummary> layers;
  std::vector<BatchNormSummary> batch_norms;
  int64_t trainable_params = 0;
  int64_t non_trainable_params = 0;
};

// Unknown, or a symbol ONNX shape inference made up for a dimension it
// cannot name (which says no more than an unknown dimension).
bool IsUnknownDim(const graph::Dim& dim);

// The summary of `model` (which it does not change). Shape inference that
// fails leaves the shapes the file declares and says why.
ModelSummary SummarizeModel(const graph::Model& model);

}  // namespace foldrt

#endif  // FOLDRT_TOOLS_FOLDRT_MODEL_SUMMARY_H_
