// foldrt command-line tool: one CLI11 subcommand per command (one file
// each). Every error becomes one line on stderr: a usage error (exit 2) is
// followed by a pointer to the command's --help, anything else exits 1.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <exception>
#include <map>
#include <string>

#include "core/error.h"
#include "core/logging.h"
#include "tools/foldrt/batchnorm_command.h"
#include "tools/foldrt/bench_command.h"
#include "tools/foldrt/cli.h"
#include "tools/foldrt/fold_command.h"
#include "tools/foldrt/inspect_command.h"
#include "tools/foldrt/run_command.h"

namespace foldrt {
namespace {

// "see foldrt fold --help", or "see foldrt --help" before a command.
std::string HelpPointer(const CLI::App& app) {
  const auto commands = app.get_subcommands();
  return "see foldrt " +
         (commands.empty() ? std::string() : commands[0]->get_name() + " ") +
         "--help";
}

int UsageFailure(const CLI::App& app, const std::string& message) {
  std::fprintf(stderr, "foldrt: error: %s\n%s\n", message.c_str(),
               HelpPointer(app).c_str());
  return 2;
}

// A top-level parse error: CLI11 says "A subcommand is required" both when
// none is given and when the word given is not a command.
std::string TopLevelMessage(const CLI::App& app, const CLI::ParseError& error,
                            int argc, char** argv) {
  if (!app.get_subcommands().empty() ||
      dynamic_cast<const CLI::RequiredError*>(&error) == nullptr) {
    return error.what();
  }
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (!arg.empty() && arg[0] != '-') {
      return "unknown command '" + arg + "'";
    }
  }
  return "no command given";
}

int Main(int argc, char** argv) {
  CLI::App app(
      "foldrt: fold BatchNormalization into neighbouring ops of "
      "ONNX models and run them on the CPU",
      "foldrt");
  app.set_version_flag("--version", std::string("foldrt ") + FOLDRT_VERSION);
  // Given anywhere on the line (a command passes what it does not know up
  // here), in the order given.
  app.add_flag_callback(
         "-v", [] { SetLogLevel("debug"); }, "debug log")
      ->trigger_on_parse();
  app.add_flag_callback(
         "-q", [] { SetLogLevel("error"); }, "errors only")
      ->trigger_on_parse();
  app.get_formatter()->label("SUBCOMMAND", "COMMAND");
  app.get_formatter()->label("Subcommands", "Commands");
  app.require_subcommand(1);
  app.fallthrough();
  app.footer("commands in short (see foldrt <command> --help):\n");
  std::map<const CLI::App*, CommandRun> runs;
  for (const auto add : {AddBatchNormCommand, AddBenchCommand, AddFoldCommand,
                         AddInspectCommand, AddRunCommand}) {
    const CommandRun run = add(&app);
    runs.emplace(
        app.get_subcommands([](const CLI::App*) { return true; }).back(), run);
  }

  try {
    try {
      app.parse(argc, argv);
    } catch (const CLI::Success& done) {  // --help, --version
      return app.exit(done);
    } catch (const CLI::ParseError& error) {
      return UsageFailure(app, TopLevelMessage(app, error, argc, argv));
    }
    return runs.at(app.get_subcommands().at(0))();
  } catch (const UsageError& error) {
    return UsageFailure(app, error.what());
  } catch (const Error& error) {
    std::fprintf(stderr, "foldrt: error: %s\n", error.what());
    return 1;
  }
}

}  // namespace
}  // namespace foldrt

int main(int argc, char** argv) {
  try {
    return foldrt::Main(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "foldrt: internal error: %s\n", e.what());
    return 1;
  }
}
