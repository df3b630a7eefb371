// The BN fold driver (graph/passes/batch_norm_fold.cc) on the 22 PyTorch
// exports in tests/data, checked against MANIFEST.json and numerically, and
// the legality rules on models built here for what torch does not export.
#include "graph/passes/batch_norm_fold.h"

#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "core/npy.h"
#include "graph/onnx_io.h"
#include "runtime/reference_evaluator.h"
#include "tests/graph/passes/fold_test_util.h"

namespace foldrt::graph::testing {
namespace {

using google::protobuf::Struct;
using google::protobuf::Value;

std::string ReadText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

Struct LoadManifest() {
  Struct manifest;
  const auto status = google::protobuf::util::JsonStringToMessage(
      ReadText(TestDataPath("MANIFEST.json")), &manifest);
  EXPECT_TRUE(status.ok()) << status.ToString();
  return manifest;
}

const Value& Field(const Struct& object, const std::string& key) {
  static const Value kNull;
  auto it = object.fields().find(key);
  EXPECT_NE(it, object.fields().end()) << "MANIFEST.json: no '" << key << "'";
  return it == object.fields().end() ? kNull : it->second;
}

// Why each BN the manifest calls "none" stays, as FoldReason ids: the first
// is the backward refusal, the second the forward one (from the "fate"
// texts in MANIFEST.json).
const std::map<std::string, std::pair<std::string, std::string>>&
ExpectedRefusals() {
  static const auto* kRefusals =
      new std::map<std::string, std::pair<std::string, std::string>>{
          {"conv_relu_bn/bn/BatchNormalization",
           {"activation_between", "graph_output"}},
          {"preact_bn_relu_conv/bn/BatchNormalization",
           {"graph_input", "activation_between"}},
          {"bn_conv_padded/bn/BatchNormalization",
           {"graph_input", "forward_inexact"}},
          {"conv_two_consumers/bn/BatchNormalization",
           {"multiple_consumers", "activation_between"}},
          {"conv_bn_two_outputs/bn/BatchNormalization",
           {"graph_output", "graph_output"}},
          {"densenet_dense_block/layer1/norm1/BatchNormalization",
           {"unsupported_producer", "activation_between"}},
          {"densenet_dense_block/layer2/norm1/BatchNormalization",
           {"unsupported_producer", "activation_between"}},
      };
  return *kRefusals;
}

std::map<std::string, foldrt::Tensor> InputsFromFiles(const Struct& spec) {
  std::map<std::string, foldrt::Tensor> inputs;
  const auto& names = Field(spec, "inputs").list_value().values();
  const auto& files = Field(spec, "input_files").list_value().values();
  EXPECT_EQ(names.size(), files.size());
  for (int i = 0; i < names.size() && i < files.size(); ++i) {
    const NpyArrayF32 array = ReadNpyF32(TestDataPath(files[i].string_value()));
    inputs[Field(names[i].struct_value(), "name").string_value()] =
        foldrt::Tensor::FromFloats(array.shape, array.data);
  }
  return inputs;
}

TEST(BatchNormFoldRealModelsTest, EveryExportFoldsAsTheManifestSays) {
  const Struct manifest = LoadManifest();
  const auto& models = Field(manifest, "models").list_value().values();
  ASSERT_EQ(models.size(), 22);
  for (const Value& entry : models) {
    const Struct& spec = entry.struct_value();
    const std::string name = Field(spec, "name").string_value();
    SCOPED_TRACE(name);
    const Model original = LoadOnnxModel(TestDataPath(name + ".onnx"));
    Model folded = original;
    const FoldReport report = FoldBatchNormalization(folded);

    // Every BN has a record whose category is the manifest's.
    const auto& batch_norms = Field(spec, "batchnorms").list_value().values();
    ASSERT_EQ(report.batch_norms.size(),
              static_cast<size_t>(batch_norms.size()));
    size_t expected_remaining = 0;
    for (const Value& bn_value : batch_norms) {
      const Struct& bn = bn_value.struct_value();
      const std::string node = Field(bn, "node").string_value();
      const std::string fold = Field(bn, "fold").string_value();
      SCOPED_TRACE(node);
      const BatchNormFoldRecord* record = FindRecord(report, node);
      ASSERT_NE(record, nullptr);
      EXPECT_EQ(FoldCategory(*record), fold)
          << record->backward.detail << " / " << record->forward.detail;
      EXPECT_EQ(record->channels, Field(bn, "channels").number_value());
      if (fold == "none") {
        ++expected_remaining;
        auto it = ExpectedRefusals().find(name + node);
        ASSERT_NE(it, ExpectedRefusals().end());
        EXPECT_EQ(FoldReasonId(record->backward.reason), it->second.first);
        EXPECT_EQ(FoldReasonId(record->forward.reason), it->second.second);
        EXPECT_FALSE(record->backward.detail.empty());
      } else {
        EXPECT_FALSE(record->target_node.empty());
      }
    }
    EXPECT_EQ(CountOps(folded.graph, "BatchNormalization"), expected_remaining);
    if (expected_remaining == static_cast<size_t>(batch_norms.size())) {
      // Nothing folded, so nothing changed: the export is the input file.
      EXPECT_EQ(SerializeOnnxModel(folded),
                ReadText(TestDataPath(name + ".onnx")));
    }

    // The interface is unchanged.
    ASSERT_EQ(folded.graph.outputs().size(), original.graph.outputs().size());
    for (size_t i = 0; i < original.graph.outputs().size(); ++i) {
      EXPECT_EQ(folded.graph.outputs()[i].name,
                original.graph.outputs()[i].name);
    }
    ASSERT_EQ(folded.graph.inputs().size(), original.graph.inputs().size());
    for (size_t i = 0; i < original.graph.inputs().size(); ++i) {
      EXPECT_EQ(folded.graph.inputs()[i].name, original.graph.inputs()[i].name);
    }
    ExpectValidOnnx(folded);

    // Folded == unfolded on the exported input, and both match torch.
    const auto inputs = InputsFromFiles(spec);
    ExpectSameOutputs(original, folded, inputs);
    const auto outputs = runtime::EvaluateReference(folded, inputs);
    const auto& output_specs = Field(spec, "outputs").list_value().values();
    const auto& output_files =
        Field(spec, "output_files").list_value().values();
    ASSERT_EQ(output_specs.size(), output_files.size());
    for (int i = 0; i < output_specs.size(); ++i) {
      const std::string output =
          Field(output_specs[i].struct_value(), "name").string_value();
      const NpyArrayF32 torch =
          ReadNpyF32(TestDataPath(output_files[i].string_value()));
      const foldrt::Tensor& got = outputs.at(output);
      ASSERT_EQ(got.shape(), torch.shape);
      const float* got_data = got.data<float>();
      double max_ref = 0.0;
      double max_diff = 0.0;
      for (size_t k = 0; k < torch.data.size(); ++k) {
        max_ref = std::max(max_ref, std::fabs(double{torch.data[k]}));
        max_diff = std::max(
            max_diff, std::fabs(double{got_data[k]} - double{torch.data[k]}));
      }
      // torch computed in float64; the evaluator rounds to float per op.
      EXPECT_LE(max_diff, 1e-5 * max_ref + 1e-5) << output;
    }
  }
}

TEST(BatchNormFoldRealModelsTest, SavedFoldedModelLoadsBackUnchanged) {
  const std::string path = ::testing::TempDir() + "/folded_resnet.onnx";
  Model model =
      LoadOnnxModel(TestDataPath("resnet_bottleneck_downsample.onnx"));
  FoldBatchNormalization(model);
  SaveOnnxModel(model, path);
  const Model reloaded = LoadOnnxModel(path);
  EXPECT_EQ(CountOps(reloaded.graph, "BatchNormalization"), 0u);
  EXPECT_EQ(reloaded.graph.num_nodes(), model.graph.num_nodes());
  EXPECT_EQ(SerializeOnnxModel(reloaded).size(),
            SerializeOnnxModel(model).size());
  // Only the four convolution weights and their biases are left.
  EXPECT_EQ(reloaded.graph.num_initializers(), 8u);
  std::remove(path.c_str());
}

TEST(BatchNormFoldRealModelsTest, NoForwardKeepsBatchNormsBeforeLinearOps) {
  for (const std::string name : {"bn_conv", "bn_linear"}) {
    SCOPED_TRACE(name);
    Model model = LoadOnnxModel(TestDataPath(name + ".onnx"));
    FoldOptions options;
    options.forward = false;
    const FoldReport report = FoldBatchNormalization(model, options);
    ASSERT_EQ(report.batch_norms.size(), 1u);
    EXPECT_EQ(FoldCategory(report.batch_norms[0]), "none");
    EXPECT_EQ(report.batch_norms[0].forward.reason,
              FoldReason::kForwardDisabled);
    EXPECT_FALSE(report.forward_enabled);
    EXPECT_EQ(CountOps(model.graph, "BatchNormalization"), 1u);
  }
}

TEST(BatchNormFoldRealModelsTest, InitializersListedAsInputsStayConsistent) {
  // The opset-9 export lists every initializer as a graph input.
  Model model = LoadOnnxModel(TestDataPath("mlp_bn1d.onnx"));
  ASSERT_FALSE(model.graph.initializer_inputs().empty());
  FoldBatchNormalization(model);
  std::set<std::string> initializers;
  for (size_t i = 0; i < model.graph.num_initializers(); ++i) {
    initializers.insert(model.graph.initializer(i).name());
  }
  for (const ValueInfo& listed : model.graph.initializer_inputs()) {
    EXPECT_EQ(initializers.count(listed.name), 1u) << listed.name;
  }
  // The BN's four parameters are gone from both lists.
  for (const char* param :
       {"bn.weight", "bn.bias", "bn.running_mean", "bn.running_var"}) {
    EXPECT_EQ(initializers.count(param), 0u) << param;
  }
  EXPECT_EQ(model.graph.initializer_inputs().size(), initializers.size());
}

// IR version 3 requires every initializer to be listed as a graph input;
// copies made for a shared weight must be listed too.
TEST(BatchNormFoldRealModelsTest, IrVersion3ListingCoversCopies) {
  ModelBuilder b(/*opset=*/9, /*ir_version=*/3);
  b.Input("x", {-1, 3, 5, 5});
  b.RandomInitializer("w", {4, 3, 3, 3});
  b.AddNode("Conv", {"x", "w"}, {"c1"}, "conv1");
  b.AddNode("Conv", {"x", "w"}, {"c2"}, "conv2");
  b.BatchNorm("bn1", "c1", "y1", 4);
  b.BatchNorm("bn2", "c2", "y2", 4);
  b.Output("y1");
  b.Output("y2");
  for (size_t i = 0; i < b.graph().num_initializers(); ++i) {
    const Tensor& tensor = b.graph().initializer(i);
    std::vector<Dim> shape;
    for (int64_t dim : tensor.dims()) shape.push_back(Dim::Known(dim));
    b.graph().mutable_initializer_inputs()->push_back(
        ValueInfo::ForTensor(tensor.name(), DataType::kFloat, shape));
  }
  const auto result = FoldAndVerify(b.model());
  EXPECT_EQ(result.report.cleanup.weights_copied, 1u);
  const Graph& g = result.folded.graph;
  std::set<std::string> listed;
  for (const ValueInfo& info : g.initializer_inputs()) listed.insert(info.name);
  std::set<std::string> initializers;
  for (size_t i = 0; i < g.num_initializers(); ++i) {
    initializers.insert(g.initializer(i).name());
  }
  EXPECT_EQ(listed, initializers);
  EXPECT_EQ(initializers.size(), 4u);  // two weights, two new biases
}

// ------------------------------------------------ legality, built in C++

// Conv (3x3, pad 1) -> BN -> Relu -> out.
ModelBuilder ConvBatchNormRelu(int64_t opset = 13) {
  ModelBuilder b(opset);
  b.Input("x", {-1, 3, 6, 6});
  b.RandomInitializer("w", {4, 3, 3, 3});
  b.RandomInitializer("w.bias", {4});
  b.AddNode("Conv", {"x", "w", "w.bias"}, {"c"}, "conv",
            {Attribute::Ints("pads", {1, 1, 1, 1})});
  b.BatchNorm("bn", "c", "y", 4);
  b.AddNode("Relu", {"y"}, {"out"}, "relu");
  b.Output("out");
  return b;
}

TEST(BatchNormFoldLegalityTest, TrainingModeWithUnreadStatisticsFolds) {
  ModelBuilder b = ConvBatchNormRelu(/*opset=*/15);
  Node* bn = b.graph().Producer("y");
  bn->SetAttribute(Attribute::Int("training_mode", 1));
  bn->SetOutputs({"y", "running_mean", "running_var"});
  const auto result = FoldAndVerify(b.model());
  const BatchNormFoldRecord* record = FindRecord(result.report, "bn");
  ASSERT_NE(record, nullptr);
  EXPECT_EQ(FoldCategory(*record), "backward:Conv");
  EXPECT_NE(record->note.find("training_mode=1"), std::string::npos);
}

TEST(BatchNormFoldLegalityTest, TrainingModeWithReadStatisticsStays) {
  ModelBuilder b = ConvBatchNormRelu(/*opset=*/15);
  Node* bn = b.graph().Producer("y");
  bn->SetAttribute(Attribute::Int("training_mode", 1));
  bn->SetOutputs({"y", "running_mean", "running_var"});
  b.Output("running_mean", 1);
  Model model = b.model();
  const FoldReport report = FoldBatchNormalization(model);
  const BatchNormFoldRecord* record = FindRecord(report, "bn");
  ASSERT_NE(record, nullptr);
  EXPECT_EQ(FoldCategory(*record), "none");
  EXPECT_EQ(record->backward.reason, FoldReason::kTrainingOutputsUsed);
  EXPECT_EQ(CountOps(model.graph, "BatchNormalization"), 1u);
  EXPECT_EQ(model.graph.num_initializers(), b.graph().num_initializers());
  ExpectValidOnnx(model);
}

INSTANTIATE_TEST_SUITE_P(
    Legality, FoldRefusalTest,
    ::testing::Values(
        RefusalCase{"Opset9StatisticOutputsReadStays",
                    [] {
                      ModelBuilder b = ConvBatchNormRelu(/*opset=*/9);
                      Node* bn = b.graph().Producer("y");
                      bn->SetOutputs({"y", "mean_out", "", "saved_mean"});
                      b.AddNode("Identity", {"saved_mean"}, {"saved_mean_copy"},
                                "read_saved");
                      b.Output("saved_mean_copy", 1);
                      return b.model();
                    },
                    FoldReason::kTrainingOutputsUsed, std::nullopt, "",
                    /*verify=*/false},
        RefusalCase{"Opset7SpatialZeroStaysAndSaysSo",
                    [] {
                      ModelBuilder b = ConvBatchNormRelu(/*opset=*/7);
                      b.graph().Producer("y")->SetAttribute(
                          Attribute::Int("spatial", 0));
                      return b.model();
                    },
                    FoldReason::kSpatialZero, std::nullopt, "spatial=0",
                    /*verify=*/false},
        RefusalCase{"NegativeVarianceStaysWithReason",
                    [] {
                      ModelBuilder b = ConvBatchNormRelu();
                      Tensor* var = b.graph().MutableInitializer("bn.var");
                      std::vector<float> values = var->ToFloats();
                      values[2] = -1.0f;
                      var->SetFloats(values);
                      return b.model();
                    },
                    FoldReason::kInvalidStatistics, std::nullopt, "",
                    /*verify=*/false}),
    RefusalCaseName);

TEST(BatchNormFoldLegalityTest, Opset7SpatialOneFolds) {
  ModelBuilder b = ConvBatchNormRelu(/*opset=*/7);
  b.graph().Producer("y")->SetAttribute(Attribute::Int("spatial", 1));
  const auto result = FoldAndVerify(b.model());
  EXPECT_EQ(FoldCategory(result.report.batch_norms[0]), "backward:Conv");
}

TEST(BatchNormFoldLegalityTest, ParametersComputedByANodeStay) {
  ModelBuilder b = ConvBatchNormRelu();
  // The variance is var * var: computed, not constant.
  Node* bn = b.graph().Producer("y");
  b.AddNode("Mul", {"bn.var", "bn.var"}, {"var_squared"}, "square");
  bn->SetInput(4, "var_squared");
  Model model = b.model();
  const FoldReport report = FoldBatchNormalization(model);
  const BatchNormFoldRecord& record = report.batch_norms[0];
  EXPECT_EQ(record.backward.reason, FoldReason::kParamsNotConstant);
  EXPECT_NE(record.backward.detail.find("Mul 'square'"), std::string::npos);
  EXPECT_EQ(CountOps(model.graph, "BatchNormalization"), 1u);
  ExpectSameOutputs(b.model(), model, RandomInputs(b.model(), 2, 7));
}

TEST(BatchNormFoldLegalityTest, ParametersBehindIdentityFoldAndChainIsRemoved) {
  ModelBuilder b = ConvBatchNormRelu();
  Node* bn = b.graph().Producer("y");
  b.AddNode("Identity", {"bn.scale"}, {"scale_1"}, "id1");
  b.AddNode("Identity", {"scale_1"}, {"scale_2"}, "id2");
  bn->SetInput(1, "scale_2");
  const auto result = FoldAndVerify(b.model());
  EXPECT_EQ(FoldCategory(result.report.batch_norms[0]), "backward:Conv");
  EXPECT_EQ(CountOps(result.folded.graph, "Identity"), 0u);
  EXPECT_EQ(result.folded.graph.FindInitializer("bn.scale"), nullptr);
  EXPECT_EQ(result.report.cleanup.nodes_removed, 2u);
  EXPECT_EQ(result.report.cleanup.initializers_removed, 4u);
}

TEST(BatchNormFoldLegalityTest, UnusedInitializersOfTheInputAreKept) {
  ModelBuilder b = ConvBatchNormRelu();
  b.RandomInitializer("unrelated_unused", {2});
  const auto result = FoldAndVerify(b.model());
  EXPECT_NE(result.folded.graph.FindInitializer("unrelated_unused"), nullptr);
}

TEST(BatchNormFoldLegalityTest, DefaultEpsilonIsOnnxDefault) {
  ModelBuilder b = ConvBatchNormRelu();
  // A variance so small that eps dominates: the wrong default would show.
  Tensor* var = b.graph().MutableInitializer("bn.var");
  var->SetFloats(std::vector<float>(4, 1e-6f));
  b.graph().Producer("y")->RemoveAttribute("epsilon");
  FoldAndVerify(b.model());
}

TEST(BatchNormFoldLegalityTest, TwoBatchNormsInARowBothFold) {
  ModelBuilder b(13);
  b.Input("x", {-1, 3, 5, 5});
  b.RandomInitializer("w", {4, 3, 3, 3});
  b.AddNode("Conv", {"x", "w"}, {"c"}, "conv");
  b.BatchNorm("bn1", "c", "y1", 4);
  b.BatchNorm("bn2", "y1", "y2", 4, 1e-3f);
  b.Output("y2");
  const auto result = FoldAndVerify(b.model());
  EXPECT_EQ(FoldCategory(*FindRecord(result.report, "bn1")), "backward:Conv");
  EXPECT_EQ(FoldCategory(*FindRecord(result.report, "bn2")), "backward:Conv");
  EXPECT_EQ(result.folded.graph.num_nodes(), 1u);
  EXPECT_EQ(result.folded.graph.node(0).output(0), "y2");
}

TEST(BatchNormFoldLegalityTest, BatchNormInsideASubgraphIsReported) {
  ModelBuilder b(13);
  b.Input("x", {2, 4, 3, 3});
  b.Input("flag", {});
  b.graph().mutable_inputs()->back().dtype = DataType::kBool;
  Graph branch;
  branch.set_name("then_branch");
  for (const char* param : {"s", "b", "m", "v"}) {
    branch.AddInitializer(
        Tensor::FromFloats(param, {4}, std::vector<float>(4, 1.0f)));
  }
  branch.AddNode(Node("BatchNormalization", {"x", "s", "b", "m", "v"},
                      {"then_out"}, "inner_bn"));
  branch.mutable_outputs()->push_back(ValueInfo::ForTensor(
      "then_out", DataType::kFloat, std::vector<Dim>(4, Dim::Unknown())));
  Graph other;
  other.set_name("else_branch");
  other.AddNode(Node("Identity", {"x"}, {"else_out"}, "inner_id"));
  other.mutable_outputs()->push_back(ValueInfo::ForTensor(
      "else_out", DataType::kFloat, std::vector<Dim>(4, Dim::Unknown())));
  b.AddNode("If", {"flag"}, {"out"}, "if",
            {Attribute::FromGraph("then_branch", branch),
             Attribute::FromGraph("else_branch", other)});
  b.Output("out", 4);
  Model model = b.model();
  const FoldReport report = FoldBatchNormalization(model);
  ASSERT_EQ(report.batch_norms.size(), 1u);
  EXPECT_EQ(report.batch_norms[0].node, "inner_bn");
  EXPECT_EQ(report.batch_norms[0].backward.reason, FoldReason::kInSubgraph);
  ExpectValidOnnx(model);
}

}  // namespace
}  // namespace foldrt::graph::testing
