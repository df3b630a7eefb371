// `foldrt fold` end to end: runs the built binary (no shell) on the models in
// tests/data and on broken files, and checks exit status, the one-line
// error, and that nothing is left behind when it fails.
#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>
#include <gtest/gtest.h>
#include <onnx/onnx_pb.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "graph/graph.h"
#include "graph/onnx_io.h"
#include "tests/tools/cli_test_util.h"

namespace foldrt {
namespace {

namespace fs = std::filesystem;
using testing::ReadFile;
using testing::WriteFile;

std::string DataPath(const std::string& file) {
  return std::string(FOLDRT_TEST_DATA_DIR) + "/" + file;
}

using RunResult = testing::CliResult;

// A fresh folder per test, removed afterwards.
class FoldCliTest : public testing::CliTest {
 protected:
  RunResult Run(const std::vector<std::string>& args) {
    return RunFoldrt(args);
  }

  // A failed run: status 1, exactly one line "foldrt: error: ..." naming
  // `mentions`, and only `kept` left in the folder.
  void ExpectCleanFailure(const RunResult& result, const std::string& mentions,
                          const std::vector<std::string>& kept) {
    ExpectOneLineError(result, mentions);
    EXPECT_EQ(Files(), kept);
  }

  onnx::ModelProto LoadProto(const std::string& model) {
    onnx::ModelProto proto;
    EXPECT_TRUE(proto.ParseFromString(ReadFile(DataPath(model))));
    return proto;
  }
};

TEST_F(FoldCliTest, FoldsAModelAndWritesTheReport) {
  const RunResult result =
      Run({"fold", DataPath("resnet_bottleneck_downsample.onnx"), "-o",
           Path("out.onnx"), "--report", Path("report.json")});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_TRUE(result.err.empty()) << result.err;
  EXPECT_NE(result.out.find("4 BatchNormalization, 4 folded backward"),
            std::string::npos)
      << result.out;
  EXPECT_EQ(Files(), (std::vector<std::string>{"out.onnx", "report.json"}));

  const graph::Model folded = graph::LoadOnnxModel(Path("out.onnx"));
  for (const graph::Node* node : folded.graph.nodes()) {
    EXPECT_NE(node->op_type(), "BatchNormalization");
  }
  google::protobuf::Struct report;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(
                  ReadFile(Path("report.json")), &report)
                  .ok());
  const auto& records = report.fields().at("batch_norms").list_value().values();
  ASSERT_EQ(records.size(), 4);
  for (const auto& record : records) {
    EXPECT_EQ(record.struct_value().fields().at("fold").string_value(),
              "backward:Conv");
  }
}

TEST_F(FoldCliTest, VerifyRunsBothModelsBeforeWriting) {
  const RunResult result = Run({"fold", DataPath("efficientnet_mbconv_se.onnx"),
                                "-o", Path("out.onnx"), "--verify"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_NE(result.out.find("verified: 1 output agree"), std::string::npos)
      << result.out;
  EXPECT_EQ(Files(), (std::vector<std::string>{"out.onnx"}));
}

TEST_F(FoldCliTest, VerifyRefusesToWriteOutputsItCannotCheck) {
  // Conv weights near FLT_MAX: both models overflow to Inf/NaN, which no
  // tolerance can vouch for, so --verify must refuse and leave no file.
  onnx::ModelProto proto = LoadProto("conv2d_bn.onnx");
  for (onnx::TensorProto& init :
       *proto.mutable_graph()->mutable_initializer()) {
    if (init.dims_size() != 4) continue;  // the conv weight
    std::string& raw = *init.mutable_raw_data();
    for (size_t i = 0; i + 4 <= raw.size(); i += 4) {
      const float huge = 3e38f;
      std::memcpy(&raw[i], &huge, 4);
    }
  }
  WriteFile(Path("huge.onnx"), proto.SerializeAsString());
  const RunResult result =
      Run({"fold", Path("huge.onnx"), "-o", Path("out.onnx"), "--verify"});
  ExpectCleanFailure(result, "--verify: output", {"huge.onnx"});
  EXPECT_NE(result.err.find("nothing written"), std::string::npos)
      << result.err;
}

TEST_F(FoldCliTest, NoForwardKeepsTheBatchNorm) {
  const RunResult result = Run(
      {"fold", DataPath("bn_conv.onnx"), "--no-forward", "-o", Path("o.onnx")});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_NE(result.out.find("forward_disabled"), std::string::npos);
  const graph::Model folded = graph::LoadOnnxModel(Path("o.onnx"));
  EXPECT_EQ(folded.graph.num_nodes(), 2u);
}

TEST_F(FoldCliTest, RandomBytesAreNotAModel) {
  WriteFile(Path("random.onnx"), testing::RandomNonModelBytes());
  ExpectCleanFailure(Run({"fold", Path("random.onnx"), "-o", Path("out.onnx"),
                          "--report", Path("r.json")}),
                     "not an ONNX model", {"random.onnx"});
}

TEST_F(FoldCliTest, TruncatedModel) {
  const std::string bytes = ReadFile(DataPath("conv2d_bn.onnx"));
  WriteFile(Path("cut.onnx"), bytes.substr(0, bytes.size() / 2));
  ExpectCleanFailure(Run({"fold", Path("cut.onnx"), "-o", Path("out.onnx")}),
                     "truncated", {"cut.onnx"});
}

TEST_F(FoldCliTest, EmptyAndMissingFiles) {
  WriteFile(Path("empty.onnx"), "");
  ExpectCleanFailure(Run({"fold", Path("empty.onnx"), "-o", Path("out.onnx")}),
                     "empty.onnx", {"empty.onnx"});
  ExpectCleanFailure(
      Run({"fold", Path("missing.onnx"), "-o", Path("out.onnx")}),
      "missing.onnx", {"empty.onnx"});
}

TEST_F(FoldCliTest, UnknownOpset) {
  onnx::ModelProto proto = LoadProto("conv2d_bn.onnx");
  proto.mutable_opset_import(0)->set_version(99);
  WriteFile(Path("opset99.onnx"), proto.SerializeAsString());
  ExpectCleanFailure(
      Run({"fold", Path("opset99.onnx"), "-o", Path("out.onnx")}), "opset 99",
      {"opset99.onnx"});
}

TEST_F(FoldCliTest, MissingInitializer) {
  onnx::ModelProto proto = LoadProto("conv2d_bn.onnx");
  auto* initializers = proto.mutable_graph()->mutable_initializer();
  const auto it = std::find_if(
      initializers->begin(), initializers->end(),
      [](const onnx::TensorProto& t) { return t.name() == "bn.running_var"; });
  ASSERT_NE(it, initializers->end());
  initializers->erase(it);
  WriteFile(Path("missing_init.onnx"), proto.SerializeAsString());
  ExpectCleanFailure(
      Run({"fold", Path("missing_init.onnx"), "-o", Path("out.onnx")}),
      "bn.running_var", {"missing_init.onnx"});
}

TEST_F(FoldCliTest, Cycle) {
  onnx::ModelProto proto = LoadProto("resnet_basic_block.onnx");
  // conv1 reads the block's final output: a cycle through every node.
  onnx::NodeProto* conv1 = proto.mutable_graph()->mutable_node(0);
  ASSERT_EQ(conv1->op_type(), "Conv");
  conv1->set_input(0, "/Add_output_0");
  WriteFile(Path("cycle.onnx"), proto.SerializeAsString());
  ExpectCleanFailure(Run({"fold", Path("cycle.onnx"), "-o", Path("out.onnx")}),
                     "cycle", {"cycle.onnx"});
}

TEST_F(FoldCliTest, OutputFolderMissingLeavesNoReport) {
  fs::copy_file(DataPath("conv2d_bn.onnx"), Path("in.onnx"));
  const RunResult result =
      Run({"fold", Path("in.onnx"), "-o", Path("no_such_dir/out.onnx"),
           "--report", Path("report.json")});
  ExpectCleanFailure(result, "no_such_dir", {"in.onnx"});
}

TEST_F(FoldCliTest, RefusesToOverwriteTheInput) {
  fs::copy_file(DataPath("conv2d_bn.onnx"), Path("in.onnx"));
  fs::create_directory(Path("sub"));
  fs::create_symlink(Path("in.onnx"), Path("link.onnx"));
  fs::create_hard_link(Path("in.onnx"), Path("hard.onnx"));
  const std::string original = ReadFile(Path("in.onnx"));
  for (const std::string& out : {Path("in.onnx"), Path("sub/../in.onnx"),
                                 Path("link.onnx"), Path("hard.onnx")}) {
    SCOPED_TRACE(out);
    const RunResult result = Run({"fold", Path("in.onnx"), "-o", out});
    EXPECT_EQ(result.exit_code, 2);
    EXPECT_EQ(result.err.rfind("foldrt: error: ", 0), 0u) << result.err;
    EXPECT_NE(result.err.find("--force"), std::string::npos);
    EXPECT_EQ(ReadFile(Path("in.onnx")), original);
  }
  const RunResult report_over_input =
      Run({"fold", Path("in.onnx"), "-o", Path("out.onnx"), "--report",
           Path("in.onnx")});
  EXPECT_EQ(report_over_input.exit_code, 2);
  EXPECT_EQ(ReadFile(Path("in.onnx")), original);
  EXPECT_EQ(Files(), (std::vector<std::string>{"hard.onnx", "in.onnx",
                                               "link.onnx", "sub"}));

  // --force folds in place.
  const RunResult forced =
      Run({"fold", Path("in.onnx"), "-o", Path("in.onnx"), "--force"});
  ASSERT_EQ(forced.exit_code, 0) << forced.err;
  const graph::Model folded = graph::LoadOnnxModel(Path("in.onnx"));
  EXPECT_EQ(folded.graph.num_nodes(), 1u);
}

TEST_F(FoldCliTest, UsageErrorsExitTwo) {
  const std::string model = DataPath("conv2d_bn.onnx");
  for (const std::vector<std::string>& args :
       std::vector<std::vector<std::string>>{
           {"fold"},
           {"fold", model},
           {"fold", model, "-o"},
           {"fold", model, "-o", Path("a.onnx"), "--bogus"},
           {"fold", model, model, "-o", Path("a.onnx")},
           {"fold", "-o", Path("a.onnx")}}) {
    const RunResult result = Run(args);
    EXPECT_EQ(result.exit_code, 2) << result.err;
    EXPECT_EQ(result.err.rfind("foldrt: error: ", 0), 0u) << result.err;
  }
  EXPECT_TRUE(Files().empty());
}

}  // namespace
}  // namespace foldrt
