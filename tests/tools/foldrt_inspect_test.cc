// `foldrt inspect` end to end: runs the built binary (no shell) on the
// models in tests/data and on edited or broken copies, and checks its
// numbers against ones computed here from the ONNX protos and against
// tests/data/MANIFEST.json.
#include <google/protobuf/struct.pb.h>
#include <gtest/gtest.h>
#include <onnx/onnx_pb.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "tests/tools/cli_test_util.h"

namespace foldrt {
namespace {

namespace fs = std::filesystem;
using google::protobuf::ListValue;
using google::protobuf::Struct;
using google::protobuf::Value;
using testing::Field;
using testing::ParseJson;
using testing::ReadFile;
using testing::WriteFile;

std::string DataPath(const std::string& file) {
  return std::string(FOLDRT_TEST_DATA_DIR) + "/" + file;
}

int64_t Number(const Struct& object, const std::string& key) {
  return static_cast<int64_t>(Field(object, key).number_value());
}

// A JSON shape as text: [ "N", 8, null ] -> "N,8,null".
std::string ShapeOf(const Value& shape) {
  if (shape.has_null_value()) return "unknown rank";
  std::string text;
  for (const Value& dim : shape.list_value().values()) {
    if (!text.empty()) text += ",";
    if (dim.has_string_value()) {
      text += dim.string_value();
    } else if (dim.has_number_value()) {
      text += std::to_string(static_cast<int64_t>(dim.number_value()));
    } else {
      text += "null";
    }
  }
  return text;
}

onnx::ModelProto LoadProto(const std::string& model) {
  onnx::ModelProto proto;
  EXPECT_TRUE(proto.ParseFromString(ReadFile(DataPath(model)))) << model;
  return proto;
}

int64_t ElementCount(const onnx::TensorProto& tensor) {
  int64_t count = 1;
  for (int64_t dim : tensor.dims()) count *= dim;
  return count;
}

struct ParamCounts {
  int64_t trainable = 0;
  int64_t non_trainable = 0;
};

// The parameters by role, straight from the proto: every float initializer
// is a weight (the test models share none and have no scalar ones), those
// feeding a BatchNormalization's mean or variance are non-trainable.
ParamCounts CountInitializers(const onnx::ModelProto& proto) {
  std::set<std::string> statistics;
  for (const onnx::NodeProto& node : proto.graph().node()) {
    if (node.op_type() == "BatchNormalization") {
      statistics.insert(node.input(3));
      statistics.insert(node.input(4));
    }
  }
  ParamCounts counts;
  for (const onnx::TensorProto& tensor : proto.graph().initializer()) {
    if (tensor.data_type() != onnx::TensorProto::FLOAT) continue;
    (statistics.count(tensor.name()) ? counts.non_trainable
                                     : counts.trainable) +=
        ElementCount(tensor);
  }
  return counts;
}

using RunResult = testing::CliResult;

class InspectCliTest : public testing::CliTest {
 protected:
  RunResult Run(const std::vector<std::string>& args) {
    return RunFoldrt(args);
  }

  // `inspect --json` on `model`, which must succeed.
  Struct InspectJson(const std::string& model) {
    const RunResult result = Run({"inspect", model, "--json"});
    EXPECT_EQ(result.exit_code, 0) << result.err;
    EXPECT_TRUE(result.err.empty()) << result.err;
    return ParseJson(result.out);
  }

  // The layer named `name` in an inspect --json document.
  Struct Layer(const Struct& summary, const std::string& name) {
    for (const Value& layer : Field(summary, "layers").list_value().values()) {
      if (Field(layer.struct_value(), "name").string_value() == name) {
        return layer.struct_value();
      }
    }
    ADD_FAILURE() << "no layer '" << name << "'";
    return Struct();
  }

  // A failed run: status 1 and exactly one line "foldrt: error: ..."
  // naming `mentions`, nothing on stdout.
  void ExpectCleanFailure(const RunResult& result,
                          const std::string& mentions) {
    ExpectOneLineError(result, mentions);
    EXPECT_TRUE(result.out.empty()) << result.out;
  }

