// The op registry: every op foldrt runs is registered once (default ONNX
// domain, op type, opset range), and the two sides that implement it
// register against that one entry:
//  - the runtime's kernels (runtime/kernels/*.cc, one Register<Family>Kernels
//    per op family, named in op_registry.cc's list): an ordered list of
//    implementations, the first whose factory accepts the node wins (as oneDNN
//    picks among its implementations);
//  - the reference (runtime/reference/*.cc, one Register*References per op
//    family), which the reference evaluator (runtime/reference_evaluator.h)
//    runs: the plain-loop implementation that tests and `foldrt fold
//    --verify` compare against.
// What both read from a node (attribute defaults and checks, output-shape
// rules) lives in runtime/op_attributes.h, so the two cannot disagree on it.
//
// tests/runtime/op_registry_test.cc fails when an op has kernels but no
// reference or the other way round. docs/design.md, "Adding an op", lists
// the steps.
#ifndef FOLDRT_RUNTIME_OP_REGISTRY_H_
#define FOLDRT_RUNTIME_OP_REGISTRY_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "graph/onnx_io.h"
#include "ops/activation.h"

namespace foldrt::runtime {

class Kernel;
class KernelBuildContext;
namespace reference {
// What a reference reads and writes (runtime/reference/reference_ops.h).
class NodeContext;
}  // namespace reference

// Builds a kernel for ctx.node(), or returns null to decline it (the next
// implementation in the list is tried). Throws for a node no implementation
// can run (a bad attribute, an unsupported value).
using KernelFactory = std::unique_ptr<Kernel> (*)(const KernelBuildContext&);
using ReferenceFunction = void (*)(const reference::NodeContext&);

struct KernelImplementation {
  std::string name;  // "default", "zero_pad", ...: for messages and tests
  KernelFactory factory = nullptr;
};

struct OpRegistration {
  std::string op_type;
  // The ai.onnx opsets this registration covers (both ends included).
  int64_t min_opset = graph::kMinOpsetVersion;
  int64_t max_opset = graph::kMaxOpsetVersion;
  // Tried in this order; the first factory that returns a kernel wins. The
  // order comes from benchmarks (docs/performance.md): a specialised
  // implementation that is faster where it applies goes first and declines
  // elsewhere.
  std::vector<KernelImplementation> kernels;
  ReferenceFunction reference = nullptr;
  // Which activations the kernels apply as a fused epilogue (the runtime's
  // activation fusion asks). Null: none.
  bool (*fuses_activation)(ops::Activation::Kind kind) = nullptr;
};

class OpRegistry {
 public:
  // The registry of every op family's kernels and references, built on
  // first use (thread-safe) and immutable afterwards.
  static const OpRegistry& Get();

  // The registration of a default-domain op type, or null.
  const OpRegistration* Find(const std::string& op_type) const;
  // Every registered op type, sorted.
  std::vector<std::string> OpTypes() const;

  // Registration, for the Register* functions below: the entry of
  // `op_type`, created on first use.
  OpRegistration& Op(const std::string& op_type);
  // Appends an implementation to the op's kernel list.
  OpRegistration& AddKernel(const std::string& op_type,
                            const std::string& implementation,
                            KernelFactory factory);
  // Sets the op's reference; registering two is an error (std::logic_error).
  void SetReference(const std::string& op_type, ReferenceFunction reference);

 private:
  std::map<std::string, OpRegistration> ops_;
};

// The references of every family (runtime/reference/reference_ops.cc, which
// calls one Register*References per family file in runtime/reference/).
// The kernel families' Register<Family>Kernels are listed in op_registry.cc.
void RegisterReferences(OpRegistry* registry);

}  // namespace foldrt::runtime

#endif  // FOLDRT_RUNTIME_OP_REGISTRY_H_
