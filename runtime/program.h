// Internal to the runtime: what a Session is made of, in three phases, each
// in a file of its own.
//
//  - Program (runtime/compile.cc): the model compiled once at load. One
//    kernel per remaining node in topological order, nodes whose inputs are
//    all constant evaluated at load, nodes no graph output depends on
//    dropped (but still checked). The runtime fusions (runtime/fusions/,
//    in the order of fusion_list.cc) make one step of several nodes:
//    activations and a Conv's residual Add fused into the op before them,
//    Sigmoid -> Mul as one Swish, a channel shuffle as one permutation.
//  - Plan (runtime/plan.cc, runtime/shared_concats.cc): the program
//    specialized to one input-shape signature: every value's shape, values
//    computable from shapes alone (Shape -> Gather -> Concat -> Reshape
//    chains) computed, views (Reshape, Flatten, ...) made to share their
//    input's buffer, the layout of every activation (with conversions where
//    a reader needs another), and the arena offsets of the rest.
//  - Execute (runtime/execute.cc): one run of a plan on the caller's
//    inputs, timed per step when profiling is on (runtime/profile.cc).
#ifndef FOLDRT_RUNTIME_PROGRAM_H_
#define FOLDRT_RUNTIME_PROGRAM_H_

#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/tensor.h"
#include "graph/graph.h"
#include "ops/layout.h"
#include "ops/layout_reorder.h"
#include "runtime/kernels/kernel.h"

namespace foldrt::runtime {

// A process-wide counter for Program::id.
uint64_t NewProgramId();

struct ProgramValue {
  std::string name;
  DataType dtype = DataType::kFloat32;  // static: known at load
  // A load-time constant. Null again for one the compiler released:
  // every step reading it let go of it (Kernel::ReleasesConstantInput) and
  // reads -1 in its place, so no plan sees the value.
  const Tensor* constant = nullptr;
  int graph_input = -1;  // index into Program::input_values
};

struct ProgramStep {
  std::string node;  // label for messages
  std::string op;    // "Conv", or "Conv+Relu" when an activation was fused
  std::unique_ptr<Kernel> kernel;
  // Value ids; -1 for an absent optional input or a constant the kernel
  // let go of (Kernel::ReleasesConstantInput).
  std::vector<int> inputs;
  std::vector<int> outputs;  // value ids, -1 for an omitted output
};

struct Program {
  std::string source;  // the model file, for messages
  // Unique in the process (unlike the address or the file name), so that
  // the profiler never merges two programs.
  uint64_t id = NewProgramId();
  std::vector<ProgramValue> values;
  // What ProgramValue::constant points to; empty tensors where the
  // compiler released a constant.
  std::deque<Tensor> constants;
  std::vector<int> input_values;
  std::vector<std::string> output_names;
  std::vector<int> output_values;
  std::vector<ProgramStep> steps;
  size_t fused_activations = 0;  // epilogue fusions (runtime/fusions/)
  size_t folded_constants = 0;   // nodes evaluated at load
};

struct CompileOptions {
  KernelBuildContext::Options kernels;
  int threads = 1;  // for evaluating constant nodes
  // Nodes whose inputs are all constant are computed at compile time: their
  // outputs are bounded like every other tensor, so that a small hostile
  // model cannot make the load allocate gigabytes (broadcasting two
  // constants, say).
  int64_t max_tensor_elements = int64_t{1} << 31;
};

// Compiles the model's main graph (default-domain ops, the model's opset).
// Throws UnsupportedError naming node and op for any node the runtime
// cannot run (op, attribute value, dtype of a constant), whether or not an
// output depends on it; InvalidArgumentError / FormatError for malformed
// nodes; UnsupportedError for graph inputs that are not float32 / int64.
std::unique_ptr<Program> CompileProgram(const graph::Model& model,
                                        const CompileOptions& options);

struct PlannedValue {
  enum class Kind {
    kUnset,   // not computed by this plan
    kKnown,   // a constant, or computed while planning
    kInput,   // the caller's input tensor
    kArena,   // a slice of the run's arena
    kOutput,  // a graph output: its own buffer, handed to the caller
    kAlias,   // the buffer of value `index`: a view op's input, or the
              // Concat that extends this one (see Plan::shared_concats)
  };
  Kind kind = Kind::kUnset;
  DataType dtype = DataType::kFloat32;
  std::vector<int64_t> shape;
  const Tensor* known = nullptr;  // kKnown
  int index = -1;                 // kInput: input; kOutput: output buffer;
                                  // kAlias: value id (never itself an alias)
  size_t offset = 0;              // kArena
  // How the buffer is laid out: blocked (ops/layout.h) only for kArena
  // activations that layout-aware kernels write and read.
  ops::Layout layout = ops::Layout::kNchw;
  // A kAlias that is channels [0, C) of its buffer where those are not one
  // contiguous run: the buffer's channel count (PlanInput::buffer_channels
  // of its readers). 0 otherwise.
  int64_t buffer_channels = 0;
};

// A Concat step writing into a buffer shared with the Concats that extend
// it: input k goes to channels [channel_offsets[k], +C_k) of the buffer
// behind outputs[0], which holds buffer_channels channels in `layout`.
// Inputs an earlier Concat of the chain already copied are not read.
struct SharedConcatCopy {
  ops::Layout layout = ops::Layout::kNchw;
  int64_t buffer_channels = 0;
  std::vector<int64_t> channel_offsets;  // one per PlannedStep input
};

struct PlannedStep {
  int step = 0;  // index into Program::steps; kConversion for a reorder
  // Value ids the step reads and writes: the program step's, except where
  // an input is read from its converted copy or an output goes through a
  // blocked temporary first.
  std::vector<int> inputs;
  std::vector<int> outputs;
  std::unique_ptr<const KernelState> state;
  // kConversion: inputs[0] in one layout -> outputs[0] in another.
  std::shared_ptr<const ops::LayoutReorder> reorder;
  // Set for a Concat in a shared buffer: run this copy instead of the
  // kernel.
  std::unique_ptr<const SharedConcatCopy> shared_concat;
};

// Activation arenas of one plan, kept between runs: a run takes one (or
// allocates one when all are in use by concurrent runs) and gives it back,
// so that after the first run of a plan Run allocates nothing but the
// outputs it hands to the caller. Holds at most one arena per run that was
// ever in flight at once.
class ArenaPool {
 public:
  explicit ArenaPool(size_t bytes) : bytes_(bytes) {}
  ~ArenaPool();
  ArenaPool(const ArenaPool&) = delete;
  ArenaPool& operator=(const ArenaPool&) = delete;

