// The one foldrt logger. Its level comes from FOLDRT_LOG_LEVEL
// (trace|debug|info|warn|error|off, default warn) or from SetLogLevel, which
// the CLI calls for -v / -q.
#ifndef FOLDRT_CORE_LOGGING_H_
#define FOLDRT_CORE_LOGGING_H_

#include <spdlog/spdlog.h>

#include <string_view>

namespace foldrt {

spdlog::logger& Logger();

// Accepts spdlog's level names; throws InvalidArgumentError on anything else.
void SetLogLevel(std::string_view level);

}  // namespace foldrt

#endif  // FOLDRT_CORE_LOGGING_H_
