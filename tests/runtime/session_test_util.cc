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

Tensor NumberedInput() {
  std::vector<float> values;
  for (int n = 0; n < 2; ++n) {
    for (int c = 0; c < 3; ++c) {
      for (int w = 0; w < 4; ++w) values.push_back(100 * n + 10 * c + w);
    }
  }
  return Tensor::FromFloats({2, 3, 4}, values);
}

void ExpectSliceSplitPadMeanValues(const std::map<std::string, Tensor>& out,
                                   double pad_tolerance) {
  // Channels 2, 0 (step -2 from the last), columns 1, 3.
  EXPECT_EQ(out.at("sliced").shape(), (std::vector<int64_t>{2, 2, 2}));
  EXPECT_EQ(out.at("sliced").ToVector<float>(),
            (std::vector<float>{21, 23, 1, 3, 121, 123, 101, 103}));
  EXPECT_EQ(out.at("first").shape(), (std::vector<int64_t>{2, 3, 1}));
  EXPECT_EQ(out.at("first").ToVector<float>(),
            (std::vector<float>{0, 10, 20, 100, 110, 120}));
  EXPECT_EQ(out.at("rest").shape(), (std::vector<int64_t>{2, 3, 3}));
  EXPECT_EQ(out.at("rest").ToVector<float>()[3], 11.0f);
  // Pad: one channel before, two columns after.
  const Tensor& padded = out.at("padded");
  EXPECT_EQ(padded.shape(), (std::vector<int64_t>{2, 4, 6}));
  const std::vector<float> p = padded.ToVector<float>();
  EXPECT_NEAR(p[0], -7.0f, pad_tolerance);          // the new channel
  EXPECT_EQ(p[1 * 6 + 0], 0.0f);                    // x[0, 0, 0]
  EXPECT_NEAR(p[1 * 6 + 4], -7.0f, pad_tolerance);  // right padding
  EXPECT_EQ(p[24 + 3 * 6 + 3], 123.0f);             // x[1, 2, 3]
  const std::vector<float> r = out.at("reflected").ToVector<float>();
  EXPECT_EQ(r[0 * 6 + 0], 10.0f);  // the new channel mirrors channel 1
  EXPECT_EQ(r[1 * 6 + 4], 2.0f);   // columns ... 2, 3 | 2, 1
  EXPECT_EQ(r[1 * 6 + 5], 1.0f);
  // Mean over n and w of 100 n + 10 c + w: 50 + 10 c + 1.5.
  EXPECT_EQ(out.at("mean").shape(), (std::vector<int64_t>{3}));
  EXPECT_EQ(out.at("mean").ToVector<float>(),
            (std::vector<float>{51.5f, 61.5f, 71.5f}));
  EXPECT_EQ(out.at("mean_last").shape(), (std::vector<int64_t>{2, 3, 1}));
  EXPECT_EQ(out.at("mean_last").ToVector<float>()[4], 111.5f);
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
