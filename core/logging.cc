#include "core/logging.h"

#include <spdlog/sinks/stdout_color_sinks.h>

#include <cstdlib>
#include <memory>
#include <string>

#include "core/error.h"

namespace foldrt {
namespace {

spdlog::level::level_enum ParseLevel(std::string_view name) {
  const std::string s(name);
  const auto level = spdlog::level::from_str(s);
  // from_str maps unknown names to "off"; only accept "off" when asked for.
  if (level == spdlog::level::off && s != "off") {
    throw InvalidArgumentError(
        "unknown log level '" + s +
        "' (expected trace, debug, info, warn, error or off)");
  }
  return level;
}

std::shared_ptr<spdlog::logger> MakeLogger() {
  // Logs go to stderr so that they never mix with a command's results.
  auto logger = spdlog::stderr_color_mt("foldrt");
  logger->set_pattern("[foldrt %^%l%$] %v");
  auto level = spdlog::level::warn;
  if (const char* env = std::getenv("FOLDRT_LOG_LEVEL")) {
    const auto parsed = spdlog::level::from_str(env);
    if (parsed != spdlog::level::off || std::string(env) == "off") {
      level = parsed;
    }
  }
  logger->set_level(level);
  return logger;
}

}  // namespace

spdlog::logger& Logger() {
  static const std::shared_ptr<spdlog::logger> logger = MakeLogger();
  return *logger;
}

void SetLogLevel(std::string_view level) {
  Logger().set_level(ParseLevel(level));
}

}  // namespace foldrt
