// The references of Slice, Split, Pad, ReduceMean and Cast: known values,
// and every session variant (optimized and reference kernels, all layouts,
// 1 and 2 threads) against them, in both the attribute forms of old opsets
// and the input forms of new ones.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <map>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/tensor.h"
#include "graph/graph.h"
#include "graph/tensor.h"
#include "runtime/reference_evaluator.h"
#include "tests/runtime/session_test_util.h"

namespace foldrt::runtime {
namespace {

using foldrt::testing::CastNode;
using foldrt::testing::ExpectSessionMatchesReference;
using foldrt::testing::ExpectSliceSplitPadMeanValues;
using foldrt::testing::GraphBuilderBase;
using foldrt::testing::NumberedInput;
using foldrt::testing::SeededValues;
using graph::Attribute;
using graph::Node;

class Builder : public GraphBuilderBase<Builder> {};

Node WithInt(Node node, const std::string& name, int64_t value) {
  node.SetAttribute(Attribute::Int(name, value));
  return node;
}
Node WithInts(Node node, const std::string& name,
              const std::vector<int64_t>& values) {
  node.SetAttribute(Attribute::Ints(name, values));
  return node;
}

graph::Model AtOpset(graph::Model model, int64_t opset) {
  model.opset_imports[0].version = opset;
  return model;
}

// Opset 13: bounds, sizes, pads and axes as inputs.
graph::Model InputFormModel() {
  Builder b;
  b.Input("x", {2, 3, 4})
      .Int64Constant("starts", {-1, 1})
      .Int64Constant("ends", {-100, 100})
      .Int64Constant("axes", {1, 2})
      .Int64Constant("steps", {-2, 2})
      .Int64Constant("split", {1, 3})
      .Int64Constant("pads", {0, 1, 0, 0, 0, 2})
      .Constant("pad_value", {}, -7.0f, -6.999f)
      .Add(Node("Slice", {"x", "starts", "ends", "axes", "steps"}, {"sliced"},
                "slice"))
      .Add(WithInt(Node("Split", {"x", "split"}, {"first", "rest"}, "split"),
                   "axis", 2))
      .Add(Node("Pad", {"x", "pads", "pad_value"}, {"padded"}, "pad"));
  Node reflect("Pad", {"x", "pads"}, {"reflected"}, "reflect");
  reflect.SetAttribute(Attribute::String("mode", "reflect"));
  Node edge("Pad", {"x", "pads"}, {"edged"}, "edge");
  edge.SetAttribute(Attribute::String("mode", "edge"));
  b.Add(std::move(reflect))
      .Add(std::move(edge))
      .Add(WithInt(
          WithInts(Node("ReduceMean", {"x"}, {"mean"}, "mean"), "axes", {0, 2}),
          "keepdims", 0))
      .Add(WithInts(Node("ReduceMean", {"x"}, {"mean_last"}, "mean_last"),
                    "axes", {-1}))
      .Add(Node("ReduceMean", {"x"}, {"mean_all"}, "mean_all"));
  for (const char* out : {"sliced", "first", "rest", "padded", "reflected",
                          "edged", "mean", "mean_last", "mean_all"}) {
    b.Output(out);
  }
  return b.Build("input_form.onnx");
}

TEST(TensorOpReferencesTest, KnownValues) {
  const std::map<std::string, Tensor> out =
      EvaluateReference(InputFormModel(), {{"x", NumberedInput()}});
  // The pad value is a seeded constant in [-7, -6.999).
  ExpectSliceSplitPadMeanValues(out, /*pad_tolerance=*/1e-3);
  const std::vector<float> e = out.at("edged").ToVector<float>();
  EXPECT_EQ(e[0 * 6 + 0], 0.0f);  // the new channel repeats channel 0
  EXPECT_EQ(e[1 * 6 + 4], 3.0f);  // columns ... 3 | 3, 3
  EXPECT_EQ(e[1 * 6 + 5], 3.0f);
  EXPECT_EQ(out.at("mean_all").shape(), (std::vector<int64_t>{1, 1, 1}));
  EXPECT_EQ(out.at("mean_all").ToVector<float>(), (std::vector<float>{61.5f}));
}

TEST(TensorOpReferencesTest, SessionMatchesInputForms) {
  ExpectSessionMatchesReference(
      InputFormModel(),
      {{"x", Tensor::FromFloats({2, 3, 4}, SeededValues(24, 5, -3, 3))}});
}

// Opset 9 (Slice, Split, Pad with attributes) and ReduceMean's axes
// attribute; opset 10 Slice takes inputs without steps.
TEST(TensorOpReferencesTest, SessionMatchesAttributeForms) {
  Builder b;
  b.Input("x", {2, 3, 5, 4})
      .Add(WithInts(
          WithInts(Node("Slice", {"x"}, {"sliced"}, "slice"), "starts", {1, 0}),
          "ends", {3, -1}))
      .Add(WithInts(
          WithInt(Node("Split", {"x"}, {"a", "b", "c"}, "split"), "axis", -2),
          "split", {1, 2, 2}))
      .Add(WithInt(Node("Split", {"x"}, {"even0", "even1"}, "split_even"),
                   "axis", 3))
      .Add(WithInts(Node("ReduceMean", {"x"}, {"mean"}, "mean"), "axes",
                    {1, 3}));
  Node pad("Pad", {"x"}, {"padded"}, "pad");
  pad.SetAttribute(Attribute::Ints("pads", {0, 0, 2, 1, 0, 0, 0, 3}));
  pad.SetAttribute(Attribute::Float("value", 1.5f));
  Node crop("Pad", {"x"}, {"cropped"}, "crop");
  crop.SetAttribute(Attribute::Ints("pads", {0, -1, 0, 0, 0, 0, -2, 0}));
  b.Add(std::move(pad)).Add(std::move(crop));
  for (const char* out : {"sliced", "a", "b", "c", "even0", "even1", "mean",
                          "padded", "cropped"}) {
    b.Output(out);
  }
  ExpectSessionMatchesReference(
      AtOpset(b.Build("attribute_form.onnx"), 9),
      {{"x", Tensor::FromFloats({2, 3, 5, 4}, SeededValues(120, 6, -2, 2))}});

  Builder slice10;
  slice10.Input("x", {4, 6})
      .Int64Constant("starts", {5, -3})
      .Int64Constant("ends", {0, 100})
      .Int64Constant("axes", {1, 0})
      .Add(Node("Slice", {"x", "starts", "ends", "axes"}, {"y"}, "slice"))
      .Output("y");
  ExpectSessionMatchesReference(
      AtOpset(slice10.Build("slice10.onnx"), 10),
      {{"x", Tensor::FromFloats({4, 6}, SeededValues(24, 7, -1, 1))}});
}

TEST(TensorOpReferencesTest, CastTruncatesTowardZeroAndSaturates) {
  Builder b;
  b.Input("x", {8})
      .Add(CastNode("to_int", "x", "i", graph::DataType::kInt64))
      .Add(CastNode("to_float", "i", "y", graph::DataType::kFloat));
  b.Output("i").Output("y");
  const graph::Model model = b.Build("cast.onnx");
  const std::vector<float> x = {1.7f,   -1.7f, 2.5f,   -0.4f,
                                -3.99f, 1e20f, -1e20f, std::nanf("")};
  const std::map<std::string, Tensor> out =
      EvaluateReference(model, {{"x", Tensor::FromFloats({8}, x)}});
  EXPECT_EQ(out.at("i").dtype(), DataType::kInt64);
  EXPECT_EQ(out.at("i").ToVector<int64_t>(),
            (std::vector<int64_t>{1, -1, 2, 0, -3,
                                  std::numeric_limits<int64_t>::max(),
                                  std::numeric_limits<int64_t>::min(), 0}));
  EXPECT_EQ(std::vector<float>(out.at("y").data<float>(),
                               out.at("y").data<float>() + 5),
            (std::vector<float>{1, -1, 2, 0, -3}));
  ExpectSessionMatchesReference(model, {{"x", Tensor::FromFloats({8}, x)}});
}

TEST(TensorOpReferencesTest, RefusesWhatTheKernelsRefuse) {
  Builder b;
  Node wrap("Pad", {"x", "pads"}, {"y"}, "wrap_pad");
  wrap.SetAttribute(Attribute::String("mode", "wrap"));
  b.Input("x", {2, 3}).Int64Constant("pads", {0, 0, 0, 0}).Add(std::move(wrap));
  b.Output("y");
  try {
    EvaluateReference(b.Build("wrap.onnx"),
                      {{"x", Tensor::FromFloats({2, 3}, {1, 2, 3, 4, 5, 6})}});
    ADD_FAILURE() << "expected UnsupportedError";
  } catch (const UnsupportedError& e) {
    EXPECT_EQ(e.context().node, "wrap_pad");
    EXPECT_NE(std::string(e.what()).find("mode 'wrap'"), std::string::npos)
        << e.what();
  }
  Builder split;
  split.Input("x", {2, 5})
      .Add(WithInt(Node("Split", {"x"}, {"a", "b"}, "uneven"), "axis", 1))
      .Output("a")
      .Output("b");
  EXPECT_THROW(EvaluateReference(
                   split.Build("uneven.onnx"),
                   {{"x", Tensor::FromFloats({2, 5}, std::vector<float>(10))}}),
               InvalidArgumentError);
}

}  // namespace
}  // namespace foldrt::runtime
