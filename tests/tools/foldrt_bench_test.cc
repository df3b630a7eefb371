// `foldrt bench` end to end: runs the built binary on a tests/data model with
// a few iterations and checks the JSON report against itself (percentiles
// of the listed latencies, throughput), the outputs against torch, the
// profile, the progress line on a terminal, and bad arguments.
#include <google/protobuf/struct.pb.h>
#include <gtest/gtest.h>
#include <pty.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <string>
#include <vector>

#include "core/npy.h"
#include "tests/runtime/test_models.h"
#include "tests/tools/cli_test_util.h"

namespace foldrt {
namespace {

using google::protobuf::Struct;
using google::protobuf::Value;
using testing::CliResult;
using testing::Compare;
using testing::Deviation;
using testing::Field;
using testing::ParseJson;
using testing::ReadFile;
using testing::TestDataPath;
using testing::WithinTolerance;

// The model every test runs: (N, 8, 8, 8) in and out, 2 BNs that both fold,
// a residual Add; the reference input and output have N = 3.
constexpr char kModel[] = "resnet_basic_block.onnx";

double Number(const Struct& object, const std::string& key) {
  const Value& value = Field(object, key);
  EXPECT_TRUE(value.has_number_value()) << key << " is not a number";
  return value.number_value();
}

// numpy.percentile's default (linear between closest ranks), written out
// independently of the tool's.
double NumpyPercentile(std::vector<double> values, double p) {
  std::sort(values.begin(), values.end());
  const double rank = p / 100.0 * (values.size() - 1);
  const size_t lo = static_cast<size_t>(rank);
  const size_t hi = std::min(lo + 1, values.size() - 1);
  return values[lo] + (rank - lo) * (values[hi] - values[lo]);
}

class BenchCliTest : public testing::CliTest {
 protected:
  CliResult Bench(std::vector<std::string> args) {
    args.insert(args.begin(), "bench");
    return RunFoldrt(args);
  }

