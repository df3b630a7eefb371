// Error types shared by every layer. Kernels do not throw; everything that
// validates input (ops entry points, the ONNX importer, the Session, the CLI)
// throws one of these, with enough context to name the offending file, node
// and op in a single line.
#ifndef FOLDRT_CORE_ERROR_H_
#define FOLDRT_CORE_ERROR_H_

#include <stdexcept>
#include <string>

namespace foldrt {

// Where an error happened. Empty fields are left out of the message.
struct ErrorContext {
  std::string file;  // model or data file
  std::string node;  // graph node name
  std::string op;    // op type, e.g. "BatchNormalization"
};

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message, ErrorContext context = {});

  // The message without the context prefix.
  const std::string& message() const { return message_; }
  const ErrorContext& context() const { return context_; }

 private:
  std::string message_;
  ErrorContext context_;
};

// A caller passed arguments that can never work (wrong lengths, bad layout).
class InvalidArgumentError : public Error {
 public:
  using Error::Error;
};

// A model or data file is malformed or inconsistent.
class FormatError : public Error {
 public:
  using Error::Error;
};

// Well-formed input that foldrt does not implement.
class UnsupportedError : public Error {
 public:
  using Error::Error;
};

// Reading or writing a file failed.
class IoError : public Error {
 public:
  using Error::Error;
};

// Formats "file: node 'n' (Op): message", leaving out empty parts.
std::string FormatErrorMessage(const std::string& message,
                               const ErrorContext& context);

// Rethrows `error` as the same type (InvalidArgumentError, FormatError,
// UnsupportedError, IoError or Error) with the missing parts of its context
// taken from `context`: the file when it names none, node and op when it
// names no node. For a layer that knows where it is (the session knows the
// file, the kernel builder the node) wrapping one that does not.
[[noreturn]] void RethrowWithContext(const Error& error,
                                     const ErrorContext& context);

}  // namespace foldrt

#endif  // FOLDRT_CORE_ERROR_H_
