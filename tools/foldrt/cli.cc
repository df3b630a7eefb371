#include "tools/foldrt/cli.h"

#include <CLI/CLI.hpp>
#include <climits>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace foldrt {

namespace {

// A command's --help: its synopsis and description instead of CLI11's
// generated usage line, then the options, then the global ones (which the
// command passes through to the top level).
class CommandFormatter : public CLI::Formatter {
 public:
  CommandFormatter(std::string synopsis, std::string description)
      : synopsis_(std::move(synopsis)), description_(std::move(description)) {
    column_width(24);
  }

  std::string make_description(const CLI::App*) const override { return ""; }
  std::string make_usage(const CLI::App*, std::string) const override {
    return "usage: " + synopsis_ + "\n" + description_;
  }
  // Descriptions wrapped to end before column 80.
  std::string make_option_desc(const CLI::Option* option) const override {
    const size_t width = 79 - get_column_width();
    std::string text;
    size_t line = 0;
    std::istringstream words(option->get_description());
    for (std::string word; words >> word;) {
      if (line > 0 && line + 1 + word.size() > width) {
        text += '\n';
        line = 0;
      } else if (line > 0) {
        text += ' ';
        ++line;
      }
      text += word;
      line += word.size();
    }
    return text;
  }
  std::string make_footer(const CLI::App*) const override {
    return "global options: -v (debug log), -q (errors only)\n";
  }

 private:
  std::string synopsis_;
  std::string description_;
};

}  // namespace

CLI::App* AddSubcommand(CLI::App* app, const CommandInfo& info) {
  CLI::App* command = app->add_subcommand(info.name, info.summary);
  command->group("Commands");
  command->formatter(
      std::make_shared<CommandFormatter>(info.synopsis, info.description));
  // As before CLI11: an option given twice takes its last value.
  command->option_defaults()->multi_option_policy(
      CLI::MultiOptionPolicy::TakeLast);
  std::string indented = "  " + std::string(info.synopsis);
  for (size_t at = indented.find('\n'); at != std::string::npos;
       at = indented.find('\n', at + 1)) {
    indented.insert(at + 1, "  ");
  }
  app->footer(app->get_footer() + indented + "\n");
  return command;
}

CLI::Option* AddModelArgument(CLI::App* command, const std::string& name,
                              const std::string& help, std::string* model) {
  return command->add_option(name, *model, help)->type_name("")->required();
}

namespace {

// `value` converted by `convert` (std::stoi, std::stof, ...), which must
// use all of it.
template <typename T>
T ParseWhole(const std::string& flag, const std::string& value,
             T (*convert)(const std::string&, size_t*)) {
  try {
    size_t used = 0;
    const T v = convert(value, &used);
    if (used == value.size()) return v;
  } catch (const std::logic_error&) {
  }
  throw UsageError("bad value '" + value + "' for " + flag);
}

int ToInt(const std::string& value, size_t* used) {
  return std::stoi(value, used);
}
float ToFloat(const std::string& value, size_t* used) {
  return std::stof(value, used);
}

}  // namespace

int ParseInt(const std::string& flag, const std::string& value) {
  return ParseWhole(flag, value, ToInt);
}

float ParseFloat(const std::string& flag, const std::string& value) {
  return ParseWhole(flag, value, ToFloat);
}

int64_t ParseCount(const std::string& flag, const std::string& value,
                   int64_t min, int64_t max) {
  try {
    size_t used = 0;
    const long long v = std::stoll(value, &used);
    if (used == value.size() && v >= min && v <= max) return v;
  } catch (const std::logic_error&) {
  }
  throw UsageError("bad value '" + value + "' for " + flag + " (expected " +
                   (min == 0 ? "0 or a positive count" : "a positive count") +
                   ")");
}

CLI::Option* AddConvertedOption(
    CLI::App* command, const std::string& names, const std::string& value_name,
    const std::string& help,
    std::function<void(const std::string& flag, const std::string& value)>
        convert) {
  auto flag = std::make_shared<std::string>();
  CLI::Option* option = command->add_option(
      names,
      [flag, convert](const CLI::results_t& values) {
        for (const std::string& value : values) convert(*flag, value);
        return true;
      },
      help);
  *flag = option->get_name();
  return option->multi_option_policy(CLI::MultiOptionPolicy::TakeAll)
      ->type_name(value_name);
}

CLI::Option* AddCountOption(CLI::App* command, const std::string& names,
                            const std::string& help, int min, int* target) {
  return AddConvertedOption(
      command, names, "N", help,
      [min, target](const std::string& flag, const std::string& value) {
        *target = static_cast<int>(ParseCount(flag, value, min, INT_MAX));
      });
}

}  // namespace foldrt
