// Session outputs against the scalar reference evaluator, the check the
// runtime tests over hand-built graphs share. Separate from test_models so
// that the CLI tests, which only read the manifest, need not link the
// runtime.
#ifndef FOLDRT_TESTS_RUNTIME_SESSION_TEST_UTIL_H_
#define FOLDRT_TESTS_RUNTIME_SESSION_TEST_UTIL_H_

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "graph/graph.h"
#include "graph/tensor.h"
#include "core/tensor.h"
#include "runtime/reference_evaluator.h"
#include "runtime/session.h"

namespace foldrt::testing {

// One Session configuration to check.
struct SessionVariant {
  bool reference_kernels = false;
  int threads = 1;
  runtime::SessionOptions::Layouts layouts =
      runtime::SessionOptions::Layouts::kAuto;
};

// The Session options a variant stands for.
runtime::SessionOptions OptionsOf(const SessionVariant& variant);
// "optimized kernels, 2 thread(s), layouts policy 1", for traces.
std::string Describe(const SessionVariant& variant);

// `count` deterministic values in [lo, hi) (a linear congruential
// sequence from `seed`): test weights and inputs that differ per seed.
std::vector<float> SeededValues(size_t count, uint32_t seed, float lo,
                                float hi);

// A hand-built float graph, fluent: the tests derive their own builders
// (Derived adds the node helpers they need) from this CRTP base.
template <class Derived>
class GraphBuilderBase {
 public:
  // A float32 graph input; -1 dims are the symbolic "N".
  Derived& Input(const std::string& name, const std::vector<int64_t>& dims) {
    std::vector<graph::Dim> out;
    for (int64_t d : dims) {
      out.push_back(d < 0 ? graph::Dim::Symbolic("N") : graph::Dim::Known(d));
    }
    graph_.mutable_inputs()->push_back(graph::ValueInfo::ForTensor(
        name, graph::DataType::kFloat, std::move(out)));
    return self();
  }
  Derived& Output(const std::string& name) {
    graph_.mutable_outputs()->push_back(graph::ValueInfo::ForTensor(
        name, graph::DataType::kFloat, std::nullopt));
    return self();
  }
  // A float initializer of SeededValues in [lo, hi), a new seed each.
  Derived& Constant(const std::string& name, const std::vector<int64_t>& dims,
                    float lo, float hi) {
    int64_t count = 1;
    for (int64_t d : dims) count *= d;
    graph_.AddInitializer(graph::Tensor::FromFloats(
        name, dims, SeededValues(static_cast<size_t>(count), ++seed_, lo, hi)));
    return self();
  }
  Derived& Int64Constant(const std::string& name,
                         const std::vector<int64_t>& values) {
    graph_.AddInitializer(graph::Tensor::FromInt64s(
        name, {static_cast<int64_t>(values.size())}, values));
    return self();
  }
  Derived& Add(graph::Node node) {
    graph_.AddNode(std::move(node));
    return self();
  }
  // The model (opset 13), named `source` in messages.
  graph::Model Build(const std::string& source) {
    graph::Model model;
    model.opset_imports.push_back({"", 13});
    model.graph = std::move(graph_);
    model.source = source;
    return model;
  }

 private:
  Derived& self() { return static_cast<Derived&>(*this); }
  graph::Graph graph_;
  uint32_t seed_ = 0;
};

// Optimized and reference kernels on 1 and 2 threads, and the optimized
// ones with every forced activation layout.
std::vector<SessionVariant> AllSessionVariants();

// The reference evaluator's outputs for the float tensors `inputs`.
std::map<std::string, runtime::RefTensor> ReferenceOutputs(
    const graph::Model& model, const std::map<std::string, Tensor>& inputs);

// `got` has exactly the outputs of `want`, each with its shape: int64 ones
// equal, float ones with |got - want| <= tolerance * (1 + |want|). One
// failure per output (the first element off, and how many are), so that a
// wrong kernel does not bury the log.
void ExpectOutputsMatch(const std::map<std::string, Tensor>& got,
                        const std::map<std::string, runtime::RefTensor>& want,
                        double tolerance);

// For each variant, a Session on `model` run on `inputs` and its outputs
// checked against the reference evaluator's with ExpectOutputsMatch. Stops
// at the first variant with a fatal failure (an output missing or
// misshapen).
void ExpectSessionMatchesReference(
    const graph::Model& model, const std::map<std::string, Tensor>& inputs,
    const std::vector<SessionVariant>& variants = AllSessionVariants(),
    double tolerance = 1e-5);

}  // namespace foldrt::testing

#endif  // FOLDRT_TESTS_RUNTIME_SESSION_TEST_UTIL_H_
