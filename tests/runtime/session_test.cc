// Session end to end: every PyTorch export in tests/data against torch's
// reference outputs (folded and unfolded, oneDNN and reference kernels,
// batch 3 and 1, 1 and 2 threads), concurrent runs, and hand-built graphs
// for the ops, errors and shape logic the exports do not reach (compared
// with the scalar reference evaluator where it implements the op).
#include "runtime/session.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <limits>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "graph/graph.h"
#include "graph/onnx_io.h"
#include "graph/passes/fold_report.h"
#include "graph/tensor.h"
#include "core/error.h"
#include "core/npy.h"
#include "core/tensor.h"
#include "runtime/kernels/kernel.h"
#include "runtime/program.h"
#include "tests/runtime/session_test_util.h"
#include "tests/runtime/test_models.h"

namespace foldrt::runtime {
namespace {

using foldrt::testing::Compare;
using foldrt::testing::Deviation;
using foldrt::testing::ExpectSessionMatchesReference;
using foldrt::testing::ManifestModel;
using foldrt::testing::ReadManifest;
using foldrt::testing::SessionVariant;
using foldrt::testing::TestDataPath;
using foldrt::testing::WithinTolerance;
using graph::Attribute;
using graph::Dim;
using graph::Node;
using Layouts = SessionOptions::Layouts;

Tensor ReadInput(const std::string& file) {
  const NpyArrayF32 array = ReadNpyF32(TestDataPath(file));
  return Tensor::FromFloats(array.shape, array.data);
}

// The first `samples` entries along axis 0.
Tensor FirstSamples(const Tensor& t, int64_t samples) {
  std::vector<int64_t> shape = t.shape();
  const int64_t per_sample = t.NumElements() / shape[0];
  shape[0] = samples;
  const float* data = t.data<float>();
  return Tensor::FromFloats(
      shape, std::vector<float>(data, data + samples * per_sample));
}

// Batch `samples` by repeating t's samples cyclically.
Tensor TiledSamples(const Tensor& t, int64_t samples) {
  std::vector<int64_t> shape = t.shape();
  const int64_t per_sample = t.NumElements() / shape[0];
  std::vector<float> values;
  for (int64_t s = 0; s < samples; ++s) {
    const float* src = t.data<float>() + (s % shape[0]) * per_sample;
    values.insert(values.end(), src, src + per_sample);
  }
  shape[0] = samples;
  return Tensor::FromFloats(shape, values);
}

struct Variant {
  bool fold;
  int threads;
  bool reference_kernels;
  Layouts layouts = Layouts::kAuto;
  std::string Name() const {
    static const char* const kLayoutNames[] = {"auto", "plain", "nhwc",
                                               "nChw8c", "nChw16c"};
    return std::string(fold ? "folded" : "unfolded") + ", " +
           std::to_string(threads) + " thread(s)" +
           (reference_kernels ? ", reference kernels" : "") + ", layouts " +
           kLayoutNames[static_cast<int>(layouts)];
  }
};

TEST(SessionModelsTest, EveryManifestModelMatchesTorch) {
  const std::vector<ManifestModel> models = ReadManifest();
  ASSERT_EQ(models.size(), 22u);
  // Every activation layout on every machine: oneDNN's preference differs
  // by ISA (nhwc on AVX-512, nChw8c on AVX2), and the layouts it does not
  // pick here must work where it does.
  const std::vector<Variant> variants = {
      {true, 1, false},
      {true, 2, false},
      {false, 1, false},
      {false, 2, false},
      {true, 1, true},
      {false, 1, true},
      {true, 1, false, Layouts::kPlain},
      {true, 2, false, Layouts::kNhwc},
      {false, 1, false, Layouts::kNChw8c},
      {true, 1, false, Layouts::kNChw8c},
      {true, 2, false, Layouts::kNChw16c},
  };
  for (const ManifestModel& m : models) {
    SCOPED_TRACE(m.name);
    std::map<std::string, Tensor> batch3;
    std::map<std::string, Tensor> batch1;
    for (size_t i = 0; i < m.input_names.size(); ++i) {
      const Tensor input = ReadInput(m.input_files[i]);
      ASSERT_EQ(input.shape()[0], 3);
      batch3[m.input_names[i]] = input;
      batch1[m.input_names[i]] = FirstSamples(input, 1);
    }
    double worst_l2 = 0;
    double worst_abs_ratio = 0;
    for (const Variant& variant : variants) {
      SCOPED_TRACE(variant.Name());
      SessionOptions options;
      options.fold = variant.fold;
      options.threads = variant.threads;
      options.reference_kernels = variant.reference_kernels;
      options.layouts = variant.layouts;
      const std::unique_ptr<Session> session =
          Session::Load(TestDataPath(m.file), options);
      EXPECT_EQ(session->threads(), variant.threads);
      // The load-time fold is `foldrt fold`'s: the manifest's fates.
      const graph::FoldReport& report = session->fold_report();
      if (variant.fold) {
        ASSERT_EQ(report.batch_norms.size(), m.batch_norms.size());
        for (size_t b = 0; b < m.batch_norms.size(); ++b) {
          EXPECT_EQ(report.batch_norms[b].node, m.batch_norms[b].node);
          EXPECT_EQ(graph::FoldCategory(report.batch_norms[b]),
                    m.batch_norms[b].fold)
              << m.batch_norms[b].node;
        }
      } else {
        EXPECT_TRUE(report.batch_norms.empty());
      }
      ASSERT_EQ(session->outputs().size(), m.output_names.size());
      for (const bool single : {false, true}) {
        const std::map<std::string, Tensor> outputs =
            session->Run(single ? batch1 : batch3);
        ASSERT_EQ(outputs.size(), m.output_names.size());
        for (size_t k = 0; k < m.output_names.size(); ++k) {
          SCOPED_TRACE(m.output_names[k] + (single ? ", batch 1" : ""));
          EXPECT_EQ(session->outputs()[k].name, m.output_names[k]);
          Tensor want = ReadInput(m.output_files[k]);
          if (single) want = FirstSamples(want, 1);
          const Tensor& got = outputs.at(m.output_names[k]);
          ASSERT_EQ(got.dtype(), DataType::kFloat32);
          ASSERT_EQ(got.shape(), want.shape());
          const Deviation d = Compare(got.data<float>(), want.data<float>(),
                                      want.NumElements());
          EXPECT_TRUE(WithinTolerance(d))
              << "relative L2 " << d.relative_l2 << ", max |diff| " << d.max_abs
              << ", max |ref| " << d.max_abs_ref;
          worst_l2 = std::max(worst_l2, d.relative_l2);
          worst_abs_ratio =
              std::max(worst_abs_ratio, d.max_abs / d.max_abs_ref);
        }
      }
    }
    std::cout << "[ model    ] " << m.name << ": worst relative L2 " << worst_l2
              << ", worst max|diff|/max|ref| " << worst_abs_ratio << "\n";
  }
}

TEST(SessionTest, ConcurrentRunsEqualSequentialRuns) {
  // Several threads, each cycling through batch sizes, on one session
  // whose plans they create concurrently.
  const std::string model = TestDataPath("efficientnet_mbconv_se.onnx");
  const Tensor base = ReadInput("efficientnet_mbconv_se.input.npy");
  const std::vector<int64_t> batches = {1, 2, 3, 5};
  std::vector<Tensor> expected;
  {
    SessionOptions options;
    options.threads = 2;
    const std::unique_ptr<Session> sequential = Session::Load(model, options);
    for (int64_t batch : batches) {
      expected.push_back(
          sequential->Run({{"input", TiledSamples(base, batch)}}).at("output"));
    }
  }
  SessionOptions options;
  options.threads = 2;
  const std::unique_ptr<Session> session = Session::Load(model, options);
  constexpr int kThreads = 6;
  constexpr int kIterations = 8;
  std::vector<int> mismatches(kThreads, 0);
  std::vector<std::string> errors(kThreads);
  std::vector<std::thread> workers;
  for (int t = 0; t < kThreads; ++t) {
    workers.emplace_back([&, t] {
      try {
        for (int i = 0; i < kIterations; ++i) {
          const size_t which = (t + i) % batches.size();
          const Tensor got =
              session->Run({{"input", TiledSamples(base, batches[which])}})
                  .at("output");
          const Tensor& want = expected[which];
          if (got.shape() != want.shape() ||
              std::memcmp(got.raw_data(), want.raw_data(), want.ByteSize()) !=
                  0) {
            ++mismatches[t];
          }
        }
      } catch (const std::exception& e) {
        errors[t] = e.what();
      }
    });
  }
  for (std::thread& worker : workers) worker.join();
  for (int t = 0; t < kThreads; ++t) {
    EXPECT_EQ(mismatches[t], 0) << "thread " << t;
    EXPECT_EQ(errors[t], "") << "thread " << t;
  }
}

// ------------------------------------------------- hand-built models

graph::ValueInfo FloatValue(const std::string& name, std::vector<Dim> dims) {
  return graph::ValueInfo::ForTensor(name, graph::DataType::kFloat,
                                     std::move(dims));
}

graph::ValueInfo UntypedOutput(const std::string& name) {
  return graph::ValueInfo::ForTensor(name, graph::DataType::kFloat,
                                     std::nullopt);
}

std::vector<Dim> Dims(const std::vector<int64_t>& dims) {
  std::vector<Dim> out;
  for (int64_t d : dims) {
    out.push_back(d < 0 ? Dim::Symbolic("N") : Dim::Known(d));
  }
  return out;
}

graph::Model ModelOf(graph::Graph g, int64_t opset = 13) {
  graph::Model model;
  model.opset_imports.push_back({"", opset});
  model.graph = std::move(g);
  model.source = "hand_built.onnx";
  return model;
}

// A model with input x of `x_dims` (-1 = symbolic N), one node, output y.
graph::Model OneNodeModel(Node node, const std::vector<int64_t>& x_dims,
                          std::vector<graph::Tensor> initializers = {},
                          int64_t opset = 13) {
  graph::Graph g;
  g.mutable_inputs()->push_back(FloatValue("x", Dims(x_dims)));
  for (graph::Tensor& t : initializers) g.AddInitializer(std::move(t));
  g.AddNode(std::move(node));
  g.mutable_outputs()->push_back(UntypedOutput("y"));
  return ModelOf(std::move(g), opset);
}

std::vector<float> Iota(size_t count, float start = 0.0f, float step = 1.0f) {
  std::vector<float> values(count);
  for (size_t i = 0; i < count; ++i) values[i] = start + step * i;
  return values;
}

// The reference kernels, then the optimized ones with every activation
// layout policy, all on 2 threads, for ExpectSessionMatchesReference.
std::vector<SessionVariant> TwoThreadVariants() {
  return {{true, 2, Layouts::kAuto},    {false, 2, Layouts::kAuto},
          {false, 2, Layouts::kPlain},  {false, 2, Layouts::kNhwc},
          {false, 2, Layouts::kNChw8c}, {false, 2, Layouts::kNChw16c}};
}

TEST(SessionTest, ShapeArithmeticIsPlannedPerBatchSize) {
  // x.view(x.size(0), -1) as exporters write it: Shape -> Gather(0) ->
  // Unsqueeze -> Concat with [-1] -> Reshape, then a Gemm whose weight does
  // not depend on the batch; the chain is evaluated while planning.
  graph::Graph g;
  g.mutable_inputs()->push_back(FloatValue("x", Dims({-1, 3, 2})));
  g.AddInitializer(graph::Tensor::FromInt64s("zero", {}, {0}));
  g.AddInitializer(graph::Tensor::FromInt64s("minus_one", {1}, {-1}));
  g.AddInitializer(graph::Tensor::FromInt64s("axes", {1}, {0}));
  g.AddInitializer(graph::Tensor::FromFloats("w", {6, 4}, Iota(24, -1, 0.1f)));
  g.AddNode(Node("Shape", {"x"}, {"shape"}, "shape"));
  g.AddNode(Node("Gather", {"shape", "zero"}, {"batch"}, "gather"));
  g.AddNode(Node("Unsqueeze", {"batch", "axes"}, {"batch_1d"}, "unsqueeze"));
  Node concat("Concat", {"batch_1d", "minus_one"}, {"target"}, "concat");
  concat.SetAttribute(Attribute::Int("axis", 0));
  g.AddNode(std::move(concat));
  g.AddNode(Node("Reshape", {"x", "target"}, {"flat"}, "reshape"));
  g.AddNode(Node("Gemm", {"flat", "w"}, {"y"}, "gemm"));
  g.AddNode(Node("Relu", {"y"}, {"relu"}, "relu"));
  g.mutable_outputs()->push_back(graph::ValueInfo::ForTensor(
      "target", graph::DataType::kInt64, std::nullopt));
  g.mutable_outputs()->push_back(UntypedOutput("flat"));
  g.mutable_outputs()->push_back(UntypedOutput("relu"));
  const graph::Model model = ModelOf(std::move(g));

  const std::unique_ptr<Session> session = Session::FromModel(model);
  ASSERT_EQ(session->inputs().size(), 1u);
  EXPECT_EQ(session->inputs()[0].ShapeString(), "(N, 3, 2)");
  EXPECT_EQ(session->outputs()[0].dtype, DataType::kInt64);
  for (int64_t batch : {1, 4, 2}) {
    SCOPED_TRACE(batch);
    const Tensor x = Tensor::FromFloats({batch, 3, 2}, Iota(batch * 6, -2));
    const std::map<std::string, Tensor> out = session->Run({{"x", x}});
    EXPECT_EQ(out.at("target").ToVector<int64_t>(),
              (std::vector<int64_t>{batch, -1}));
    EXPECT_EQ(out.at("flat").shape(), (std::vector<int64_t>{batch, 6}));
    EXPECT_EQ(out.at("flat").ToVector<float>(), x.ToVector<float>());
    ExpectSessionMatchesReference(model, {{"x", x}}, TwoThreadVariants());
  }
}

TEST(SessionTest, CheapOpsMatchTheReferenceEvaluator) {
  // One graph through Transpose, Concat, broadcasting Sub/Div/Mul/Add,
  // the activations, Softmax, Gather, Squeeze/Unsqueeze, Flatten, pooling,
  // MatMul with a computed right-hand side and a standalone BN + ReLU.
  graph::Graph g;
  g.mutable_inputs()->push_back(FloatValue("x", Dims({-1, 2, 4, 4})));
  g.AddInitializer(graph::Tensor::FromFloats("c", {2, 1, 1}, {0.5f, -2.0f}));
  g.AddInitializer(graph::Tensor::FromFloats("three", {}, {3.0f}));
  g.AddInitializer(graph::Tensor::FromInt64s("idx", {2}, {3, 0}));
  g.AddInitializer(graph::Tensor::FromInt64s("axis1", {1}, {1}));
  g.AddInitializer(graph::Tensor::FromInt64s("axes23", {2}, {2, 3}));
  g.AddInitializer(graph::Tensor::FromFloats("lo", {}, {-0.5f}));
  for (const char* name : {"gamma", "beta", "mean", "var"}) {
    const bool is_var = std::string(name) == "var";
    g.AddInitializer(graph::Tensor::FromFloats(
        name, {4},
        is_var ? std::vector<float>{0.5f, 2, 1, 4}
               : std::vector<float>{0.3f, -1, 2, 0.1f}));
  }
  Node transpose("Transpose", {"x"}, {"t"}, "transpose");
  transpose.SetAttribute(Attribute::Ints("perm", {0, 1, 3, 2}));
  g.AddNode(std::move(transpose));
  Node concat("Concat", {"x", "t"}, {"cat"}, "concat");
  concat.SetAttribute(Attribute::Int("axis", 1));
  g.AddNode(std::move(concat));  // (N, 4, 4, 4)
  g.AddNode(Node("Sub", {"cat", "three"}, {"sub"}, "sub"));
  g.AddNode(Node("Div", {"x", "c"}, {"div"}, "div"));
  g.AddNode(Node("Sigmoid", {"div"}, {"sig"}, "sigmoid"));
  g.AddNode(Node("HardSwish", {"sub"}, {"hswish"}, "hardswish"));
  g.AddNode(Node("HardSigmoid", {"sub"}, {"hsig"}, "hardsigmoid"));
  g.AddNode(Node("Mul", {"hswish", "hsig"}, {"mul"}, "mul"));
  Node bn("BatchNormalization", {"mul", "gamma", "beta", "mean", "var"}, {"bn"},
          "bn");
  g.AddNode(std::move(bn));
  g.AddNode(Node("Relu", {"bn"}, {"bn_relu"}, "bn_relu"));
  g.AddNode(Node("Clip", {"sig", "lo", ""}, {"clip"}, "clip"));
  Node softmax("Softmax", {"sub"}, {"soft"}, "softmax");
  softmax.SetAttribute(Attribute::Int("axis", 1));
  g.AddNode(std::move(softmax));
  Node gather("Gather", {"cat", "idx"}, {"gathered"}, "gather");
  gather.SetAttribute(Attribute::Int("axis", 2));
  g.AddNode(std::move(gather));  // (N, 4, 2, 4)
  Node max_pool("MaxPool", {"bn_relu"}, {"max"}, "max_pool");
  max_pool.SetAttribute(Attribute::Ints("kernel_shape", {3, 3}));
  max_pool.SetAttribute(Attribute::Ints("pads", {1, 1, 1, 1}));
  max_pool.SetAttribute(Attribute::Ints("strides", {2, 2}));
  g.AddNode(std::move(max_pool));
  Node avg_pool("AveragePool", {"soft"}, {"avg"}, "avg_pool");
  avg_pool.SetAttribute(Attribute::Ints("kernel_shape", {2, 2}));
  avg_pool.SetAttribute(Attribute::String("auto_pad", "SAME_UPPER"));
  g.AddNode(std::move(avg_pool));
  g.AddNode(Node("GlobalAveragePool", {"gathered"}, {"gap"}, "gap"));
  g.AddNode(Node("Squeeze", {"gap", "axes23"}, {"squeezed"}, "squeeze"));
  g.AddNode(Node("Unsqueeze", {"clip", "axis1"}, {"unsq"}, "unsqueeze"));
  g.AddNode(Node("Flatten", {"avg"}, {"flat"}, "flatten"));
  Node flat_t("Transpose", {"flat"}, {"flat_t"}, "flat_t");
  g.AddNode(std::move(flat_t));
  g.AddNode(Node("MatMul", {"flat", "flat_t"}, {"gram"}, "gram"));
  g.AddNode(Node("Identity", {"gram"}, {"gram_id"}, "identity"));
  for (const char* out : {"max", "squeezed", "unsq", "gram_id", "mul"}) {
    g.mutable_outputs()->push_back(UntypedOutput(out));
  }
  const graph::Model model = ModelOf(std::move(g));
  for (int64_t batch : {1, 3}) {
    SCOPED_TRACE(batch);
    ExpectSessionMatchesReference(
        model,
        {{"x", Tensor::FromFloats({batch, 2, 4, 4},
                                  Iota(batch * 32, -3.1f, 0.21f))}},
        TwoThreadVariants());
  }
}

// Conv weights (out, in, k, k) with values that make every output channel
// differ.
graph::Tensor ConvWeights(const std::string& name, int64_t out, int64_t in,
                          int64_t k) {
  std::vector<float> w(static_cast<size_t>(out * in * k * k));
  for (size_t i = 0; i < w.size(); ++i) {
    w[i] = 0.05f * static_cast<float>(static_cast<int>(i * 7919 % 23) - 11);
  }
  return graph::Tensor::FromFloats(name, {out, in, k, k}, w);
}

TEST(SessionTest, ActivationLayoutsThroughEveryLayoutAwareOp) {
  // Convolutions hand activations on in nhwc / nChw8c / nChw16c; the ops
  // after them keep that layout. Channel counts 24 and 20 leave padding in
  // the last block of nChw16c (and of nChw8c for 20): ops whose f(0) != 0
  // (Sigmoid, HardSigmoid, Clip above 0, Sub of a scalar, Div) must leave
  // it zero, or the next convolution, which reads the padding, would show
  // it. Concat / Split of 16-channel parts stay blocked, 24 + 20 cannot.
  graph::Graph g;
  g.mutable_inputs()->push_back(FloatValue("x", Dims({-1, 3, 9, 9})));
  g.AddInitializer(ConvWeights("w24", 24, 3, 3));
  g.AddInitializer(ConvWeights("w20", 20, 24, 1));
  g.AddInitializer(ConvWeights("w16a", 16, 20, 3));
  g.AddInitializer(ConvWeights("w16b", 16, 24, 1));
  g.AddInitializer(ConvWeights("wse", 24, 24, 1));
  g.AddInitializer(ConvWeights("wmix", 8, 44, 1));
  g.AddInitializer(ConvWeights("wtail", 5, 32, 3));
  std::vector<float> per_channel(24);
  for (size_t c = 0; c < per_channel.size(); ++c) {
    per_channel[c] = 0.25f + 0.125f * static_cast<float>(c);
  }
  g.AddInitializer(graph::Tensor::FromFloats("pc", {1, 24, 1, 1}, per_channel));
  g.AddInitializer(graph::Tensor::FromFloats("two", {}, {2.0f}));
  g.AddInitializer(graph::Tensor::FromFloats("lo", {}, {0.5f}));
  g.AddInitializer(graph::Tensor::FromFloats("hi", {}, {4.0f}));
  for (const char* name : {"gamma", "beta", "mean", "var"}) {
    std::vector<float> v(20);
    for (size_t c = 0; c < v.size(); ++c) {
      v[c] = std::string(name) == "var" ? 0.5f + 0.1f * c : 0.3f - 0.05f * c;
    }
    g.AddInitializer(graph::Tensor::FromFloats(name, {20}, v));
  }
  const auto conv = [&](const std::string& x, const std::string& w,
                        const std::string& y, int64_t pad) {
    Node node("Conv", {x, w}, {y}, y);
    node.SetAttribute(Attribute::Ints("pads", {pad, pad, pad, pad}));
    g.AddNode(std::move(node));
  };
  conv("x", "w24", "c24", 1);                                 // (N, 24, 9, 9)
  g.AddNode(Node("Sigmoid", {"c24"}, {"sig"}, "sig"));        // f(0) = 0.5
  g.AddNode(Node("Add", {"sig", "c24"}, {"add"}, "add"));     // same shape
  g.AddNode(Node("Mul", {"pc", "add"}, {"mulc"}, "mulc"));    // per channel
  g.AddNode(Node("Sub", {"mulc", "two"}, {"subs"}, "subs"));  // scalar
  g.AddNode(Node("GlobalAveragePool", {"subs"}, {"gap"}, "gap"));
  conv("gap", "wse", "se", 0);                             // (N, 24, 1, 1)
  g.AddNode(Node("Div", {"subs", "se"}, {"div"}, "div"));  // per (n, c)
  g.AddNode(Node("HardSigmoid", {"div"}, {"hsig"}, "hsig"));
  conv("hsig", "w20", "c20", 0);  // reads the padding of hsig
  g.AddNode(Node("Clip", {"c20", "lo", "hi"}, {"clip"}, "clip"));
  g.AddNode(Node("BatchNormalization", {"clip", "gamma", "beta", "mean", "var"},
                 {"bn"}, "bn"));
  Node pool("MaxPool", {"bn"}, {"pool"}, "pool");
  pool.SetAttribute(Attribute::Ints("kernel_shape", {3, 3}));
  pool.SetAttribute(Attribute::Ints("pads", {1, 1, 1, 1}));
  g.AddNode(std::move(pool));       // (N, 20, 9, 9)
  conv("pool", "w16a", "c16a", 1);  // reads the padding
  conv("hsig", "w16b", "c16b", 0);  // (N, 16, 9, 9)
  Node cat16("Concat", {"c16a", "c16b"}, {"cat16"}, "cat16");
  cat16.SetAttribute(Attribute::Int("axis", 1));
  g.AddNode(std::move(cat16));  // (N, 32, 9, 9)
  Node mixed("Concat", {"hsig", "bn"}, {"mixed"}, "mixed");
  mixed.SetAttribute(Attribute::Int("axis", 1));
  g.AddNode(std::move(mixed));  // (N, 44, 9, 9)
  conv("mixed", "wmix", "cmix", 0);
  Node split("Split", {"cat16"}, {"s0", "s1"}, "split");
  split.SetAttribute(Attribute::Int("axis", 1));
  g.AddNode(std::move(split));
  g.AddNode(Node("Mul", {"s0", "s1"}, {"prod"}, "prod"));
  Node cat_back("Concat", {"prod", "s1"}, {"cat_back"}, "cat_back");
  cat_back.SetAttribute(Attribute::Int("axis", 1));
  g.AddNode(std::move(cat_back));
  conv("cat_back", "wtail", "tail", 1);  // (N, 5, 9, 9)
  g.AddNode(Node("Flatten", {"tail"}, {"flat"}, "flat"));
  // ShuffleNet's channel shuffle (one channels-last step), a Reshape ->
  // Transpose -> Reshape that is no shuffle (plain), and a Slice of a
  // convolution's output along channels and with a spatial step.
  g.AddInitializer(graph::Tensor::FromInt64s("split2", {5}, {0, 2, 16, 9, 9}));
  g.AddInitializer(graph::Tensor::FromInt64s("merge", {4}, {0, 32, 9, 9}));
  g.AddInitializer(graph::Tensor::FromInt64s("split4", {4}, {0, 4, 8, 81}));
  g.AddInitializer(graph::Tensor::FromInt64s("flat2", {2}, {0, -1}));
  g.AddNode(Node("Reshape", {"cat_back", "split2"}, {"r5"}, "r5"));
  Node shuffle_t("Transpose", {"r5"}, {"t5"}, "t5");
  shuffle_t.SetAttribute(Attribute::Ints("perm", {0, 2, 1, 3, 4}));
  g.AddNode(std::move(shuffle_t));
  g.AddNode(Node("Reshape", {"t5", "merge"}, {"shuffled"}, "shuffled"));
  conv("shuffled", "wtail", "after_shuffle", 0);
  g.AddNode(Node("Reshape", {"cat_back", "split4"}, {"r4"}, "r4"));
  Node other_t("Transpose", {"r4"}, {"t4"}, "t4");
  other_t.SetAttribute(Attribute::Ints("perm", {0, 3, 2, 1}));
  g.AddNode(std::move(other_t));
  g.AddNode(Node("Reshape", {"t4", "flat2"}, {"not_shuffle"}, "not_shuffle"));
  g.AddInitializer(graph::Tensor::FromInt64s("starts", {2}, {8, 1}));
  g.AddInitializer(graph::Tensor::FromInt64s("ends", {2}, {24, 9}));
  g.AddInitializer(graph::Tensor::FromInt64s("axes", {2}, {1, 2}));
  g.AddInitializer(graph::Tensor::FromInt64s("steps", {2}, {1, 2}));
  g.AddNode(Node("Slice", {"cat_back", "starts", "ends", "axes", "steps"},
                 {"sliced"}, "slice"));  // (N, 16, 4, 9)
  g.AddInitializer(ConvWeights("wslice", 4, 16, 1));
  conv("sliced", "wslice", "after_slice", 0);
  // Graph outputs in the middle of chains (also read by later ops).
  for (const char* out : {"flat", "cmix", "add", "bn", "cat16", "after_shuffle",
                          "not_shuffle", "after_slice"}) {
    g.mutable_outputs()->push_back(UntypedOutput(out));
  }
  const graph::Model model = ModelOf(std::move(g));
  {
    const std::unique_ptr<Program> program =
        CompileProgram(model, CompileOptions{});
    int chains = 0;
    for (const ProgramStep& step : program->steps) {
      chains += step.op == "Reshape+Transpose+Reshape";
    }
    EXPECT_EQ(chains, 2);
  }
  // The reference evaluator has no Split: the ground truth is the session
  // on the scalar reference kernels, where every tensor is plain.
  for (int64_t batch : {1, 2}) {
    SCOPED_TRACE(batch);
    const std::map<std::string, Tensor> inputs = {
        {"x", Tensor::FromFloats({batch, 3, 9, 9},
                                 Iota(batch * 243, -2.0f, 0.017f))}};
    SessionOptions reference;
    reference.reference_kernels = true;
    const std::map<std::string, Tensor> want =
        Session::FromModel(model, reference)->Run(inputs);
    for (const Layouts layouts :
         {Layouts::kAuto, Layouts::kPlain, Layouts::kNhwc, Layouts::kNChw8c,
          Layouts::kNChw16c}) {
      SCOPED_TRACE(static_cast<int>(layouts));
      for (const int threads : {1, 2}) {
        SessionOptions options;
        options.layouts = layouts;
        options.threads = threads;
        const std::map<std::string, Tensor> got =
            Session::FromModel(model, options)->Run(inputs);
        ASSERT_EQ(got.size(), want.size());
        for (const auto& [name, ref] : want) {
          SCOPED_TRACE(name);
          const Tensor& out = got.at(name);
          ASSERT_EQ(out.shape(), ref.shape());
          const Deviation d =
              Compare(out.data<float>(), ref.data<float>(), ref.NumElements());
          EXPECT_TRUE(WithinTolerance(d))
              << "relative L2 " << d.relative_l2 << ", max |diff| " << d.max_abs
              << ", max |ref| " << d.max_abs_ref;
        }
      }
    }
  }
}

TEST(SessionTest, SliceSplitPadAndReduceMean) {
  graph::Graph g;
  g.mutable_inputs()->push_back(FloatValue("x", Dims({2, 3, 4})));
  g.AddInitializer(graph::Tensor::FromInt64s("starts", {2}, {-1, 1}));
  g.AddInitializer(graph::Tensor::FromInt64s("ends", {2}, {-100, 100}));
  g.AddInitializer(graph::Tensor::FromInt64s("axes", {2}, {1, 2}));
  g.AddInitializer(graph::Tensor::FromInt64s("steps", {2}, {-2, 2}));
  g.AddInitializer(graph::Tensor::FromInt64s("split", {2}, {1, 3}));
  g.AddInitializer(graph::Tensor::FromInt64s("pads", {6}, {0, 1, 0, 0, 0, 2}));
  g.AddInitializer(graph::Tensor::FromFloats("pad_value", {}, {-7.0f}));
  g.AddNode(Node("Slice", {"x", "starts", "ends", "axes", "steps"}, {"sliced"},
                 "slice"));
  Node split("Split", {"x", "split"}, {"first", "rest"}, "split");
  split.SetAttribute(Attribute::Int("axis", 2));
  g.AddNode(std::move(split));
  g.AddNode(Node("Pad", {"x", "pads", "pad_value"}, {"padded"}, "pad"));
  Node reflect("Pad", {"x", "pads"}, {"reflected"}, "reflect");
  reflect.SetAttribute(Attribute::String("mode", "reflect"));
  g.AddNode(std::move(reflect));
  Node mean("ReduceMean", {"x"}, {"mean"}, "mean");
  mean.SetAttribute(Attribute::Ints("axes", {0, 2}));
  mean.SetAttribute(Attribute::Int("keepdims", 0));
  g.AddNode(std::move(mean));
  Node mean_last("ReduceMean", {"x"}, {"mean_last"}, "mean_last");
  mean_last.SetAttribute(Attribute::Ints("axes", {-1}));
  g.AddNode(std::move(mean_last));
  for (const char* out : {"sliced", "first", "rest", "padded", "reflected",
                          "mean", "mean_last"}) {
    g.mutable_outputs()->push_back(UntypedOutput(out));
  }
  // x[n, c, w] = 100 n + 10 c + w.
  std::vector<float> values;
  for (int n = 0; n < 2; ++n) {
    for (int c = 0; c < 3; ++c) {
      for (int w = 0; w < 4; ++w) values.push_back(100 * n + 10 * c + w);
    }
  }
  for (const bool reference : {false, true}) {
    SessionOptions options;
    options.reference_kernels = reference;
    const std::unique_ptr<Session> session =
        Session::FromModel(ModelOf(g), options);
    const std::map<std::string, Tensor> out =
        session->Run({{"x", Tensor::FromFloats({2, 3, 4}, values)}});
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
    EXPECT_EQ(p[0], -7.0f);                // the new channel
    EXPECT_EQ(p[1 * 6 + 0], 0.0f);         // x[0, 0, 0]
    EXPECT_EQ(p[1 * 6 + 4], -7.0f);        // right padding
    EXPECT_EQ(p[24 + 3 * 6 + 3], 123.0f);  // x[1, 2, 3]
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
}

TEST(SessionTest, UnsupportedNodesAreReportedAtLoadWithNodeAndOp) {
  const auto expect_unsupported =
      [](const graph::Model& model, const std::string& node,
         const std::string& op, const std::string& mentions) {
        try {
          Session::FromModel(model);
          ADD_FAILURE() << "expected UnsupportedError for " << node;
        } catch (const UnsupportedError& e) {
          EXPECT_EQ(e.context().node, node);
          EXPECT_EQ(e.context().op, op);
          EXPECT_EQ(e.context().file, "hand_built.onnx");
          const std::string what = e.what();
          EXPECT_NE(what.find("node '" + node + "' (" + op + ")"),
                    std::string::npos)
              << what;
          EXPECT_NE(what.find(mentions), std::string::npos) << what;
        }
      };
  expect_unsupported(
      OneNodeModel(Node("Tanh", {"x"}, {"y"}, "my_tanh"), {-1, 2}), "my_tanh",
      "Tanh", "not supported");
  // A node no output depends on is still checked.
  graph::Graph dead;
  dead.mutable_inputs()->push_back(FloatValue("x", Dims({2})));
  dead.AddNode(Node("Relu", {"x"}, {"y"}, "relu"));
  dead.AddNode(Node("Erf", {"x"}, {"unused"}, "dead_erf"));
  dead.mutable_outputs()->push_back(UntypedOutput("y"));
  expect_unsupported(ModelOf(std::move(dead)), "dead_erf", "Erf",
                     "not supported");
  Node cast_double("Cast", {"x"}, {"y"}, "to_double");
  cast_double.SetAttribute(
      Attribute::Int("to", static_cast<int64_t>(graph::DataType::kDouble)));
  expect_unsupported(OneNodeModel(std::move(cast_double), {2}), "to_double",
                     "Cast", "DOUBLE");
  Node pad("Pad", {"x", "pads"}, {"y"}, "wrap_pad");
  pad.SetAttribute(Attribute::String("mode", "wrap"));
  expect_unsupported(
      OneNodeModel(std::move(pad), {2, 2},
                   {graph::Tensor::FromInt64s("pads", {4}, {0, 1, 0, 1})}),
      "wrap_pad", "Pad", "wrap");
  Node deconv("ConvTranspose", {"x", "w"}, {"y"}, "same_deconv");
  deconv.SetAttribute(Attribute::String("auto_pad", "SAME_UPPER"));
  expect_unsupported(
      OneNodeModel(std::move(deconv), {1, 1, 4, 4},
                   {graph::Tensor::FromFloats("w", {1, 1, 2, 2}, Iota(4))}),
      "same_deconv", "ConvTranspose", "SAME_UPPER");
  Node custom("Relu", {"x"}, {"y"}, "custom_relu", "com.example");
  graph::Model custom_model = OneNodeModel(std::move(custom), {2});
  custom_model.opset_imports.push_back({"com.example", 1});
  expect_unsupported(custom_model, "custom_relu", "Relu", "com.example");
  // Training-mode BN whose batch statistics are read.
  graph::Graph training;
  training.mutable_inputs()->push_back(FloatValue("x", Dims({2, 2})));
  for (const char* name : {"gamma", "beta", "mean", "var"}) {
    training.AddInitializer(graph::Tensor::FromFloats(name, {2}, {1, 1}));
  }
  Node bn("BatchNormalization", {"x", "gamma", "beta", "mean", "var"},
          {"y", "running_mean", "running_var"}, "train_bn");
  bn.SetAttribute(Attribute::Int("training_mode", 1));
  training.AddNode(std::move(bn));
  training.mutable_outputs()->push_back(UntypedOutput("y"));
  training.mutable_outputs()->push_back(UntypedOutput("running_mean"));
  expect_unsupported(ModelOf(std::move(training), 15), "train_bn",
                     "BatchNormalization", "training statistics");
  // Dropout in training mode.
  Node dropout("Dropout", {"x", "", "training"}, {"y"}, "train_dropout");
  expect_unsupported(
      OneNodeModel(std::move(dropout), {2},
                   {graph::Tensor("training", graph::DataType::kBool, {},
                                  std::string(1, '\1'))}),
      "train_dropout", "Dropout", "training_mode");
  // Conv whose weights are computed at run time.
  graph::Graph dynamic;
  dynamic.mutable_inputs()->push_back(FloatValue("x", Dims({1, 1, 3, 3})));
  dynamic.mutable_inputs()->push_back(FloatValue("w", Dims({1, 1, 1, 1})));
  dynamic.AddNode(Node("Conv", {"x", "w"}, {"y"}, "dynamic_conv"));
  dynamic.mutable_outputs()->push_back(UntypedOutput("y"));
  expect_unsupported(ModelOf(std::move(dynamic)), "dynamic_conv", "Conv",
                     "computed at run time");
}

TEST(SessionTest, FixedShapeErrorsSurfaceAtLoad) {
  // Without symbolic dims the only signature is planned at load: a weight
  // that does not fit the declared input fails there, naming the node.
  Node conv("Conv", {"x", "w"}, {"y"}, "bad_conv");
  try {
    Session::FromModel(
        OneNodeModel(std::move(conv), {1, 3, 4, 4},
                     {graph::Tensor::FromFloats("w", {2, 4, 1, 1}, Iota(8))}));
    ADD_FAILURE() << "expected InvalidArgumentError";
  } catch (const InvalidArgumentError& e) {
    EXPECT_EQ(e.context().node, "bad_conv");
    EXPECT_EQ(e.context().op, "Conv");
  }
}

TEST(SessionTest, RejectsBadInputs) {
  const std::unique_ptr<Session> session =
      Session::Load(TestDataPath("conv2d_bn.onnx"));
  ASSERT_EQ(session->inputs().size(), 1u);
  EXPECT_EQ(session->inputs()[0].name, "input");
  EXPECT_EQ(session->inputs()[0].ShapeString(), "(N, 4, 10, 10)");
  const Tensor good = ReadInput("conv2d_bn.input.npy");
  EXPECT_EQ(session->Run({{"input", good}}).size(), 1u);
  const auto expect_rejected = [&](const std::map<std::string, Tensor>& inputs,
                                   const std::string& mentions) {
    try {
      session->Run(inputs);
      ADD_FAILURE() << "expected InvalidArgumentError mentioning " << mentions;
    } catch (const InvalidArgumentError& e) {
      EXPECT_NE(std::string(e.what()).find(mentions), std::string::npos)
          << e.what();
      EXPECT_EQ(e.context().file, TestDataPath("conv2d_bn.onnx"));
    }
  };
  expect_rejected({}, "input 'input' is missing");
  expect_rejected({{"input", good}, {"extra", good}},
                  "'extra' is not an input");
  expect_rejected({{"image", good}}, "'image' is not an input");
  expect_rejected({{"input", Tensor::FromFloats({4, 10, 10}, Iota(400))}},
                  "rank 3");
  expect_rejected({{"input", Tensor::Zeros(DataType::kInt64, {1, 4, 10, 10})}},
                  "int64");
  expect_rejected({{"input", Tensor::FromFloats({1, 3, 10, 10}, Iota(300))}},
                  "axis 1 must be 4");

  // A symbolic dim takes one size across inputs.
  graph::Graph g;
  g.mutable_inputs()->push_back(FloatValue("a", Dims({-1, 2})));
  g.mutable_inputs()->push_back(FloatValue("b", Dims({-1, 2})));
  g.AddNode(Node("Add", {"a", "b"}, {"y"}, "add"));
  g.mutable_outputs()->push_back(UntypedOutput("y"));
  const std::unique_ptr<Session> two = Session::FromModel(ModelOf(g));
  const Tensor two_rows = Tensor::FromFloats({2, 2}, {1, 2, 3, 4});
  EXPECT_EQ(
      two->Run({{"a", two_rows}, {"b", two_rows}}).at("y").ToVector<float>(),
      (std::vector<float>{2, 4, 6, 8}));
  EXPECT_THROW(
      two->Run({{"a", two_rows}, {"b", Tensor::FromFloats({1, 2}, {1, 2})}}),
      InvalidArgumentError);
}

TEST(SessionTest, RejectsBadOptions) {
  SessionOptions options;
  options.threads = -1;
  EXPECT_THROW(Session::Load(TestDataPath("conv2d_bn.onnx"), options),
               InvalidArgumentError);
  EXPECT_THROW(Session::Load(TestDataPath("no_such_model.onnx")), IoError);
  const std::string garbage = "not an onnx model";
  EXPECT_THROW(Session::FromBytes(garbage.data(), garbage.size()), FormatError);
}

// SessionOptions::winograd and FOLDRT_WINOGRAD: two 3x3 convolutions with
// 32 channels (Winograd candidates; used where oneDNN has it, AVX-512) give
// the reference evaluator's outputs with it on and off, on both thread
// counts (the choice is timed per thread count), batch 1 and 3; a bad
// FOLDRT_WINOGRAD value is refused.
TEST(SessionTest, WinogradOnAndOffMatchTheReference) {
  graph::Graph g;
  g.mutable_inputs()->push_back(FloatValue("x", Dims({-1, 32, 12, 12})));
  std::vector<float> w(32 * 32 * 9), b(32);
  for (size_t i = 0; i < w.size(); ++i) w[i] = 0.1f * std::sin(0.37f * i);
  for (size_t i = 0; i < b.size(); ++i) b[i] = 0.05f * std::cos(1.3f * i);
  g.AddInitializer(graph::Tensor::FromFloats("w", {32, 32, 3, 3}, w));
  g.AddInitializer(graph::Tensor::FromFloats("b", {32}, b));
  for (const char* name : {"c1", "c2"}) {
    Node conv("Conv", {name == std::string("c1") ? "x" : "r1", "w", "b"},
              {name}, name);
    conv.SetAttribute(graph::Attribute::Ints("pads", {1, 1, 1, 1}));
    g.AddNode(std::move(conv));
    if (name == std::string("c1")) g.AddNode(Node("Relu", {"c1"}, {"r1"}, "r"));
  }
  g.mutable_outputs()->push_back(UntypedOutput("c2"));
  const graph::Model model = ModelOf(g);
  for (const int64_t batch : {1, 3}) {
    std::vector<float> x(static_cast<size_t>(batch) * 32 * 144);
    for (size_t i = 0; i < x.size(); ++i) x[i] = std::sin(0.11f * i);
    const std::map<std::string, Tensor> inputs = {
        {"x", Tensor::FromFloats({batch, 32, 12, 12}, x)}};
    const auto want = testing::ReferenceOutputs(model, inputs);
    for (const bool winograd : {false, true}) {
      for (const int threads : {1, 2}) {
        SCOPED_TRACE(::testing::Message()
                     << "batch " << batch << ", winograd " << winograd
                     << ", threads " << threads);
        SessionOptions options;
        options.winograd = winograd;
        options.threads = threads;
        testing::ExpectOutputsMatch(
            Session::FromModel(model, options)->Run(inputs), want, 1e-5);
      }
    }
  }
  setenv("FOLDRT_WINOGRAD", "yes", 1);
  try {
    Session::FromModel(model);
    ADD_FAILURE() << "FOLDRT_WINOGRAD=yes accepted";
  } catch (const InvalidArgumentError& e) {
    EXPECT_NE(std::string(e.what()).find("FOLDRT_WINOGRAD"), std::string::npos)
        << e.what();
  }
  unsetenv("FOLDRT_WINOGRAD");
}

TEST(SessionTest, OutputsThatAreInputsOrConstantsAreCopies) {
  graph::Graph g;
  g.mutable_inputs()->push_back(FloatValue("x", Dims({-1, 2})));
  g.AddInitializer(graph::Tensor::FromFloats("c", {2}, {5, 6}));
  g.AddNode(Node("Identity", {"x"}, {"same"}, "identity"));
  g.AddNode(Node("Flatten", {"x"}, {"flat"}, "flatten"));
  g.AddNode(Node("Add", {"flat", "c"}, {"sum"}, "add"));
  g.mutable_outputs()->push_back(UntypedOutput("x"));
  g.mutable_outputs()->push_back(UntypedOutput("c"));
  g.mutable_outputs()->push_back(UntypedOutput("same"));
  g.mutable_outputs()->push_back(UntypedOutput("sum"));
  const std::unique_ptr<Session> session = Session::FromModel(ModelOf(g));
  std::vector<float> data = {1, 2, 3, 4};
  const Tensor x = Tensor::ConstView(DataType::kFloat32, {2, 2}, data.data());
  const std::map<std::string, Tensor> out = session->Run({{"x", x}});
  data[0] = 100;  // the outputs must not alias the caller's buffer
  EXPECT_EQ(out.at("x").ToVector<float>(), (std::vector<float>{1, 2, 3, 4}));
  EXPECT_EQ(out.at("same").ToVector<float>(), (std::vector<float>{1, 2, 3, 4}));
  EXPECT_EQ(out.at("c").ToVector<float>(), (std::vector<float>{5, 6}));
  EXPECT_EQ(out.at("sum").ToVector<float>(), (std::vector<float>{6, 8, 8, 10}));
  EXPECT_TRUE(out.at("sum").owns_data());
}

TEST(SessionTest, ConstantNodesAreBoundedBeforeTheyAreComputed) {
  // Two small constants broadcast into a big one at load: refused by the
  // per-tensor bound before anything of that size is allocated.
  graph::Graph g;
  g.mutable_inputs()->push_back(FloatValue("x", Dims({1})));
  g.AddInitializer(graph::Tensor::FromFloats("column", {100, 1}, Iota(100)));
  g.AddInitializer(graph::Tensor::FromFloats("row", {1, 100}, Iota(100)));
  g.AddNode(Node("Add", {"column", "row"}, {"table"}, "broadcast"));
  g.AddNode(Node("Mul", {"table", "x"}, {"y"}, "scale"));
  g.mutable_outputs()->push_back(UntypedOutput("y"));
  SessionOptions options;
  options.max_tensor_elements = 1000;
  try {
    Session::FromModel(ModelOf(g), options);
    FAIL() << "a 100x100 constant passed a 1000-element bound";
  } catch (const UnsupportedError& e) {
    EXPECT_EQ(e.context().node, "broadcast");
    EXPECT_NE(std::string(e.what()).find("10000 elements"), std::string::npos)
        << e.what();
  }
  options.max_tensor_elements = 10000;
  EXPECT_NO_THROW(Session::FromModel(ModelOf(g), options));
}

TEST(SessionTest, CastTruncatesTowardZeroAndSaturates) {
  // float -> int64 -> float, as torch exports `channels // groups`.
  graph::Graph g;
  g.mutable_inputs()->push_back(FloatValue("x", Dims({7})));
  Node to_int("Cast", {"x"}, {"i"}, "to_int");
  to_int.SetAttribute(
      Attribute::Int("to", static_cast<int64_t>(graph::DataType::kInt64)));
  Node to_float("Cast", {"i"}, {"y"}, "to_float");
  to_float.SetAttribute(
      Attribute::Int("to", static_cast<int64_t>(graph::DataType::kFloat)));
  g.AddNode(std::move(to_int));
  g.AddNode(std::move(to_float));
  g.mutable_outputs()->push_back(UntypedOutput("i"));
  g.mutable_outputs()->push_back(UntypedOutput("y"));
  const std::unique_ptr<Session> session = Session::FromModel(ModelOf(g));
  const std::map<std::string, Tensor> out = session->Run(
      {{"x", Tensor::FromFloats({7}, {1.7f, -1.7f, 2.5f, -0.4f, -3.99f, 1e20f,
                                      std::nanf("")})}});
  EXPECT_EQ(out.at("i").ToVector<int64_t>(),
            (std::vector<int64_t>{1, -1, 2, 0, -3,
                                  std::numeric_limits<int64_t>::max(), 0}));
  const std::vector<float> y = out.at("y").ToVector<float>();
  EXPECT_EQ(std::vector<float>(y.begin(), y.begin() + 5),
            (std::vector<float>{1, -1, 2, 0, -3}));
}

TEST(SessionTest, ListsItsOps) {
  const std::vector<std::string> ops = SupportedOps();
  for (const char* op : {"Add",         "AveragePool", "BatchNormalization",
                         "Cast",        "Clip",        "Concat",
                         "Constant",    "Conv",        "ConvTranspose",
                         "Div",         "Dropout",     "Flatten",
                         "Gather",      "Gemm",        "GlobalAveragePool",
                         "HardSigmoid", "HardSwish",   "Identity",
                         "MatMul",      "MaxPool",     "Mul",
                         "Pad",         "ReduceMean",  "Relu",
                         "Reshape",     "Shape",       "Sigmoid",
                         "Slice",       "Softmax",     "Split",
                         "Squeeze",     "Sub",         "Transpose",
                         "Unsqueeze"}) {
    EXPECT_TRUE(std::find(ops.begin(), ops.end(), op) != ops.end()) << op;
  }
  EXPECT_TRUE(std::is_sorted(ops.begin(), ops.end()));
}

}  // namespace
}  // namespace foldrt::runtime
