// The ops through Session on hand-built graphs, against the scalar
// reference evaluator in every layout policy on 2 threads: shape arithmetic
// planned per batch size, the cheap ops in one graph, activations kept in a
// convolution's layout through every layout-aware op, Slice / Split / Pad /
// ReduceMean in both opset forms, Winograd on and off, and Cast's rounding.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/tensor.h"
#include "graph/graph.h"
#include "graph/tensor.h"
#include "runtime/program.h"
#include "runtime/session.h"
#include "tests/runtime/session_test_util.h"
#include "tests/runtime/test_models.h"

namespace foldrt::runtime {
namespace {

using foldrt::testing::CastNode;
using foldrt::testing::Compare;
using foldrt::testing::Deviation;
using foldrt::testing::Dims;
using foldrt::testing::ExpectSessionMatchesReference;
using foldrt::testing::ExpectSliceSplitPadMeanValues;
using foldrt::testing::FloatValue;
using foldrt::testing::Iota;
using foldrt::testing::ModelOf;
using foldrt::testing::NumberedInput;
using foldrt::testing::OneNodeModel;
using foldrt::testing::SessionVariant;
using foldrt::testing::UntypedOutput;
using foldrt::testing::WithinTolerance;
using graph::Attribute;
using graph::Dim;
using graph::Node;
using Layouts = SessionOptions::Layouts;

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
  g.AddInitializer(graph::Tensor::FromFloats("w", {6, 4}, Iota(24, -1, 0.1f)));
  foldrt::testing::AddBatchFlatten(&g, "x", "target", "flat");
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
  for (const bool reference : {false, true}) {
    SessionOptions options;
    options.reference_kernels = reference;
    const std::unique_ptr<Session> session =
        Session::FromModel(ModelOf(g), options);
    // The pad value is exactly -7.
    ExpectSliceSplitPadMeanValues(session->Run({{"x", NumberedInput()}}),
                                  /*pad_tolerance=*/0.0);
  }
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
    const auto want = runtime::EvaluateReference(model, inputs);
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

TEST(SessionTest, CastTruncatesTowardZeroAndSaturates) {
  // float -> int64 -> float, as torch exports `channels // groups`.
  graph::Graph g;
  g.mutable_inputs()->push_back(FloatValue("x", Dims({7})));
  g.AddNode(CastNode("to_int", "x", "i", graph::DataType::kInt64));
  g.AddNode(CastNode("to_float", "i", "y", graph::DataType::kFloat));
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

}  // namespace
}  // namespace foldrt::runtime
