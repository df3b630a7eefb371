// The foldrt command line itself (tools/foldrt/main.cc, cli.cc on CLI11):
// per-command --help, --version, and usage errors as one line plus a
// pointer to the command's --help, exit 2.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/runtime/test_models.h"
#include "tests/tools/cli_test_util.h"

namespace foldrt {
namespace {

using testing::CliResult;
using testing::TestDataPath;

class FoldrtCliTest : public testing::CliTest {};

// Each of `parts` is in `text` (`present`) or none is.
void ExpectMentions(const std::string& text,
                    const std::vector<std::string>& parts, bool present) {
  for (const std::string& part : parts) {
    EXPECT_EQ(text.find(part) != std::string::npos, present)
        << "'" << part << "' " << (present ? "missing from" : "in") << ":\n"
        << text;
  }
}

TEST_F(FoldrtCliTest, CommandHelpShowsThatCommandOnly) {
  const CliResult result = RunFoldrt({"fold", "--help"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(result.err, "");
  ExpectMentions(
      result.out,
      {"usage: foldrt fold IN.onnx -o OUT.onnx", "-o,--output", "--report",
       "--no-forward", "--force", "--verify", "-v (debug log)"},
      true);
  // run's, bench's and batchnorm's options are not fold's.
  ExpectMentions(result.out,
                 {"--expect", "--output-dir", "--iterations", "--params",
                  "foldrt run", "foldrt bench"},
                 false);
}

TEST_F(FoldrtCliTest, TopLevelHelpListsEveryCommand) {
  const CliResult result = RunFoldrt({"--help"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  ExpectMentions(
      result.out,
      {"foldrt batchnorm --input X.npy", "foldrt bench MODEL.onnx",
       "foldrt fold IN.onnx -o OUT.onnx", "foldrt inspect MODEL.onnx",
       "foldrt run MODEL.onnx", "--version"},
      true);
}

TEST_F(FoldrtCliTest, VersionIsTheProjectVersion) {
  const CliResult result = RunFoldrt({"--version"});
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(result.out, std::string("foldrt ") + FOLDRT_VERSION + "\n");
  EXPECT_EQ(result.err, "");
}

TEST_F(FoldrtCliTest, UsageErrorsAreOneLineAndAPointerToHelp) {
  const std::string model = TestDataPath("conv2d_bn.onnx");
  // No command, an unknown one.
  ExpectUsageError(RunFoldrt({}), "", "no command given");
  ExpectUsageError(RunFoldrt({"-v"}), "", "no command given");
  ExpectUsageError(RunFoldrt({"frobnicate"}), "", "unknown command");
  // An unknown option, a missing value, a bad value, a missing required
  // option or argument, one argument too many.
  ExpectUsageError(RunFoldrt({"run", model, "--frobnicate"}), "run",
                   "--frobnicate");
  ExpectUsageError(RunFoldrt({"bench", model, "--iterations"}), "bench",
                   "--iterations");
  ExpectUsageError(RunFoldrt({"bench", model, "--batch", "two"}), "bench",
                   "bad value 'two' for --batch");
  ExpectUsageError(RunFoldrt({"batchnorm", "--input", Path("x.npy"),
                              "--activation", "clip:0"}),
                   "batchnorm", "bad --activation 'clip:0'");
  ExpectUsageError(RunFoldrt({"batchnorm", "--input", Path("x.npy")}),
                   "batchnorm", "--params");
  ExpectUsageError(RunFoldrt({"fold", model}), "fold", "--output");
  ExpectUsageError(RunFoldrt({"inspect"}), "inspect", "MODEL.onnx");
  ExpectUsageError(RunFoldrt({"inspect", model, model}), "inspect", model);
  // Found after parsing: still the command's usage error.
  ExpectUsageError(RunFoldrt({"fold", model, "-o", model}), "fold", "--force");
  // Anything else stays one line and exit 1.
  ExpectOneLineError(RunFoldrt({"inspect", Path("missing.onnx")}),
                     "missing.onnx");
}

TEST_F(FoldrtCliTest, GlobalOptionsGoAnywhere) {
  const std::string model = TestDataPath("conv2d_bn.onnx");
  for (const std::vector<std::string>& args :
       std::vector<std::vector<std::string>>{{"-q", "inspect", model},
                                             {"inspect", model, "-q"},
                                             {"inspect", "-v", model}}) {
    const CliResult result = RunFoldrt(args);
    EXPECT_EQ(result.exit_code, 0) << result.err;
    EXPECT_NE(result.out.find("Total params"), std::string::npos);
  }
}

}  // namespace
}  // namespace foldrt
