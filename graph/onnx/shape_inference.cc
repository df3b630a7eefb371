// InferShapes (graph/onnx_io.h): ONNX's own shape inference run on an
// exported copy of the model, after the checks and rewrites that keep
// Debian 12's libonnx 1.12 from crashing or hanging on hostile input.
#include <onnx/shape_inference/implementation.h>

#include <algorithm>
#include <map>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/error.h"
#include "graph/onnx/onnx_internal.h"

namespace foldrt::graph {
namespace {

using onnx_internal::ExportCheckedProto;
using onnx_internal::ImportValueInfo;
using onnx_internal::TensorLabel;

// Dimensions past this are refused before ONNX shape inference (below).
// Any tensor that large is over the default element limit anyway, unless
// another of its dimensions is 0.
constexpr int64_t kMaxDimForShapeInference = ImportLimits{}.max_tensor_elements;

// Debian 12's libonnx (1.12) trusts what its shape inference reads from the
// model: Conv and pooling divide by each stride (SIGFPE on a stride of 0;
// `foldrt inspect` died on such a model), and their auto_pad code walks a
// dimension one stride at a time (a dimension of 2^62 never finishes).
// Refuse models that would reach those paths; inference then is simply
// unavailable (inspect falls back to the declared shapes).
void CheckSafeForShapeInference(const onnx::GraphProto& graph,
                                const std::string& file) {
  const ErrorContext where{file, "", ""};
  auto check_dims = [&](const std::string& what, const auto& dims) {
    for (const int64_t dim : dims) {
      if (dim < 0 || dim > kMaxDimForShapeInference) {
        throw FormatError(what + " has dimension " + std::to_string(dim) +
                              ", outside what ONNX shape inference handles "
                              "safely (0 to " +
                              std::to_string(kMaxDimForShapeInference) + ")",
                          where);
      }
    }
  };
  for (const auto* list :
       {&graph.input(), &graph.output(), &graph.value_info()}) {
    for (const onnx::ValueInfoProto& info : *list) {
      if (!info.type().has_tensor_type()) continue;
      std::vector<int64_t> dims;
      for (const auto& dim : info.type().tensor_type().shape().dim()) {
        if (dim.has_dim_value()) dims.push_back(dim.dim_value());
      }
      check_dims("value '" + info.name() + "'", dims);
    }
  }
  for (const onnx::TensorProto& tensor : graph.initializer()) {
    check_dims(TensorLabel(tensor.name()), tensor.dims());
  }
  for (const onnx::NodeProto& node : graph.node()) {
    const ErrorContext node_where{file, node.name(), node.op_type()};
    for (const onnx::AttributeProto& attribute : node.attribute()) {
      if ((attribute.name() == "strides" || attribute.name() == "dilations") &&
          attribute.type() == onnx::AttributeProto::INTS) {
        for (const int64_t value : attribute.ints()) {
          if (value <= 0) {
            throw FormatError("attribute '" + attribute.name() + "' holds " +
                                  std::to_string(value) +
                                  "; ONNX shape inference needs positive "
                                  "values",
                              node_where);
          }
        }
      }
      if (attribute.has_t()) {
        check_dims("a tensor attribute", attribute.t().dims());
      }
      if (attribute.has_g()) CheckSafeForShapeInference(attribute.g(), file);
      for (const onnx::GraphProto& subgraph : attribute.graphs()) {
        CheckSafeForShapeInference(subgraph, file);
      }
    }
  }
}

// ONNX 1.12 takes a Conv's kernel size from W's shape when the node has no
// kernel_shape attribute, and then indexes the input's spatial axes with
// W's, out of bounds when W has more of them than X (a segfault in
// `foldrt inspect`, found by fuzzing). With kernel_shape spelled out, it
// checks the count against X first and skips the node instead. Applied to
// the copy given to inference, wherever W's dims are known up front
// (initializers, fully declared shapes), in this graph and its subgraphs.
void PinConvKernelShapes(
    onnx::GraphProto* graph,
    std::unordered_map<std::string, std::vector<int64_t>> known_dims) {
  for (const onnx::TensorProto& tensor : graph->initializer()) {
    known_dims[tensor.name()] = {tensor.dims().begin(), tensor.dims().end()};
  }
  for (const auto* list :
       {&graph->input(), &graph->output(), &graph->value_info()}) {
    for (const onnx::ValueInfoProto& info : *list) {
      if (!info.type().tensor_type().has_shape()) continue;
      std::vector<int64_t> dims;
      for (const auto& dim : info.type().tensor_type().shape().dim()) {
        if (!dim.has_dim_value()) break;
        dims.push_back(dim.dim_value());
      }
      if (static_cast<int>(dims.size()) ==
          info.type().tensor_type().shape().dim_size()) {
        known_dims.emplace(info.name(), std::move(dims));
      }
    }
  }
  // Where each op that runs this inference reads its weight.
  static const std::map<std::string, int> kWeightInput = {{"Conv", 1},
                                                          {"ConvTranspose", 1},
                                                          {"ConvInteger", 1},
                                                          {"QLinearConv", 3}};
  for (onnx::NodeProto& node : *graph->mutable_node()) {
    for (onnx::AttributeProto& attribute : *node.mutable_attribute()) {
      if (attribute.has_g())
        PinConvKernelShapes(attribute.mutable_g(), known_dims);
      for (onnx::GraphProto& subgraph : *attribute.mutable_graphs()) {
        PinConvKernelShapes(&subgraph, known_dims);
      }
    }
    if (!IsDefaultDomain(node.domain())) continue;
    const auto weight = kWeightInput.find(node.op_type());
    if (weight == kWeightInput.end() || node.input_size() <= weight->second) {
      continue;
    }
    const bool has_kernel_shape =
        std::any_of(node.attribute().begin(), node.attribute().end(),
                    [](const onnx::AttributeProto& a) {
                      return a.name() == "kernel_shape";
                    });
    const auto dims = known_dims.find(node.input(weight->second));
    if (has_kernel_shape || dims == known_dims.end() ||
        dims->second.size() < 2) {
      continue;
    }
    onnx::AttributeProto* kernel_shape = node.add_attribute();
    kernel_shape->set_name("kernel_shape");
    kernel_shape->set_type(onnx::AttributeProto::INTS);
    for (size_t i = 2; i < dims->second.size(); ++i) {
      kernel_shape->add_ints(dims->second[i]);
    }
  }
}

}  // namespace

std::unordered_map<std::string, ValueInfo> InferShapes(const Model& model) {
  onnx::ModelProto proto = ExportCheckedProto(model);
  CheckSafeForShapeInference(proto.graph(), model.source);
  PinConvKernelShapes(proto.mutable_graph(), {});
  // error_mode 0: a node without a schema or whose inference fails is
  // skipped rather than failing the whole model.
  const onnx::ShapeInferenceOptions options(/*check_type_val=*/false,
                                            /*strict_mode_val=*/0,
                                            /*data_prop_val=*/true);
  try {
    onnx::shape_inference::InferShapes(
        proto, onnx::OpSchemaRegistry::Instance(), options);
  } catch (const std::exception& error) {
    // onnx::InferenceError and onnx::checker::ValidationError, both thrown
    // for models whose declared types contradict what the ops produce.
    throw FormatError(
        std::string("ONNX shape inference failed: ") + error.what(),
        ErrorContext{model.source, "", ""});
  }
  std::unordered_map<std::string, ValueInfo> infos;
  const onnx::GraphProto& graph = proto.graph();
  for (const auto* list :
       {&graph.input(), &graph.output(), &graph.value_info()}) {
    for (const onnx::ValueInfoProto& info : *list) {
      infos.insert_or_assign(info.name(), ImportValueInfo(info));
    }
  }
  return infos;
}

}  // namespace foldrt::graph
