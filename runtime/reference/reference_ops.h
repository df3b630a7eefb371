// What the reference evaluator's op implementations share: the context a
// node's evaluation reads its inputs from and writes its outputs to, and
// the small tensor helpers. Private to runtime/ (reference_evaluator.cc and
// the runtime/reference/*.cc op families); users call EvaluateReference.
// Strides come from runtime/op_attributes.h (ContiguousStrides,
// BroadcastStrides), which the kernels read too.
#ifndef FOLDRT_RUNTIME_REFERENCE_REFERENCE_OPS_H_
#define FOLDRT_RUNTIME_REFERENCE_REFERENCE_OPS_H_

#include <cstdint>
#include <map>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "core/error.h"
#include "core/tensor.h"
#include "graph/graph.h"
#include "graph/tensor.h"
#include "runtime/kernels/kernel_util.h"
#include "runtime/op_attributes.h"
#include "runtime/op_registry.h"
#include "runtime/reference_evaluator.h"

namespace foldrt::runtime::reference {

using graph::Node;

// "float32 (3, 4)": a tensor as messages show it.
std::string Describe(const Tensor& t);

// For each element of `out_shape` in C order, sum over axes of index *
// strides[axis]: the offset into a tensor read through `strides` (0 for a
// broadcast axis, permuted strides for a transpose).
std::vector<int64_t> StridedOffsets(const std::vector<int64_t>& out_shape,
                                    const std::vector<int64_t>& strides);

// A tensor of `dtype` and `shape` whose elements fill(T{}, out) appends to
// `out`, a std::vector<T> of that dtype's element type T (float or int64_t).
template <typename F>
Tensor MakeTensor(DataType dtype, std::vector<int64_t> shape, F&& fill) {
  return DispatchDataType(dtype, [&](auto tag) {
    using T = decltype(tag);
    std::vector<T> elements;
    fill(tag, elements);
    if constexpr (std::is_same_v<T, float>) {
      return Tensor::FromFloats(std::move(shape), elements);
    } else {
      return Tensor::FromInt64s(std::move(shape), elements);
    }
  });
}

// y (of `shape`, x's dtype) = x read at `offsets`, one per element of y.
Tensor Gathered(const Tensor& x, std::vector<int64_t> shape,
                const std::vector<int64_t>& offsets);

// An initializer or Constant value: ToRuntimeTensor, which widens integer
// and bool types to int64 (exact) and refuses the rest.
Tensor FromGraphConstant(const graph::Tensor& tensor,
                         const std::string& value_name);

// Everything a node's evaluation reads and writes, with errors that name
// the node and op.
class NodeContext {
 public:
  NodeContext(const graph::Graph& graph, const Node& node, int64_t opset,
              const std::string& file, std::map<std::string, Tensor>* values)
      : graph_(graph),
        node_(node),
        opset_(opset),
        file_(file),
        values_(values) {}

  const Node& node() const { return node_; }
  int64_t opset() const { return opset_; }
  ErrorContext error_context() const {
    return graph::NodeErrorContext(node_, file_);
  }

  [[noreturn]] void Invalid(const std::string& message) const {
    throw InvalidArgumentError(message, error_context());
  }
  [[noreturn]] void Unsupported(const std::string& message) const {
    throw UnsupportedError(message, error_context());
  }

  bool HasInput(size_t index) const { return node_.has_input(index); }

  // A required input of either dtype.
  const Tensor& Input(size_t index) const {
    if (!node_.has_input(index)) {
      Invalid("required input " + std::to_string(index) + " is missing");
    }
    return Lookup(node_.input(index));
  }

  // A required float input.
  const Tensor& FloatInput(size_t index) const {
    const Tensor& t = Input(index);
    if (t.dtype() != DataType::kFloat32) {
      Unsupported("input " + std::to_string(index) + " ('" +
                  node_.input(index) + "') is " + Describe(t) +
                  "; this op is implemented for float only");
    }
    return t;
  }

  // An optional float input, null when omitted.
  const Tensor* OptionalFloatInput(size_t index) const {
    return node_.has_input(index) ? &FloatInput(index) : nullptr;
  }

  // A required int64 input (shape, indices, axes).
  std::vector<int64_t> Int64Input(size_t index) const {
    const Tensor& t = Input(index);
    if (t.dtype() != DataType::kInt64) {
      Invalid("input " + std::to_string(index) + " ('" + node_.input(index) +
              "') is " + Describe(t) + "; expected an integer tensor");
    }
    return t.ToVector<int64_t>();
  }

  // The value of a one-element input (Clip bounds, Dropout flags).
  double ScalarInput(size_t index) const {
    const Tensor& t = Input(index);
    if (t.NumElements() != 1) {
      Invalid("input " + std::to_string(index) + " ('" + node_.input(index) +
              "') must hold one value, it is " + Describe(t));
    }
    return t.dtype() == DataType::kFloat32
               ? t.data<float>()[0]
               : static_cast<double>(t.data<int64_t>()[0]);
  }

  // The node's `axis` attribute (default 0) made non-negative for `t`;
  // Invalid, naming t as `what` ("input", "data"), when out of range.
  int64_t AxisFor(const Tensor& t, const std::string& what) const {
    const int64_t attr_axis = node_.GetInt("axis", 0);
    const int64_t axis =
        NormalizeAxis(attr_axis, static_cast<int64_t>(t.rank()));
    if (axis < 0) {
      Invalid("axis " + std::to_string(attr_axis) + " is out of range for " +
              what + " " + Describe(t));
    }
    return axis;
  }

  // Whether anything reads output `index`: a node of the graph, or the
  // caller as a graph output.
  bool OutputUsed(size_t index) const {
    if (index >= node_.num_outputs() || node_.output(index).empty()) {
      return false;
    }
    const std::string& name = node_.output(index);
    return !graph_.Uses(name).empty() || graph_.IsGraphOutput(name);
  }

  // Output `index` must not be needed: the evaluator does not compute it.
  void RequireUnused(size_t index, const std::string& what) const {
    if (OutputUsed(index)) {
      Unsupported("output " + std::to_string(index) + " ('" +
                  node_.output(index) + "', " + what +
                  ") is used, and the reference evaluator does not compute "
                  "it");
    }
  }

  void SetOutput(size_t index, Tensor tensor) const {
    if (index >= node_.num_outputs() || node_.output(index).empty()) return;
    (*values_)[node_.output(index)] = std::move(tensor);
  }

  // A value by name: computed already, or a constant of the graph.
  const Tensor& Lookup(const std::string& name) const {
    auto it = values_->find(name);
    if (it != values_->end()) return it->second;
    const graph::Tensor* initializer = graph_.FindInitializer(name);
    if (initializer == nullptr) {
      Invalid("value '" + name +
              "' is neither a graph input, an initializer nor the output of "
              "an earlier node");
    }
    return values_->emplace(name, FromGraphConstant(*initializer, name))
        .first->second;
  }

 private:
  const graph::Graph& graph_;
  const Node& node_;
  int64_t opset_;
  const std::string& file_;
  std::map<std::string, Tensor>* values_;
};

// One per op family; RegisterReferences (op_registry.h) calls them.
void RegisterElementwiseReferences(OpRegistry* registry);  // elementwise_ops.cc
void RegisterLayerReferences(OpRegistry* registry);        // layer_ops.cc
void RegisterShapeReferences(OpRegistry* registry);        // shape_ops.cc
void RegisterTensorOpReferences(OpRegistry* registry);     // tensor_ops.cc

}  // namespace foldrt::runtime::reference

#endif  // FOLDRT_RUNTIME_REFERENCE_REFERENCE_OPS_H_