  // kArenaAlignment-aligned, `bytes` long (null when bytes is 0); its
  // contents are whatever the previous run left.
  char* Take();
  void Give(char* arena);

 private:
  size_t bytes_;
  std::mutex mu_;
  std::vector<char*> free_;
};

// PlannedStep::step of the layout conversions the planner inserts.
inline constexpr int kConversion = -1;

struct Plan {
  // By value id: the program's values, then the converted copies and
  // blocked temporaries the planner added.
  std::vector<PlannedValue> values;
  std::vector<PlannedStep> steps;   // the steps that run, in order
  std::deque<Tensor> known_values;  // computed while planning
  size_t arena_bytes = 0;
  std::unique_ptr<ArenaPool> arenas;  // of arena_bytes each
  std::vector<int> output_buffers;    // value id per kOutput buffer
  size_t layout_conversions = 0;      // kConversion steps
  // Concats that write into the buffer of a later Concat whose inputs
  // begin with theirs (DenseNet's growing feature maps): each copies only
  // the inputs the one before it did not, so a dense block moves every
  // feature map once instead of once per later layer.
  size_t shared_concats = 0;
};

struct PlanOptions {
  int threads = 1;
  // Let layout-aware kernels hand activations on in the layouts oneDNN's
  // convolutions prefer (nhwc, nChw8c, nChw16c). When false
  // (SessionOptions::Layouts::kPlain), every such output is converted back
  // to NCHW right after its step, as the runtime did before layouts were
  // propagated.
  bool blocked_layouts = true;
};

// Plans `program` for graph inputs of these shapes (one per input, in
// order; dtypes were checked by the caller). Throws the kernels' errors
// with node, op and file.
std::unique_ptr<const Plan> BuildPlan(
    const Program& program,
    const std::vector<std::vector<int64_t>>& input_shapes,
    const PlanOptions& options);

// Runs `plan` on `inputs` (one per graph input, in order, matching the
// plan's signature) and returns every graph output by name.
std::map<std::string, Tensor> ExecutePlan(
    const Program& program, const Plan& plan,
    const std::vector<const Tensor*>& inputs, int threads);

// ------------------------------------------------------ profiling
//
// Per-step wall time of ExecutePlan, to see where a model's run time goes
// (FOLDRT_PROFILE=1, `foldrt bench --profile`). Process-wide because the
// switch is an environment variable and the report is printed at exit; when
// off, a run pays one relaxed atomic load. Steps run by several plans (batch
// sizes) of one program accumulate together.

struct StepProfile {
  std::string node;
  std::string op;  // ProgramStep::op: "Conv+Relu" when an activation fused
  int64_t calls = 0;
  double seconds = 0;
};

struct ProgramProfile {
  std::string source;
  int64_t runs = 0;
  // Whole ExecutePlan calls: the steps plus arena and output allocation,
  // tensor views and returning the outputs.
  double seconds = 0;
  std::vector<StepProfile> steps;  // the steps that ran, in program order
};

// Turns collection on or off. FOLDRT_PROFILE=1 (read at the first run)
// turns it on and prints FormatProfile of every program to stderr at exit.
void SetProfiling(bool on);
bool ProfilingEnabled();
// What was collected since the last ResetProfile, per program in the order
// they first ran.
std::vector<ProgramProfile> ProfileSnapshot();
void ResetProfile();
// A text report: ms per run by op label, then the `top_nodes` slowest
// steps.
std::string FormatProfile(const ProgramProfile& profile, size_t top_nodes);

}  // namespace foldrt::runtime

#endif  // FOLDRT_RUNTIME_PROGRAM_H_
