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

#include "core/tensor.h"
#include "graph/graph.h"
#include "graph/tensor.h"
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

// The first `samples` entries along axis 0 of a float tensor.
Tensor FirstSamples(const Tensor& t, int64_t samples);

// x[n, c, w] = 100 n + 10 c + w, shape (2, 3, 4).
Tensor NumberedInput();
// The outputs of Slice (starts -1, 1; ends -100, 100; axes 1, 2; steps -2,
// 2) -> sliced, Split (axis 2, sizes 1, 3) -> first, rest, Pad (pads
// 0 1 0 0 0 2, constant -7 within `pad_tolerance`) -> padded, reflect Pad
// -> reflected and ReduceMean (axes 0, 2 without keepdims -> mean; axis -1
// -> mean_last) on NumberedInput(): the known values the session and the
// reference evaluator tests both check.
void ExpectSliceSplitPadMeanValues(const std::map<std::string, Tensor>& out,
                                   double pad_tolerance);

// ------------------------------------------------ hand-built graphs

// Dims of a declared shape: -1 is the symbolic "N".
std::vector<graph::Dim> Dims(const std::vector<int64_t>& dims);
// A float32 value declared with `dims`.
graph::ValueInfo FloatValue(const std::string& name,
                            std::vector<graph::Dim> dims);
// A float32 output whose shape the model does not declare.
graph::ValueInfo UntypedOutput(const std::string& name);
// The model of `g`, importing ai.onnx `opset`, named "hand_built.onnx".
graph::Model ModelOf(graph::Graph g, int64_t opset = 13);
// A model with input x of `x_dims` (-1 = symbolic N), one node, output y.
graph::Model OneNodeModel(graph::Node node, const std::vector<int64_t>& x_dims,
                          std::vector<graph::Tensor> initializers = {},
                          int64_t opset = 13);
// start, start + step, ... (`count` values).
std::vector<float> Iota(size_t count, float start = 0.0f, float step = 1.0f);
// A Cast node from `x` to `y` with element type `to`.
graph::Node CastNode(const std::string& name, const std::string& x,
                     const std::string& y, graph::DataType to);
// x.view(x.size(0), -1) as exporters write it, reading `x`: Shape ->
// Gather(0) -> Unsqueeze -> Concat with [-1] (the int64 `target`) ->
// Reshape (`flat`), with the initializers zero, minus_one and axes.
void AddBatchFlatten(graph::Graph* g, const std::string& x,
                     const std::string& target, const std::string& flat);

// A hand-built float graph, fluent: the tests derive their own builders
// (Derived adds the node helpers they need) from this CRTP base.
template <class Derived>
class GraphBuilderBase {
 public:
  // A float32 graph input; -1 dims are the symbolic "N".
  Derived& Input(const std::string& name, const std::vector<int64_t>& dims) {
    graph_.mutable_inputs()->push_back(FloatValue(name, Dims(dims)));
    return self();
  }
  Derived& Output(const std::string& name) {
    graph_.mutable_outputs()->push_back(UntypedOutput(name));
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
    graph::Model model = ModelOf(std::move(graph_));
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

// `got` has exactly the outputs of `want`, each with its shape: int64 ones
// equal, float ones with |got - want| <= tolerance * (1 + |want|). One
// failure per output (the first element off, and how many are), so that a
// wrong kernel does not bury the log.
void ExpectOutputsMatch(const std::map<std::string, Tensor>& got,
                        const std::map<std::string, Tensor>& want,
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
