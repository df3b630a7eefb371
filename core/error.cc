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

void RethrowWithContext(const Error& error, const ErrorContext& context) {
  ErrorContext merged = error.context();
  if (merged.file.empty()) merged.file = context.file;
  if (merged.node.empty()) {
    merged.node = context.node;
    merged.op = context.op;
  }
  if (dynamic_cast<const InvalidArgumentError*>(&error)) {
    throw InvalidArgumentError(error.message(), merged);
  }
  if (dynamic_cast<const FormatError*>(&error)) {
    throw FormatError(error.message(), merged);
  }
  if (dynamic_cast<const UnsupportedError*>(&error)) {
    throw UnsupportedError(error.message(), merged);
  }
  if (dynamic_cast<const IoError*>(&error)) {
    throw IoError(error.message(), merged);
  }
  throw Error(error.message(), merged);
}

Error::Error(const std::string& message, ErrorContext context)
    : std::runtime_error(FormatErrorMessage(message, context)),
      message_(message),
      context_(std::move(context)) {}

}  // namespace foldrt