  std::string Save(const onnx::ModelProto& proto, const std::string& name) {
    WriteFile(Path(name), proto.SerializeAsString());
    return Path(name);
  }
};

Struct Manifest() { return ParseJson(ReadFile(DataPath("MANIFEST.json"))); }

TEST_F(InspectCliTest, TableShowsLayersShapesAndTotals) {
  const RunResult result =
      Run({"inspect", DataPath("resnet_basic_block.onnx")});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_TRUE(result.err.empty()) << result.err;
  const std::string& out = result.out;
  for (const char* expected : {
           "Layer (op)",
           "Output shape",
           "Param #",
           "input   input (N, 8, 8, 8) FLOAT",
           // conv 8x8x3x3, no bias
           " /conv1/Conv (Conv)                            (N, 8, 8, 8)      "
           "576\n",
           // gamma, beta, mean, var of 8 channels
           " /bn1/BatchNormalization (BatchNormalization)  (N, 8, 8, 8)       "
           "32\n",
           "Total params: 1,216\n",
           "Trainable params: 1,184\n",
           "Non-trainable params: 32\n",
           "BatchNormalization: 2 (2 fold backward, 0 fold forward, 0 stay)",
           "1e-05  1 (C=8)",
           "0.001  1 (C=8)",
           "backward into Conv '/conv1/Conv'",
       }) {
    EXPECT_NE(out.find(expected), std::string::npos)
        << "missing '" << expected << "' in\n"
        << out;
  }
}

TEST_F(InspectCliTest, TableSaysWhyABatchNormStays) {
  const RunResult result =
      Run({"inspect", DataPath("densenet_dense_block.onnx")});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_NE(result.out.find("BatchNormalization: 4 (2 fold backward, 0 fold "
                            "forward, 2 stay)"),
            std::string::npos)
      << result.out;
  EXPECT_NE(result.out.find("stays: unsupported_producer: Concat "
                            "'/layer1/Concat'"),
            std::string::npos)
      << result.out;
  EXPECT_NE(result.out.find("(N, 12, 8, 8)"), std::string::npos);
}

TEST_F(InspectCliTest, MlpCountsLinearWeightsAndBatchNorm) {
  const Struct summary = InspectJson(DataPath("mlp_bn1d.onnx"));
  // Linear(6, 8) + BatchNorm1d(8) + Linear(8, 4).
  const Struct& params = Field(summary, "params").struct_value();
  EXPECT_EQ(Number(params, "trainable"), (6 * 8 + 8) + 2 * 8 + (8 * 4 + 4));
  EXPECT_EQ(Number(params, "non_trainable"), 2 * 8);
  EXPECT_EQ(Number(params, "total"), 124);
  const Struct fc1 = Layer(summary, "/fc1/Gemm");
  EXPECT_EQ(Number(fc1, "params"), 6 * 8 + 8);
  const Struct bn = Layer(summary, "/bn/BatchNormalization");
  EXPECT_EQ(Number(bn, "params"), 4 * 8);
  EXPECT_EQ(Number(bn, "trainable_params"), 2 * 8);
  EXPECT_EQ(Number(bn, "non_trainable_params"), 2 * 8);
  EXPECT_EQ(Number(Layer(summary, "/relu/Relu"), "params"), 0);
  // The opset-9 export also lists the weights as graph inputs; they are
  // constants, not inputs to feed.
  ASSERT_EQ(Field(summary, "inputs").list_value().values_size(), 1);
  const Struct& input =
      Field(summary, "inputs").list_value().values(0).struct_value();
  EXPECT_EQ(Field(input, "name").string_value(), "input");
  EXPECT_EQ(ShapeOf(Field(input, "shape")), "N,6");
  EXPECT_EQ(Field(input, "dtype").string_value(), "FLOAT");
}

TEST_F(InspectCliTest, EveryModelMatchesItsInitializersAndManifest) {
  const Struct manifest = Manifest();
  const auto& models = Field(manifest, "models").list_value().values();
  ASSERT_EQ(models.size(), 22);
  for (const Value& entry : models) {
    const Struct& model = entry.struct_value();
    const std::string file = Field(model, "file").string_value();
    SCOPED_TRACE(file);
    const Struct summary = InspectJson(DataPath(file));
    EXPECT_TRUE(Field(summary, "shape_inference_error").has_null_value());

    const ParamCounts expected = CountInitializers(LoadProto(file));
    const Struct& params = Field(summary, "params").struct_value();
    EXPECT_EQ(Number(params, "trainable"), expected.trainable);
    EXPECT_EQ(Number(params, "non_trainable"), expected.non_trainable);
    EXPECT_EQ(Number(params, "total"),
              expected.trainable + expected.non_trainable);
    int64_t layer_sum = 0;
    for (const Value& layer : Field(summary, "layers").list_value().values()) {
      layer_sum += Number(layer.struct_value(), "params");
    }
    EXPECT_EQ(layer_sum, Number(params, "total"));

    // Running mean + variance: 2 * C per BN, C from the manifest.
    const auto& manifest_bns = Field(model, "batchnorms").list_value().values();
    const auto& bns = Field(summary, "batch_norms").list_value().values();
    ASSERT_EQ(bns.size(), manifest_bns.size());
    int64_t statistics = 0;
    for (int i = 0; i < manifest_bns.size(); ++i) {
      const Struct& want = manifest_bns[i].struct_value();
      const Struct& got = bns[i].struct_value();
      const std::string node = Field(want, "node").string_value();
      SCOPED_TRACE(node);
      EXPECT_EQ(Field(got, "node").string_value(), node);
      EXPECT_EQ(Field(got, "fold").string_value(),
                Field(want, "fold").string_value());
      EXPECT_EQ(Number(got, "channels"), Number(want, "channels"));
      EXPECT_EQ(Number(got, "channel_axis"), 1);
      EXPECT_EQ(static_cast<float>(Field(got, "epsilon").number_value()),
                static_cast<float>(Field(want, "epsilon").number_value()));
      EXPECT_FALSE(Field(got, "in_subgraph").bool_value());
      // The BN's input: batch symbol first, the channels on axis 1.
      const std::string shape = ShapeOf(Field(got, "input_shape"));
      const std::string batch_and_channels =
          "N," + std::to_string(Number(want, "channels"));
      EXPECT_TRUE(shape == batch_and_channels ||
                  shape.rfind(batch_and_channels + ",", 0) == 0)
          << shape;
      const bool folded = Field(want, "fold").string_value() != "none";
      EXPECT_EQ(Field(got, "target").has_struct_value(), folded);
      EXPECT_EQ(Field(got, "backward").has_struct_value() ||
                    Field(got, "forward").has_struct_value(),
                Field(want, "fold").string_value().rfind("backward:", 0) != 0);
      statistics += 2 * Number(want, "channels");
    }
    EXPECT_EQ(Number(params, "non_trainable"), statistics);

    // The declared outputs, batch symbol included, as the manifest has them.
    const auto& outputs = Field(summary, "outputs").list_value().values();
    const auto& manifest_outputs =
        Field(model, "outputs").list_value().values();
    ASSERT_EQ(outputs.size(), manifest_outputs.size());
    for (int i = 0; i < outputs.size(); ++i) {
      EXPECT_EQ(ShapeOf(Field(outputs[i].struct_value(), "shape")),
                ShapeOf(Field(manifest_outputs[i].struct_value(), "shape")));
    }
  }
}

TEST_F(InspectCliTest, InferredShapesKeepTheBatchSymbol) {
  const Struct summary = InspectJson(DataPath("efficientnet_mbconv_se.onnx"));
  const Struct pool = Layer(summary, "/se_pool/GlobalAveragePool");
  ASSERT_EQ(Field(pool, "outputs").list_value().values_size(), 1);
  EXPECT_EQ(ShapeOf(Field(
                Field(pool, "outputs").list_value().values(0).struct_value(),
                "shape")),
            "N,16,1,1");
  const Struct reduce = Layer(summary, "/se_reduce/Conv");
  EXPECT_EQ(ShapeOf(Field(
                Field(reduce, "outputs").list_value().values(0).struct_value(),
                "shape")),
            "N,4,1,1");
  EXPECT_EQ(Number(reduce, "params"), 16 * 4 + 4);
}

TEST_F(InspectCliTest, ScalarConstantsAreNotParameters) {
  // ReLU6 exports as Clip with two rank-0 Constant bounds.
  const onnx::ModelProto proto =
      LoadProto("mobilenetv2_inverted_residual.onnx");
  int scalar_constants = 0;
  for (const onnx::NodeProto& node : proto.graph().node()) {
    if (node.op_type() == "Constant") ++scalar_constants;
  }
  ASSERT_GT(scalar_constants, 0);
  const Struct summary =
      InspectJson(DataPath("mobilenetv2_inverted_residual.onnx"));
  const ParamCounts expected = CountInitializers(proto);
  EXPECT_EQ(Number(Field(summary, "params").struct_value(), "total"),
            expected.trainable + expected.non_trainable);
}

TEST_F(InspectCliTest, SharedWeightCountsOnceAtItsFirstReader) {
  onnx::ModelProto proto = LoadProto("resnet_basic_block.onnx");
  onnx::GraphProto* graph = proto.mutable_graph();
  // conv2 reads conv1's weight through an Identity; conv2.weight goes.
  for (onnx::NodeProto& node : *graph->mutable_node()) {
    if (node.name() == "/conv2/Conv") node.set_input(1, "shared_weight");
  }
  onnx::NodeProto* identity = graph->add_node();
  identity->set_op_type("Identity");
  identity->set_name("alias");
  identity->add_input("conv1.weight");
  identity->add_output("shared_weight");
  auto* initializers = graph->mutable_initializer();
  initializers->erase(std::find_if(
      initializers->begin(), initializers->end(),
      [](const onnx::TensorProto& t) { return t.name() == "conv2.weight"; }));
  const Struct summary = InspectJson(Save(proto, "shared.onnx"));
  EXPECT_EQ(Number(Field(summary, "params").struct_value(), "total"),
            1216 - 576);
  EXPECT_EQ(Number(Layer(summary, "/conv1/Conv"), "params"), 576);
  EXPECT_EQ(Number(Layer(summary, "/conv2/Conv"), "params"), 0);
  EXPECT_EQ(Number(Layer(summary, "alias"), "params"), 0);
}

TEST_F(InspectCliTest, UnknownOpLeavesItsShapesUnknown) {
  onnx::ModelProto proto = LoadProto("resnet_basic_block.onnx");
  for (onnx::NodeProto& node : *proto.mutable_graph()->mutable_node()) {
    if (node.name() == "/relu/Relu") {
      node.set_op_type("MyRelu");
      node.set_domain("custom.ops");
    }
  }
  onnx::OperatorSetIdProto* opset = proto.add_opset_import();
  opset->set_domain("custom.ops");
  opset->set_version(1);
  const Struct summary = InspectJson(Save(proto, "custom.onnx"));
  EXPECT_TRUE(Field(summary, "shape_inference_error").has_null_value());
  const Struct custom = Layer(summary, "/relu/Relu");
  EXPECT_EQ(Field(custom, "op").string_value(), "MyRelu");
  EXPECT_EQ(Field(custom, "domain").string_value(), "custom.ops");
  const Struct& output =
      Field(custom, "outputs").list_value().values(0).struct_value();
  EXPECT_TRUE(Field(output, "shape").has_null_value());
  // Before the unknown op inference still ran.
  EXPECT_EQ(ShapeOf(Field(Field(Layer(summary, "/conv1/Conv"), "outputs")
                              .list_value()
                              .values(0)
                              .struct_value(),
                          "shape")),
            "N,8,8,8");
  EXPECT_EQ(Number(Field(summary, "params").struct_value(), "total"), 1216);

  const RunResult table = Run({"inspect", Path("custom.onnx")});
  ASSERT_EQ(table.exit_code, 0) << table.err;
  EXPECT_NE(table.out.find("/relu/Relu (custom.ops:MyRelu)"), std::string::npos)
      << table.out;
}

TEST_F(InspectCliTest, ContradictingValueInfoFallsBackToDeclaredShapes) {
  onnx::ModelProto proto = LoadProto("resnet_basic_block.onnx");
  onnx::ValueInfoProto* info = proto.mutable_graph()->add_value_info();
  info->set_name("/conv1/Conv_output_0");
  auto* tensor_type = info->mutable_type()->mutable_tensor_type();
  tensor_type->set_elem_type(onnx::TensorProto::FLOAT);
  tensor_type->mutable_shape()->add_dim()->set_dim_param("N");
  for (int dim : {9, 8, 8}) {
    tensor_type->mutable_shape()->add_dim()->set_dim_value(dim);
  }
  const Struct summary = InspectJson(Save(proto, "conflict.onnx"));
  EXPECT_NE(Field(summary, "shape_inference_error")
                .string_value()
                .find("shape inference failed"),
            std::string::npos);
  EXPECT_EQ(ShapeOf(Field(Field(Layer(summary, "/conv1/Conv"), "outputs")
                              .list_value()
                              .values(0)
                              .struct_value(),
                          "shape")),
            "N,9,8,8");
  EXPECT_EQ(Number(Field(summary, "params").struct_value(), "total"), 1216);
}

TEST_F(InspectCliTest, JsonEscapesNames) {
  onnx::ModelProto proto = LoadProto("conv2d_bn.onnx");
  proto.mutable_graph()->mutable_node(0)->set_name("conv \"1\"\\\n\xff");
  const Struct summary = InspectJson(Save(proto, "odd_names.onnx"));
  const auto& layers = Field(summary, "layers").list_value().values();
  ASSERT_FALSE(layers.empty());
  EXPECT_EQ(Field(layers[0].struct_value(), "name").string_value(),
            "conv \"1\"\\\n\xef\xbf\xbd");
}

TEST_F(InspectCliTest, BadModelsFailWithOneLine) {
  WriteFile(Path("random.onnx"), testing::RandomNonModelBytes());
  ExpectCleanFailure(Run({"inspect", Path("random.onnx")}),
                     "not an ONNX model");

  const std::string bytes = ReadFile(DataPath("conv2d_bn.onnx"));
  WriteFile(Path("cut.onnx"), bytes.substr(0, bytes.size() / 2));
  ExpectCleanFailure(Run({"inspect", Path("cut.onnx"), "--json"}), "truncated");

  WriteFile(Path("empty.onnx"), "");
  ExpectCleanFailure(Run({"inspect", Path("empty.onnx")}), "empty.onnx");
  ExpectCleanFailure(Run({"inspect", Path("missing.onnx")}), "missing.onnx");
}

TEST_F(InspectCliTest, UsageErrorsExitTwo) {
  const std::string model = DataPath("conv2d_bn.onnx");
  for (const std::vector<std::string>& args :
       std::vector<std::vector<std::string>>{{"inspect"},
                                             {"inspect", "--json"},
                                             {"inspect", model, "--bogus"},
                                             {"inspect", model, model}}) {
    const RunResult result = Run(args);
    EXPECT_EQ(result.exit_code, 2) << result.err;
    EXPECT_EQ(result.err.rfind("foldrt: error: ", 0), 0u) << result.err;
    EXPECT_TRUE(result.out.empty());
  }
  const RunResult help = Run({"--help"});
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_NE(help.out.find("foldrt inspect MODEL.onnx [--json]"),
            std::string::npos);
}

}  // namespace
}  // namespace foldrt
