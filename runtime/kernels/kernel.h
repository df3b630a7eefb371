// The runtime's kernels: one per graph node, built once at load from the
// node (attributes, constant inputs) and immutable afterwards, so that
// several Session::Run calls may use one kernel at once.
//
// A kernel works in three phases:
//  - construction (load time): reads and checks every attribute and prepares
//    what depends on constants only (oneDNN primitives, packed weights);
//    anything unsupported throws here, so a model that loads runs;
//  - Plan (once per input-shape signature): output dtypes and shapes from the
//    input shapes, plus whatever per-shape state Run needs;
//  - Run: computes the outputs into buffers the session planned.
#ifndef FOLDRT_RUNTIME_KERNELS_KERNEL_H_
#define FOLDRT_RUNTIME_KERNELS_KERNEL_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "graph/graph.h"
#include "ops/activation.h"
#include "ops/batch_norm.h"
#include "runtime/core/tensor.h"

namespace foldrt::runtime {

// What planning knows about one input of a node.
struct PlanInput {
  DataType dtype = DataType::kFloat32;
  std::vector<int64_t> shape;
  // The value, when it is known before the run: a constant, or computed from
  // the input shapes while planning (Shape -> Gather -> Concat chains). Null
  // for activations.
  const Tensor* value = nullptr;
};

struct ValueType {
  DataType dtype = DataType::kFloat32;
  std::vector<int64_t> shape;
};

// Per-shape data a kernel's Plan hands to its Run (resolved pads, broadcast
// strides, a primitive built for this shape).
class KernelState {
 public:
  virtual ~KernelState() = default;
};

struct KernelPlan {
  // One entry per node output (also for omitted or unused ones).
  std::vector<ValueType> outputs;
  std::unique_ptr<const KernelState> state;
  // The outputs themselves, when the shapes alone determine them (Shape):
  // then the session uses these and never runs the step. Empty otherwise.
  std::vector<Tensor> values;
};

// The tensors of one Run. Absent optional inputs and omitted outputs are
// null. Outputs are preallocated with the planned shapes.
struct KernelArgs {
  std::vector<const Tensor*> inputs;
  std::vector<Tensor*> outputs;
  const KernelState* state = nullptr;
  int threads = 1;  // >= 1
};

class Kernel {
 public:
  virtual ~Kernel() = default;

  // Output dtypes (one for all outputs) from input dtypes, for the static
  // type of each value at load. `input_dtypes` has one entry per node input;
  // absent inputs hold kFloat32. Default: the dtype of input 0.
  virtual DataType OutputDataType(
      const std::vector<DataType>& input_dtypes) const;

  // Output types for these inputs (null entries: absent optional inputs).
  // Throws InvalidArgumentError when the inputs do not fit the node, and
  // UnsupportedError when an input this kernel must know while planning
  // (a Reshape target, Slice bounds) is only computed at run time.
  virtual KernelPlan Plan(
      const std::vector<const PlanInput*>& inputs) const = 0;

  virtual void Run(const KernelArgs& args) const = 0;

  // The input whose buffer output 0 may share, for ops that only reinterpret
  // the shape (Reshape, Flatten, Squeeze, Unsqueeze, Identity, Dropout); -1
  // otherwise. When the session shares the buffer it skips Run; when it
  // cannot (the output is a graph output), Run copies.
  virtual int AliasedInput() const { return -1; }
};

// Everything a kernel factory may read about its node.
class KernelBuildContext {
 public:
  struct Options {
    // Back Conv, ConvTranspose, Gemm, MatMul, pooling and BN with the scalar
    // references of ops/ref instead of the optimized ops.
    bool reference_kernels = false;
    ops::BatchNormImpl batch_norm_impl = ops::BatchNormImpl::kAuto;
  };

  // `constants` has one entry per node input: the load-time constant behind
  // it, or null. `output_used` has one entry per node output.
  KernelBuildContext(const graph::Node& node, int64_t opset,
                     std::vector<const Tensor*> constants,
                     std::vector<bool> output_used,
                     ops::Activation fused_activation, Options options)
      : node_(node),
        opset_(opset),
        constants_(std::move(constants)),
        output_used_(std::move(output_used)),
        fused_activation_(fused_activation),
        options_(options) {}

  const graph::Node& node() const { return node_; }
  int64_t opset() const { return opset_; }
  const Options& options() const { return options_; }
  // The activation (ReLU, Clip) of the node that used to follow this one,
  // which the kernel must apply to its output. Only ops for which
  // KernelFusesActivation() is true get one.
  const ops::Activation& fused_activation() const { return fused_activation_; }

  bool has_input(size_t index) const { return node_.has_input(index); }
  // The constant behind input `index`, null when absent or computed at run
  // time.
  const Tensor* constant(size_t index) const {
    return index < constants_.size() ? constants_[index] : nullptr;
  }
  // Something reads output `index` (a node or the caller).
  bool output_used(size_t index) const {
    return index < output_used_.size() && output_used_[index];
  }

  // Throw with this node's name and op (the session adds the file).
  [[noreturn]] void Unsupported(const std::string& message) const;
  [[noreturn]] void Invalid(const std::string& message) const;
  // A float32 constant input, or Invalid/Unsupported naming the input.
  const Tensor& RequireFloatConstant(size_t index,
                                     const std::string& what) const;
  // Unsupported unless output `index` is unused.
  void RequireUnusedOutput(size_t index, const std::string& what) const;

 private:
  const graph::Node& node_;
  int64_t opset_;
  std::vector<const Tensor*> constants_;
  std::vector<bool> output_used_;
  ops::Activation fused_activation_;
  Options options_;
};

// Builds the kernel for ctx.node(). Throws UnsupportedError (node and op in
// the context) for an op outside the registry or an attribute value the
// kernel does not implement, InvalidArgumentError for malformed attributes.
std::unique_ptr<Kernel> CreateKernel(const KernelBuildContext& ctx);

// The op types CreateKernel knows (default ONNX domain), sorted.
std::vector<std::string> SupportedOps();

// Whether the op's kernel applies a fused activation (Conv, ConvTranspose,
// Gemm, MatMul, BatchNormalization).
bool KernelFusesActivation(const std::string& op_type);

// The ops the session may fold into the preceding op: Relu, and Clip with
// constant bounds. Returns the activation, or false.
bool FusibleActivation(const graph::Node& node, int64_t opset,
                       const std::vector<const Tensor*>& constants,
                       ops::Activation* activation);

}  // namespace foldrt::runtime

#endif  // FOLDRT_RUNTIME_KERNELS_KERNEL_H_
