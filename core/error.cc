#include "core/error.h"

#include <utility>

namespace foldrt {

std::string FormatErrorMessage(const std::string& message,
                               const ErrorContext& context) {
  std::string out;
  if (!context.file.empty()) out += context.file + ": ";
  if (!context.node.empty()) {
    out += "node '" + context.node + "'";
    if (!context.op.empty()) out += " (" + context.op + ")";
    out += ": ";
  } else if (!context.op.empty()) {
    out += context.op + ": ";
  }
  return out + message;
}

Error::Error(const std::string& message, ErrorContext context)
    : std::runtime_error(FormatErrorMessage(message, context)),
      message_(message),
      context_(std::move(context)) {}

}  // namespace foldrt
