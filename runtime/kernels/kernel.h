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
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/tensor.h"
#include "graph/graph.h"
#include "ops/activation.h"
#include "ops/batch_norm.h"
#include "ops/layout.h"

namespace foldrt::runtime {

// What planning knows about one input of a node.
struct PlanInput {
  DataType dtype = DataType::kFloat32;
  std::vector<int64_t> shape;
  // The value, when it is known before the run: a constant, or computed from
  // the input shapes while planning (Shape -> Gather -> Concat chains). Null
  // for activations.
  const Tensor* value = nullptr;
  // How the producer laid the buffer out (always kNchw for int64, known
  // values and graph inputs).
  ops::Layout layout = ops::Layout::kNchw;
  // 0: the buffer holds exactly this value. Otherwise the value is channels
  // [0, shape[1]) of a buffer holding buffer_channels channels in `layout`
  // (a Concat output sharing the buffer of a later Concat that extends it,
  // read in place). Only inputs for which ReadsChannelSlice is true get
  // one; Plan keeps the number in its state for Run.
  int64_t buffer_channels = 0;
};

struct ValueType {
  DataType dtype = DataType::kFloat32;
  std::vector<int64_t> shape;
  // The layout Run writes this output in (kNchw unless the kernel keeps
  // activations blocked, see KernelPlan::input_layouts).
  ops::Layout layout = ops::Layout::kNchw;
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
  // Layout negotiation. Plan sees the layout each input is available in
  // (PlanInput::layout) and names here the one Run wants it in, one entry
  // per input; the session converts where they differ. Empty: every input
  // plain, which is all a kernel that ignores layouts ever gets. Blocked
  // buffers (ops/layout.h) hold the channels padded to the block, zero in
  // the padding; a kernel writing a blocked output keeps it zero.
  std::vector<ops::Layout> input_layouts;
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

  // Called once per plan, after Plan, with the plan's state and thread
  // count: work Run would otherwise do on its first call (building oneDNN
  // primitives, packing weights), done while the session loads or plans a
  // new shape instead. Default: nothing.
  virtual void Prepare(const KernelState* /*state*/, int /*threads*/) const {}

  // The input whose buffer output 0 may be written over when this step is
  // the buffer's last reader (a Conv with a fused residual Add writes
  // conv(x) + r over r); -1 otherwise. Run must work both ways: the
  // session decides per plan whether the buffers are the same.
  virtual int InPlaceInput() const { return -1; }

  // The input whose buffer output 0 may share, for ops that only reinterpret
  // the shape (Reshape, Flatten, Squeeze, Unsqueeze, Identity, Dropout); -1
  // otherwise. When the session shares the buffer it skips Run; when it
  // cannot (the output is a graph output), Run copies.
  virtual int AliasedInput() const { return -1; }

  // Whether input `index` may be a channel slice of a wider buffer
  // (PlanInput::buffer_channels). Default false.
  virtual bool ReadsChannelSlice(size_t /*index*/) const { return false; }

  // True when the planned step (`state` from this kernel's Plan) is a
  // Concat along the channel axis of float tensors in a layout where each
  // input is one contiguous run per image (plain, blocked with whole
  // blocks) or per pixel (channels-last). The planner may then give
  // Concats whose inputs extend one another one shared buffer, each
  // copying only its new inputs (DenseNet). Default false.
  virtual bool ConcatenatesChannels(const KernelState* /*state*/) const {
    return false;
  }

  // True when the kernel is done with constant input `index` once built:
  // what it still needs (a oneDNN op holding its own reference to the
  // weights until it packed them, a copied bias, the shape) it kept itself,
  // and neither Plan nor Run reads that input, so the program drops the
  // step's reference to it (Plan and Run get null there) and frees the
  // constant when no other reader needs it. Default false.
  virtual bool ReleasesConstantInput(size_t /*index*/) const { return false; }
};

// Everything a kernel factory may read about its node.
class KernelBuildContext {
 public:
  struct Options {
    // Back Conv, ConvTranspose, Gemm, MatMul, pooling and BN with the scalar
    // references of ops/ref instead of the optimized ops.
    bool reference_kernels = false;
    ops::BatchNormImpl batch_norm_impl = ops::BatchNormImpl::kAuto;
    // When set, oneDNN convolutions read and write this layout instead of
    // the one oneDNN prefers (SessionOptions::layouts, for tests and
    // measurements).
    std::optional<ops::Layout> conv_layout;
    // Let 3x3 convolutions pick Winograd where it is measured faster
    // (ops::ConvAttributes::winograd).
    bool winograd = false;
    // The thread count the session runs with (>= 1), for choices timed
    // while planning.
    int threads = 1;
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
  // The activation (ReLU, Clip, Sigmoid, Swish) of the node(s) that used to
  // follow this one, which the kernel must apply to its output. Only ops for
  // which KernelFusesActivation(op, kind) is true get one. The exception is
  // Sigmoid, which gets kSwish when the Mul(x, Sigmoid(x)) after it was
  // fused into it: it computes x * sigmoid(x) instead.
  const ops::Activation& fused_activation() const { return fused_activation_; }
  // A Conv with a residual Add fused into it: the step has a fourth input,
  // the Add's other operand r, and computes act(conv(x) + r). Only Conv
  // gets one (KernelFusesResidualAdd).
  bool fused_residual() const { return fused_residual_; }
  void set_fused_residual(bool fused) { fused_residual_ = fused; }

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
  bool fused_residual_ = false;
};

// Builds the kernel for ctx.node() from its registration
// (runtime/op_registry.h): the first implementation in the op's list that
// accepts the node. Throws UnsupportedError (node and op in the context) for
// an op outside the registry or an attribute value no implementation runs,
// InvalidArgumentError for malformed attributes; an error raised without a
// node keeps its type and gets this node.
std::unique_ptr<Kernel> CreateKernel(const KernelBuildContext& ctx);

// Reshape -> Transpose -> Reshape as one step (ShuffleNet's channel
// shuffle): inputs (x, shape1, shape2), the result of the three. On a
// channels-last x whose reshapes split C into (g, C / g) and merge it back
// with the two swapped, it permutes each pixel's channels in place of three
// ops and two layout conversions; otherwise one strided copy in NCHW.
// `first` and `second` are the contexts of the two Reshape nodes.
std::unique_ptr<Kernel> CreateReshapeTransposeReshape(
    const KernelBuildContext& first, const graph::Node& transpose,
    const KernelBuildContext& second);

// The op types with a kernel in the registry (default ONNX domain), sorted.
std::vector<std::string> SupportedOps();

// Whether the op's kernel applies a fused activation of this kind: Conv,
// ConvTranspose, Gemm and MatMul every kind (a oneDNN post-op, or
// ApplyActivation on the reference path); BatchNormalization ReLU and Clip
// (ops::BatchNormSupportsActivation). (A Sigmoid absorbing the Mul after it
// is not an activation applied to its output: see fused_activation().)
bool KernelFusesActivation(const std::string& op_type,
                           ops::Activation::Kind kind);

// The single-node activations the session may fold into the preceding op:
// Relu, Clip with constant bounds, and Sigmoid. Returns the activation, or
// false. (Swish is a Sigmoid plus a Mul; the session matches that pair.)
bool FusibleActivation(const graph::Node& node, int64_t opset,
                       const std::vector<const Tensor*>& constants,
                       ops::Activation* activation);

}  // namespace foldrt::runtime

#endif  // FOLDRT_RUNTIME_KERNELS_KERNEL_H_
