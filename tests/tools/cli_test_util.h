// What the CLI tests share: a scratch folder per test and running the built
// foldrt binary (no shell) with its output captured.
#ifndef FOLDRT_TESTS_TOOLS_CLI_TEST_UTIL_H_
#define FOLDRT_TESTS_TOOLS_CLI_TEST_UTIL_H_

#include <google/protobuf/struct.pb.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

namespace foldrt::testing {

std::string ReadFile(const std::filesystem::path& path);
void WriteFile(const std::filesystem::path& path, const std::string& bytes);

// `text` as a JSON document (a test failure when it does not parse).
google::protobuf::Struct ParseJson(const std::string& text);

// The field `key` of `object` (a test failure, and a null value, when it
// is missing).
const google::protobuf::Value& Field(const google::protobuf::Struct& object,
                                     const std::string& key);

// 4 KiB of seeded random bytes whose first byte is not ONNX's first tag:
// a file that is certainly not a model.
std::string RandomNonModelBytes();

struct CliResult {
  int exit_code = -1;  // -1 when the process did not exit normally
  int signal = 0;      // the signal that ended it, if one did
  std::string out;
  std::string err;
};

// Runs `binary args...` (no shell) with stdout and stderr captured through
// the files .stdout and .stderr in `capture_dir` (removed again); killed by
// SIGALRM after `timeout_seconds` (0: no limit), so a hang fails the test.
CliResult RunBinary(const std::string& binary,
                    const std::vector<std::string>& args,
                    const std::filesystem::path& capture_dir,
                    unsigned timeout_seconds = 0);

class CliTest : public ::testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override;

  // `foldrt args...`, stdout and stderr captured (through files in the
  // scratch folder, removed again).
  CliResult RunFoldrt(const std::vector<std::string>& args) const;

  // A file in the scratch folder, and the folder's sorted file names.
  std::string Path(const std::string& name) const;
  std::vector<std::string> Files() const;

  // A failed run: status 1 and exactly one line "foldrt: error: ..."
  // containing `mentions`.
  static void ExpectOneLineError(const CliResult& result,
                                 const std::string& mentions);

  // A usage error: status 2, nothing on stdout, and exactly two lines on
  // stderr: "foldrt: error: ..." containing `mentions`, then "see foldrt
  // <command> --help" ("see foldrt --help" for an empty `command`).
  static void ExpectUsageError(const CliResult& result,
                               const std::string& command,
                               const std::string& mentions);

  std::filesystem::path dir_;
};

}  // namespace foldrt::testing

#endif  // FOLDRT_TESTS_TOOLS_CLI_TEST_UTIL_H_
