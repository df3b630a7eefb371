// Session end to end: every PyTorch export in tests/data against torch's
// reference outputs (folded and unfolded, oneDNN and reference kernels,
// batch 3 and 1, 1 and 2 threads), and Session's contract on hand-built
// graphs: what it refuses at load and at run time (naming node and op), its
// options, outputs that alias inputs or constants, and its op list. The ops
// themselves against the reference evaluator: session_ops_test.cc;
// concurrent runs: session_concurrency_test.cc.
#include "runtime/session.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <iostream>
#include <limits>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/npy.h"
#include "core/tensor.h"
#include "graph/graph.h"
#include "graph/onnx_io.h"
#include "graph/passes/fold_report.h"
#include "graph/tensor.h"
#include "runtime/kernels/kernel.h"
#include "runtime/program.h"
#include "tests/runtime/session_test_util.h"
#include "tests/runtime/test_models.h"

namespace foldrt::runtime {
namespace {

using foldrt::testing::Compare;
using foldrt::testing::Deviation;
using foldrt::testing::Dims;
using foldrt::testing::FirstSamples;
using foldrt::testing::FloatValue;
using foldrt::testing::Iota;
using foldrt::testing::ManifestModel;
using foldrt::testing::ModelOf;
using foldrt::testing::OneNodeModel;
using foldrt::testing::ReadManifest;
using foldrt::testing::TestDataPath;
using foldrt::testing::UntypedOutput;
using foldrt::testing::WithinTolerance;
using graph::Attribute;
using graph::Dim;
using graph::Node;
using Layouts = SessionOptions::Layouts;

Tensor ReadInput(const std::string& file) {
  const NpyArrayF32 array = ReadNpyF32(TestDataPath(file));
  return Tensor::FromFloats(array.shape, array.data);
}

// Batch `samples` by repeating t's samples cyclically.

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

// ------------------------------------------------- hand-built models

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
