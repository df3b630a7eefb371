#include "tests/runtime/session_test_util.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <utility>

namespace foldrt::testing {

using runtime::Session;
using runtime::SessionOptions;

std::vector<graph::Dim> Dims(const std::vector<int64_t>& dims) {
  std::vector<graph::Dim> out;
  for (int64_t d : dims) {
    out.push_back(d < 0 ? graph::Dim::Symbolic("N") : graph::Dim::Known(d));
  }
  return out;
}

graph::ValueInfo FloatValue(const std::string& name,
                            std::vector<graph::Dim> dims) {
  return graph::ValueInfo::ForTensor(name, graph::DataType::kFloat,
                                     std::move(dims));
}

graph::ValueInfo UntypedOutput(const std::string& name) {
  return graph::ValueInfo::ForTensor(name, graph::DataType::kFloat,
                                     std::nullopt);
}

graph::Model ModelOf(graph::Graph g, int64_t opset) {
  graph::Model model;
  model.opset_imports.push_back({"", opset});
  model.graph = std::move(g);
  model.source = "hand_built.onnx";
  return model;
}

graph::Model OneNodeModel(graph::Node node, const std::vector<int64_t>& x_dims,
                          std::vector<graph::Tensor> initializers,
                          int64_t opset) {
  graph::Graph g;
  g.mutable_inputs()->push_back(FloatValue("x", Dims(x_dims)));
  for (graph::Tensor& t : initializers) g.AddInitializer(std::move(t));
  g.AddNode(std::move(node));
  g.mutable_outputs()->push_back(UntypedOutput("y"));
  return ModelOf(std::move(g), opset);
}

std::vector<float> Iota(size_t count, float start, float step) {
  std::vector<float> values(count);
  for (size_t i = 0; i < count; ++i) values[i] = start + step * i;
  return values;
}

graph::Node CastNode(const std::string& name, const std::string& x,
                     const std::string& y, graph::DataType to) {
  graph::Node cast("Cast", {x}, {y}, name);
  cast.SetAttribute(graph::Attribute::Int("to", static_cast<int64_t>(to)));
  return cast;
}

void AddBatchFlatten(graph::Graph* g, const std::string& x,
                     const std::string& target, const std::string& flat) {
  g->AddInitializer(graph::Tensor::FromInt64s("zero", {}, {0}));
  g->AddInitializer(graph::Tensor::FromInt64s("minus_one", {1}, {-1}));
  g->AddInitializer(graph::Tensor::FromInt64s("axes", {1}, {0}));
  g->AddNode(graph::Node("Shape", {x}, {"shape"}, "shape"));
  g->AddNode(graph::Node("Gather", {"shape", "zero"}, {"batch"}, "gather"));
  g->AddNode(
      graph::Node("Unsqueeze", {"batch", "axes"}, {"batch_1d"}, "unsqueeze"));
  graph::Node concat("Concat", {"batch_1d", "minus_one"}, {target}, "concat");
  concat.SetAttribute(graph::Attribute::Int("axis", 0));
  g->AddNode(std::move(concat));
  g->AddNode(graph::Node("Reshape", {x, target}, {flat}, "reshape"));
}

std::vector<SessionVariant> AllSessionVariants() {
  using Layouts = SessionOptions::Layouts;
  return {{false, 1, Layouts::kAuto},   {false, 2, Layouts::kAuto},
          {true, 1, Layouts::kAuto},    {true, 2, Layouts::kAuto},
          {false, 1, Layouts::kNChw8c}, {false, 2, Layouts::kNChw16c},
          {false, 1, Layouts::kNhwc},   {false, 1, Layouts::kPlain}};
}

void ExpectOutputsMatch(const std::map<std::string, Tensor>& got,
                        const std::map<std::string, Tensor>& want,
                        double tolerance) {
  ASSERT_EQ(got.size(), want.size());
  for (const auto& [name, ref] : want) {
    SCOPED_TRACE(name);
    const auto it = got.find(name);
    ASSERT_NE(it, got.end()) << "no output '" << name << "'";
    const Tensor& out = it->second;
    ASSERT_EQ(out.shape(), ref.shape());
    if (ref.dtype() == DataType::kInt64) {
      EXPECT_EQ(out.ToVector<int64_t>(), ref.ToVector<int64_t>());
      continue;
    }
    ASSERT_EQ(out.dtype(), DataType::kFloat32);
    const float* data = out.data<float>();
    const float* want_data = ref.data<float>();
    const size_t count = static_cast<size_t>(ref.NumElements());
    const auto bound = [&](size_t i) {
      return tolerance * (1.0 + std::abs(want_data[i]));
    };
    size_t off = 0;
    size_t first_off = 0;
    for (size_t i = 0; i < count; ++i) {
      // Negated so that a NaN counts as off.
      if (!(std::abs(static_cast<double>(data[i]) - want_data[i]) <=
            bound(i))) {
        if (off++ == 0) first_off = i;
      }
    }
    if (off > 0) {
      EXPECT_NEAR(data[first_off], want_data[first_off], bound(first_off))
          << "element " << first_off << " (" << off << " of " << count
          << " elements off)";
    }
  }
}

void ExpectSessionMatchesReference(const graph::Model& model,
                                   const std::map<std::string, Tensor>& inputs,
                                   const std::vector<SessionVariant>& variants,
                                   double tolerance) {
  const std::map<std::string, Tensor> want =
      runtime::EvaluateReference(model, inputs);
  for (const SessionVariant& variant : variants) {
    SCOPED_TRACE(Describe(variant));
    const std::unique_ptr<Session> session =
        Session::FromModel(model, OptionsOf(variant));
    ExpectOutputsMatch(session->Run(inputs), want, tolerance);
    if (::testing::Test::HasFatalFailure()) return;
  }
}

SessionOptions OptionsOf(const SessionVariant& variant) {
  SessionOptions options;
  options.threads = variant.threads;
  options.reference_kernels = variant.reference_kernels;
  options.layouts = variant.layouts;
  return options;
}

std::string Describe(const SessionVariant& variant) {
  return std::string(variant.reference_kernels ? "reference" : "optimized") +
         " kernels, " + std::to_string(variant.threads) +
         " thread(s), layouts policy " +
         std::to_string(static_cast<int>(variant.layouts));
}

Tensor FirstSamples(const Tensor& t, int64_t samples) {
  std::vector<int64_t> shape = t.shape();
  const int64_t per_sample = t.NumElements() / shape[0];
  shape[0] = samples;
  const float* data = t.data<float>();
  return Tensor::FromFloats(
      shape, std::vector<float>(data, data + samples * per_sample));
}

std::vector<float> SeededValues(size_t count, uint32_t seed, float lo,
                                float hi) {
  std::vector<float> v(count);
  uint32_t state = seed * 2654435761u + 1;
  for (float& f : v) {
    state = state * 1664525u + 1013904223u;
    f = lo + (hi - lo) * static_cast<float>(state >> 8) / 16777216.0f;
  }
  return v;
}

}  // namespace foldrt::testing
