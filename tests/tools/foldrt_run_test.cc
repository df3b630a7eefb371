// `foldrt run` end to end: runs the built binary (no shell) on models in
// tests/data, compares the .npy files it writes with torch's reference
// outputs, and checks that bad input is one error line and a non-zero exit.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "core/npy.h"
#include "graph/graph.h"
#include "graph/onnx_io.h"
#include "tests/runtime/test_models.h"
#include "tests/tools/cli_test_util.h"

namespace foldrt {
namespace {

namespace fs = std::filesystem;
using testing::Compare;
using testing::Deviation;
using testing::ReadFile;
using testing::TestDataPath;
using testing::WithinTolerance;
using testing::WriteFile;

using RunResult = testing::CliResult;

class RunCliTest : public testing::CliTest {
 protected:
  // `foldrt run args...`.
  RunResult Run(const std::vector<std::string>& args) {
    std::vector<std::string> with_command = {"run"};
    with_command.insert(with_command.end(), args.begin(), args.end());
    return RunFoldrt(with_command);
  }

  // The output `file` written to `folder` against tests/data/`reference`.
  static void ExpectMatchesReference(const fs::path& file,
                                     const std::string& reference) {
    ASSERT_TRUE(fs::exists(file)) << file;
    const NpyArrayF32 got = ReadNpyF32(file.string());
    const NpyArrayF32 want = ReadNpyF32(TestDataPath(reference));
    ASSERT_EQ(got.shape, want.shape);
    const Deviation d =
        Compare(got.data.data(), want.data.data(), want.data.size());
    EXPECT_TRUE(WithinTolerance(d)) << file << ": relative L2 " << d.relative_l2
                                    << ", max |diff| " << d.max_abs;
  }
};

TEST_F(RunCliTest, WritesOutputsThatMatchTorch) {
  const RunResult result =
      Run({TestDataPath("resnet_bottleneck_downsample.onnx"), "--input",
           "input=" + TestDataPath("resnet_bottleneck_downsample.input.npy"),
           "--output-dir", Path("out"), "--threads", "2"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_TRUE(result.err.empty()) << result.err;
  EXPECT_NE(result.out.find("BatchNormalization: 4 of 4 folded"),
            std::string::npos)
      << result.out;
  EXPECT_NE(result.out.find("output 'output': float32 (3, 16, 6, 6)"),
            std::string::npos)
      << result.out;
  ExpectMatchesReference(dir_ / "out" / "output.npy",
                         "resnet_bottleneck_downsample.output.npy");
}

TEST_F(RunCliTest, OneInputModelsTakeAPlainFileAndEveryOutputIsWritten) {
  for (const bool fold : {true, false}) {
    SCOPED_TRACE(fold ? "folded" : "--no-fold");
    std::vector<std::string> args = {
        TestDataPath("conv_bn_two_outputs.onnx"),
        "--input",
        TestDataPath("conv_bn_two_outputs.input.npy"),
        "--output-dir",
        Path(fold ? "folded" : "unfolded"),
        "--threads",
        "1"};
    if (!fold) args.push_back("--no-fold");
    const RunResult result = Run(args);
    ASSERT_EQ(result.exit_code, 0) << result.err;
    const fs::path folder = dir_ / (fold ? "folded" : "unfolded");
    ExpectMatchesReference(folder / "output0.npy",
                           "conv_bn_two_outputs.output0.npy");
    ExpectMatchesReference(folder / "output1.npy",
                           "conv_bn_two_outputs.output1.npy");
  }
}

TEST_F(RunCliTest, RandomInputsAndTopFiveForAClassifier) {
  // No --input: seeded random data at batch 1; (1, 4) scores get a top list.
  const RunResult first = Run({TestDataPath("mlp_bn1d.onnx")});
  ASSERT_EQ(first.exit_code, 0) << first.err;
  EXPECT_NE(first.out.find("input 'input': float32 (1, 6), random normal"),
            std::string::npos)
      << first.out;
  EXPECT_NE(first.out.find("top-4: class "), std::string::npos) << first.out;
  const RunResult second = Run({TestDataPath("mlp_bn1d.onnx")});
  const auto scores = [](const std::string& out) {
    return out.substr(out.find("output 'output'"));
  };
  EXPECT_EQ(scores(first.out), scores(second.out));  // seeded
  EXPECT_FALSE(fs::exists(dir_ / "output.npy"));     // no --output-dir
}

TEST_F(RunCliTest, OutputNamesBecomeSafeDistinctFileNames) {
  // Outputs "scores/../x" and "scores_.._x" sanitize to one name: the
  // second gets a suffix, and nothing is written outside the folder.
  graph::Model model;
  model.opset_imports.push_back({"", 13});
  model.graph.mutable_inputs()->push_back(graph::ValueInfo::ForTensor(
      "x", graph::DataType::kFloat,
      std::vector<graph::Dim>{graph::Dim::Symbolic("N"),
                              graph::Dim::Known(7)}));
  model.graph.AddNode(graph::Node("Relu", {"x"}, {"scores/../x"}, "relu"));
  model.graph.AddNode(graph::Node("Neg", {"x"}, {"scores_.._x"}, "neg"));
  for (const char* name : {"scores/../x", "scores_.._x"}) {
    model.graph.mutable_outputs()->push_back(graph::ValueInfo::ForTensor(
        name, graph::DataType::kFloat,
        std::vector<graph::Dim>{graph::Dim::Symbolic("N"),
                                graph::Dim::Known(7)}));
  }
  graph::SaveOnnxModel(model, Path("neg.onnx"));
  // Neg is not a runtime op: refused at load, naming the node.
  ExpectOneLineError(Run({Path("neg.onnx")}), "node 'neg' (Neg)");

  model.graph.RemoveNode(model.graph.Producer("scores_.._x"));
  model.graph.AddNode(
      graph::Node("Identity", {"x"}, {"scores_.._x"}, "identity"));
  graph::SaveOnnxModel(model, Path("two.onnx"));
  const RunResult result = Run({Path("two.onnx"), "--output-dir", Path("out")});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_TRUE(fs::exists(dir_ / "out" / "scores_.._x.npy"));
  EXPECT_TRUE(fs::exists(dir_ / "out" / "scores_.._x_2.npy"));
  EXPECT_NE(result.out.find("top-5: class "), std::string::npos) << result.out;
  EXPECT_FALSE(fs::exists(dir_ / "x.npy"));
}

TEST_F(RunCliTest, BadInputsAreOneLineErrors) {
  const std::string model = TestDataPath("conv2d_bn.onnx");
  // Not a .npy file.
  std::ofstream(Path("garbage.npy")) << "not numpy";
  ExpectOneLineError(Run({model, "--input", Path("garbage.npy")}),
                     "garbage.npy");
  // A valid .npy of the wrong shape (another model's input).
  ExpectOneLineError(
      Run({model, "--input", TestDataPath("conv1d_bn.input.npy")}),
      "input 'input'");
  // A file that does not exist.
  ExpectOneLineError(Run({model, "--input", Path("missing.npy")}),
                     "missing.npy");
  // A model that does not exist.
  ExpectOneLineError(Run({Path("missing.onnx")}), "missing.onnx");
  // Usage errors exit with 2.
  EXPECT_EQ(Run({}).exit_code, 2);
  EXPECT_EQ(Run({model, "--threads", "-3"}).exit_code, 2);
  EXPECT_EQ(Run({model, "--frobnicate"}).exit_code, 2);
  EXPECT_EQ(Run({model, "--input", "input=" + Path("a.npy"), "--input",
                 "input=" + Path("b.npy")})
                .exit_code,
            2);
}

}  // namespace
}  // namespace foldrt
