#include "tests/tools/cli_test_util.h"

#include <google/protobuf/util/json_util.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <random>
#include <sstream>

namespace foldrt::testing {

namespace fs = std::filesystem;

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

void WriteFile(const fs::path& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary);
  out << bytes;
  ASSERT_TRUE(out.good()) << path;
}

google::protobuf::Struct ParseJson(const std::string& text) {
  google::protobuf::Struct parsed;
  const auto status =
      google::protobuf::util::JsonStringToMessage(text, &parsed);
  EXPECT_TRUE(status.ok()) << status.ToString() << "\n" << text;
  return parsed;
}

const google::protobuf::Value& Field(const google::protobuf::Struct& object,
                                     const std::string& key) {
  static const google::protobuf::Value kMissing;
  const auto found = object.fields().find(key);
  EXPECT_NE(found, object.fields().end()) << "no key '" << key << "'";
  return found == object.fields().end() ? kMissing : found->second;
}

std::string RandomNonModelBytes() {
  std::mt19937 engine(42);
  std::string bytes(4096, '\0');
  for (char& c : bytes) c = static_cast<char>(engine());
  bytes[0] = 0x42;  // not ONNX's first tag
  return bytes;
}

void CliTest::SetUp() {
  std::string pattern =
      (fs::temp_directory_path() / "foldrt_cli_XXXXXX").string();
  ASSERT_NE(mkdtemp(pattern.data()), nullptr);
  dir_ = pattern;
}

void CliTest::TearDown() {
  std::error_code error;
  fs::remove_all(dir_, error);
}

CliResult RunBinary(const std::string& binary,
                    const std::vector<std::string>& args,
                    const fs::path& capture_dir, unsigned timeout_seconds) {
  const fs::path out = capture_dir / ".stdout";
  const fs::path err = capture_dir / ".stderr";
  std::vector<std::string> argv_storage = {binary};
  argv_storage.insert(argv_storage.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& arg : argv_storage) argv.push_back(arg.data());
  argv.push_back(nullptr);
  const pid_t pid = fork();
  if (pid == 0) {
    if (!freopen(out.c_str(), "w", stdout) ||
        !freopen(err.c_str(), "w", stderr)) {
      _exit(126);
    }
    if (timeout_seconds > 0) alarm(timeout_seconds);
    execv(binary.c_str(), argv.data());
    _exit(127);
  }
  CliResult result;
  int status = 0;
  EXPECT_EQ(waitpid(pid, &status, 0), pid);
  if (WIFEXITED(status)) result.exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) result.signal = WTERMSIG(status);
  result.out = ReadFile(out);
  result.err = ReadFile(err);
  fs::remove(out);
  fs::remove(err);
  return result;
}

CliResult CliTest::RunFoldrt(const std::vector<std::string>& args) const {
  return RunBinary(FOLDRT_BINARY, args, dir_);
}

std::string CliTest::Path(const std::string& name) const {
  return (dir_ / name).string();
}

std::vector<std::string> CliTest::Files() const {
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir_)) {
    names.push_back(entry.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

void CliTest::ExpectOneLineError(const CliResult& result,
                                 const std::string& mentions) {
  EXPECT_EQ(result.exit_code, 1) << result.err;
  EXPECT_EQ(result.err.rfind("foldrt: error: ", 0), 0u) << result.err;
  EXPECT_EQ(std::count(result.err.begin(), result.err.end(), '\n'), 1)
      << result.err;
  EXPECT_NE(result.err.find(mentions), std::string::npos) << result.err;
}

void CliTest::ExpectUsageError(const CliResult& result,
                               const std::string& command,
                               const std::string& mentions) {
  EXPECT_EQ(result.exit_code, 2) << result.err;
  EXPECT_EQ(result.out, "");
  const size_t first_end = result.err.find('\n');
  ASSERT_NE(first_end, std::string::npos) << result.err;
  const std::string first = result.err.substr(0, first_end);
  EXPECT_EQ(first.rfind("foldrt: error: ", 0), 0u) << result.err;
  EXPECT_NE(first.find(mentions), std::string::npos) << result.err;
  EXPECT_EQ(
      result.err.substr(first_end + 1),
      "see foldrt " + (command.empty() ? "" : command + " ") + "--help\n");
}

}  // namespace foldrt::testing
