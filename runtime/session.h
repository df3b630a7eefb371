// foldrt::runtime::Session: whole-model inference on the CPU.
//
//   auto session = foldrt::runtime::Session::Load("model.onnx");
//   std::map<std::string, foldrt::Tensor> outputs =
//       session->Run({{"input", foldrt::Tensor::FromFloats(shape, data)}});
//
// Load imports the ONNX model, folds BatchNormalization with the same pass
// list `foldrt fold` runs (graph/passes/batch_norm_fold.h), and builds one
// kernel per node (oneDNN Conv/ConvTranspose/Gemm/MatMul/pooling through
// ops/, the Highway/oneDNN standalone BN for BNs that did not fold, plain
// loops for the cheap ops; a ReLU/Clip after Conv, ConvTranspose, Gemm,
// MatMul or BN is fused into it, so are a Sigmoid or SiLU (Sigmoid -> Mul)
// after the first four, and a residual Add (+ activation) after a Conv). Every
// node is checked at load: an op, attribute value or constant the runtime
// cannot run throws UnsupportedError naming the node and op before any input
// arrives.
//
// The session is immutable afterwards. Run may be called from several
// threads at once; each run plans its input-shape signature once (cached),
// and gets one activation arena whose offsets come from value lifetimes.
// A symbolic dim (the batch) takes any size, consistently across inputs.
#ifndef FOLDRT_RUNTIME_SESSION_H_
#define FOLDRT_RUNTIME_SESSION_H_

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/tensor.h"
#include "graph/graph.h"
#include "graph/passes/fold_report.h"
#include "ops/batch_norm.h"