  // A successful bench run with --json; returns the parsed report.
  Struct BenchJson(std::vector<std::string> args) {
    const std::string json = Path("report.json");
    args.push_back("--json");
    args.push_back(json);
    const CliResult result = Bench(args);
    EXPECT_EQ(result.exit_code, 0) << result.err;
    // Not a terminal: no progress line, nothing on stderr.
    EXPECT_EQ(result.err, "");
    return ParseJson(ReadFile(json));
  }
};

TEST_F(BenchCliTest, JsonFiguresAreConsistent) {
  const Struct report =
      BenchJson({TestDataPath(kModel), "--batch", "2", "--threads", "1",
                 "--iterations", "7", "--warmup", "2"});
  EXPECT_EQ(Number(report, "batch"), 2);
  EXPECT_EQ(Number(report, "threads"), 1);
  EXPECT_EQ(Number(report, "warmup"), 2);
  EXPECT_EQ(Number(report, "iterations"), 7);
  EXPECT_TRUE(Field(report, "fold").bool_value());
  EXPECT_EQ(Number(report, "batch_norms"), 2);
  EXPECT_EQ(Number(report, "batch_norms_folded"), 2);

  const auto& inputs = Field(report, "inputs").list_value().values();
  ASSERT_EQ(inputs.size(), 1);
  const Struct& input = inputs[0].struct_value();
  EXPECT_EQ(Field(input, "name").string_value(), "input");
  std::vector<double> shape;
  for (const Value& d : Field(input, "shape").list_value().values()) {
    shape.push_back(d.number_value());
  }
  EXPECT_EQ(shape, (std::vector<double>{2, 8, 8, 8}));

  std::vector<double> latencies;
  for (const Value& v : Field(report, "latencies_ms").list_value().values()) {
    latencies.push_back(v.number_value());
  }
  ASSERT_EQ(latencies.size(), 7u);
  for (double ms : latencies) EXPECT_GT(ms, 0);
  double total = 0;
  for (double ms : latencies) total += ms;

  // The summary is computed from exactly these runs (values are printed
  // with 6 significant digits).
  const Struct& latency = Field(report, "latency_ms").struct_value();
  const auto near = [](double got, double want) {
    EXPECT_NEAR(got, want, 1e-5 * std::abs(want) + 1e-9);
  };
  near(Number(latency, "min"),
       *std::min_element(latencies.begin(), latencies.end()));
  near(Number(latency, "max"),
       *std::max_element(latencies.begin(), latencies.end()));
  near(Number(latency, "mean"), total / 7);
  near(Number(latency, "p50"), NumpyPercentile(latencies, 50));
  near(Number(latency, "p90"), NumpyPercentile(latencies, 90));
  near(Number(latency, "p99"), NumpyPercentile(latencies, 99));
  near(Number(report, "throughput_samples_per_s"), 2 * 7 / (total / 1e3));

  EXPECT_GT(Number(report, "session_create_ms"), 0);
  EXPECT_GT(Number(report, "first_run_ms"), 0);
  const double before = Number(report, "rss_before_load_mb");
  const double after_load = Number(report, "rss_after_load_mb");
  const double peak = Number(report, "peak_rss_mb");
  EXPECT_GT(before, 0);
  EXPECT_GT(after_load, 0);
  EXPECT_GE(peak, after_load);
  EXPECT_GE(peak, Number(report, "rss_after_runs_mb"));
  EXPECT_GE(Number(report, "minor_page_faults_per_run"), 0);
  EXPECT_EQ(report.fields().count("profile"), 0u);
}

TEST_F(BenchCliTest, TextReport) {
  const CliResult result = Bench({TestDataPath(kModel), "--iterations", "3",
                                  "--warmup", "0", "--no-fold"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(result.err, "");
  for (const char* expected :
       {"BatchNormalization: not folded (--no-fold)",
        "input 'input': float32 (1, 8, 8, 8), random normal, seed 0",
        "batch 1, 1 thread, 0 warmup, 3 timed runs", "session creation",
        "first run", "latency ms        min ", " p50 ", " p99 ", "samples/s",
        "RSS before load", "page faults/run"}) {
    EXPECT_NE(result.out.find(expected), std::string::npos)
        << "'" << expected << "' missing from:\n"
        << result.out;
  }
}

TEST_F(BenchCliTest, OutputsOfTheGivenInputMatchTorch) {
  const Struct report =
      BenchJson({TestDataPath(kModel), "--batch", "3", "--iterations", "2",
                 "--input", TestDataPath("resnet_basic_block.input.npy"),
                 "--output-dir", Path("out"), "--threads", "2"});
  const Struct& outputs = Field(report, "outputs").struct_value();
  const std::string file = Field(outputs, "output").string_value();
  EXPECT_EQ(file, Path("out") + "/output.npy");
  const NpyArrayF32 got = ReadNpyF32(file);
  const NpyArrayF32 want =
      ReadNpyF32(TestDataPath("resnet_basic_block.output.npy"));
  ASSERT_EQ(got.shape, want.shape);
  const Deviation d =
      Compare(got.data.data(), want.data.data(), want.data.size());
  EXPECT_TRUE(WithinTolerance(d))
      << "relative L2 " << d.relative_l2 << ", max |diff| " << d.max_abs;
  EXPECT_EQ(Field(Field(report, "inputs").list_value().values(0).struct_value(),
                  "source")
                .string_value(),
            "from " + TestDataPath("resnet_basic_block.input.npy"));
}

TEST_F(BenchCliTest, ProfileCoversEveryKernel) {
  const Struct report = BenchJson({TestDataPath(kModel), "--iterations", "4",
                                   "--warmup", "1", "--profile"});
  const Struct& profile = Field(report, "profile").struct_value();
  EXPECT_EQ(Number(profile, "runs"), 4);
  // conv+bn+relu, conv+bn+add+relu: the two Convs with their BNs folded,
  // the first with its ReLU fused, the second with the residual Add and the
  // last ReLU.
  double ops_ms = 0;
  std::vector<std::string> ops;
  for (const Value& v : Field(profile, "ops").list_value().values()) {
    ops.push_back(Field(v.struct_value(), "op").string_value());
    ops_ms += Number(v.struct_value(), "ms_per_run");
  }
  std::sort(ops.begin(), ops.end());
  // Plus the layout conversions, where oneDNN's convolutions pick another
  // layout than NCHW (the graph output must be NCHW): on x86, not on
  // aarch64 where Debian's oneDNN runs reference convolutions.
  const size_t conversions =
      std::find(ops.begin(), ops.end(), "Reorder") != ops.end() ? 1 : 0;
  if (conversions == 1) ops.erase(std::find(ops.begin(), ops.end(), "Reorder"));
  EXPECT_EQ(ops, (std::vector<std::string>{"Conv+Add+Relu", "Conv+Relu"}));
  EXPECT_EQ(Field(profile, "nodes").list_value().values_size(),
            2 + static_cast<int>(conversions));
  const double run_ms = Number(profile, "ms_per_run");
  EXPECT_GT(ops_ms, 0);
  EXPECT_LE(ops_ms, run_ms * (1 + 1e-4));
  EXPECT_NEAR(Number(profile, "outside_kernels_ms_per_run"), run_ms - ops_ms,
              1e-5 * run_ms + 1e-6);
}

TEST_F(BenchCliTest, ProfileFromTheEnvironmentPrintsAtExit) {
  ASSERT_EQ(setenv("FOLDRT_PROFILE", "1", 1), 0);
  const CliResult result =
      RunFoldrt({"run", TestDataPath(kModel), "--threads", "1"});
  unsetenv("FOLDRT_PROFILE");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_NE(
      result.err.find("foldrt profile: " + TestDataPath(kModel) + ", 1 runs"),
      std::string::npos)
      << result.err;
  EXPECT_NE(result.err.find("Conv+Relu"), std::string::npos) << result.err;
  EXPECT_NE(result.err.find("(outside kernels)"), std::string::npos);

  const CliResult quiet = RunFoldrt({"run", TestDataPath(kModel)});
  EXPECT_EQ(quiet.err, "");
}

// On a terminal the progress line is rewritten with '\r' and erased at the
// end, so the report that follows starts on a clean line.
TEST_F(BenchCliTest, ProgressLineOnATerminal) {
  int master = -1;
  const pid_t pid = forkpty(&master, nullptr, nullptr, nullptr);
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    const std::string model = TestDataPath(kModel);
    execl(FOLDRT_BINARY, FOLDRT_BINARY, "bench", model.c_str(), "--iterations",
          "3", "--warmup", "1", static_cast<char*>(nullptr));
    _exit(127);
  }
  std::string output;
  char buffer[4096];
  for (;;) {
    const ssize_t n = read(master, buffer, sizeof(buffer));
    if (n > 0) {
      output.append(buffer, static_cast<size_t>(n));
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else {
      break;  // EIO once the child has closed the terminal
    }
  }
  close(master);
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0) << output;
  const size_t progress = output.find("\rfoldrt bench: run 3/3, last ");
  ASSERT_NE(progress, std::string::npos) << output;
  const size_t report = output.find("model ", progress);
  ASSERT_NE(report, std::string::npos) << output;
  // Erased: '\r', blanks, '\r' right before the report.
  const std::string between = output.substr(progress + 1, report - progress);
  const size_t erase = between.rfind('\r', between.size() - 2);
  ASSERT_NE(erase, std::string::npos) << output;
  EXPECT_EQ(between.find_first_not_of(' ', erase + 1), between.size() - 1);
}

TEST_F(BenchCliTest, BadArgumentsAreUsageErrors) {
  const std::string model = TestDataPath(kModel);
  const std::vector<std::vector<std::string>> cases = {
      {},
      {model, "--batch", "0"},
      {model, "--batch", "two"},
      {model, "--iterations", "0"},
      {model, "--warmup", "-1"},
      {model, "--threads", "-2"},
      {model, "--iterations"},
      {model, "--frobnicate"},
      {model, model},
  };
  for (const std::vector<std::string>& args : cases) {
    const CliResult result = Bench(args);
    EXPECT_EQ(result.exit_code, 2) << result.err;
    EXPECT_EQ(result.err.rfind("foldrt: error: ", 0), 0u) << result.err;
    EXPECT_EQ(result.out, "");
  }
}

TEST_F(BenchCliTest, BadInputIsOneErrorLine) {
  ExpectOneLineError(Bench({Path("missing.onnx")}), "missing.onnx");
  // The file's batch (3) is not --batch (2): the throughput would lie.
  ExpectOneLineError(Bench({TestDataPath(kModel), "--batch", "2", "--input",
                            TestDataPath("resnet_basic_block.input.npy")}),
                     "--batch is 2");
  ExpectOneLineError(Bench({TestDataPath(kModel), "--iterations", "1", "--json",
                            Path("no/such/dir/report.json")}),
                     "cannot write the JSON report");
}

}  // namespace
}  // namespace foldrt