namespace foldrt::runtime {

struct SessionOptions {
  // Threads each Run uses: 0 = every core OpenMP sees, n > 0 = exactly n.
  int threads = 0;
  // Fold BatchNormalization into neighbouring ops at load (as `foldrt fold`
  // does). Off: every BN runs standalone.
  bool fold = true;
  // The standalone BN implementation (FOLDRT_KERNEL=hwy|onednn|ref
  // overrides it, see ops/batch_norm.h).
  ops::BatchNormImpl bn_kernel = ops::BatchNormImpl::kAuto;
  // Run Conv, ConvTranspose, Gemm, MatMul, pooling and BN on the scalar
  // references of ops/ref (double accumulation; slow; the ground truth).
  // FOLDRT_KERNEL=ref turns it on too.
  bool reference_kernels = false;
  // How activations are laid out between ops. kAuto: each convolution
  // writes the layout oneDNN prefers (nhwc for its AVX-512 brgemm kernels,
  // nChw8c / nChw16c for its AVX2 / AVX-512 direct ones) and the ops that
  // can read it (BN, activations, Add/Mul, pooling, Concat, Split) keep it;
  // conversions run only where an op needs NCHW. kPlain converts every
  // result back to NCHW right away (what foldrt did before layouts were
  // propagated). kNhwc, kNChw8c, kNChw16c make every convolution use that
  // layout, whatever oneDNN prefers, so that each path can be tested and
  // measured on any machine. FOLDRT_LAYOUTS=auto|plain|nhwc|nChw8c|nChw16c
  // overrides it.
  enum class Layouts { kAuto, kPlain, kNhwc, kNChw8c, kNChw16c };
  Layouts layouts = Layouts::kAuto;
  // Let each 3x3 stride-1 convolution run oneDNN's Winograd algorithm where
  // the CPU has it (AVX-512 in oneDNN 2.6) and it was at least 10 % faster
  // than the direct one when timed on its shape (once per problem and
  // process, when the shape is first planned). It rounds differently:
  // relative L2 error vs torch ~6e-7 instead of ~3e-7 on the torchvision
  // models. FOLDRT_WINOGRAD=0|1 overrides it.
  bool winograd = true;
  // Bounds that turn a hostile or corrupt model into an error naming the
  // file or tensor instead of an allocation failure. The model file plus
  // its external data, in bytes (checked while loading):
  uint64_t max_model_bytes = uint64_t{4} << 30;
  // Elements of any one tensor: initializers (checked at load), and every
  // value an input-shape signature gives, inputs included (checked when
  // the signature is planned, before a run allocates anything: at load for
  // a model without symbolic dims, else in Run; InvalidArgumentError).
  int64_t max_tensor_elements = int64_t{1} << 31;
};

// One dimension of a declared shape.
struct Dimension {
  int64_t value = -1;  // >= 0 when the size is fixed
  std::string symbol;  // a symbolic dim ("N", "batch") when value < 0
  bool known() const { return value >= 0; }
  bool symbolic() const { return value < 0 && !symbol.empty(); }
  // "3", "N", or "?" for a dim that is neither fixed nor named.
  std::string ToString() const;
};

// A graph input or output as the model declares it.
struct ValueInfo {
  std::string name;
  DataType dtype = DataType::kFloat32;
  // nullopt when the model does not declare the rank.
  std::optional<std::vector<Dimension>> shape;
  // "(N, 3, 224, 224)", or "(unknown rank)".
  std::string ShapeString() const;
};

// Throws InvalidArgumentError "'x' is not an input of the model (its
// inputs: 'a', 'b')" unless `name` is one of `values` (`role`: "input" or
// "output"), with `context`. Run checks its inputs so; the Python module
// checks the output names it is asked for.
void CheckValueName(const std::string& name,
                    const std::vector<ValueInfo>& values,
                    const std::string& role, const ErrorContext& context);

struct Program;
struct Plan;

class Session {
 public:
  // From an .onnx file (external data resolved next to it). Throws IoError,
  // FormatError (malformed model), UnsupportedError (node and op named for
  // what the runtime cannot run; a model or tensor over the options'
  // limits), InvalidArgumentError (bad options, inconsistent constants).
  static std::unique_ptr<Session> Load(const std::string& path,
                                       SessionOptions options = {});
  // From a serialized ModelProto in memory (no external data).
  static std::unique_ptr<Session> FromBytes(const void* data, size_t size,
                                            SessionOptions options = {});
  // From an imported (or built) model; the session folds its own copy.
  static std::unique_ptr<Session> FromModel(graph::Model model,
                                            SessionOptions options = {});

  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  // The inputs Run expects, in the model's order.
  const std::vector<ValueInfo>& inputs() const { return inputs_; }
  // The outputs Run returns, in the model's order.
  const std::vector<ValueInfo>& outputs() const { return outputs_; }
  // Where each BatchNormalization went at load, or why it stayed; empty
  // when SessionOptions::fold is off.
  const graph::FoldReport& fold_report() const { return fold_report_; }
  const SessionOptions& options() const { return options_; }
  // The thread count Run uses (options().threads resolved).
  int threads() const { return threads_; }
  // The model file (or the name given to FromBytes).
  const std::string& source() const { return source_; }

  // Computes every graph output. `inputs` holds exactly the graph inputs,
  // by name, each of the declared dtype and rank, every fixed dim as
  // declared and each symbolic dim one size across all inputs; otherwise
  // throws InvalidArgumentError (nothing is computed). Thread-safe.
  std::map<std::string, Tensor> Run(
      const std::map<std::string, Tensor>& inputs) const;

 private:
  Session(graph::Model model, SessionOptions options);
  std::shared_ptr<const Plan> PlanFor(
      const std::vector<std::vector<int64_t>>& shapes) const;

  SessionOptions options_;
  int threads_ = 1;
  std::string source_;
  graph::FoldReport fold_report_;
  std::vector<ValueInfo> inputs_;
  std::vector<ValueInfo> outputs_;
  std::unique_ptr<const Program> program_;

  // One plan per input-shape signature, built on first use.
  mutable std::mutex plans_mutex_;
  mutable std::map<std::vector<int64_t>, std::shared_ptr<const Plan>> plans_;
};

}  // namespace foldrt::runtime

#endif  // FOLDRT_RUNTIME_SESSION_H_
