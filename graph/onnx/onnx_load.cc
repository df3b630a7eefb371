// Loading: the bytes of an .onnx file (mapped) or of a buffer parsed into a
// ModelProto, with the size limits and the errors that tell a truncated
// model from something that is no ONNX model at all; then onnx_import.cc
// turns the proto into the graph IR. LoadOnnxModel and ParseOnnxModel
// (graph/onnx_io.h) live here.
#include <fcntl.h>
#include <google/protobuf/io/coded_stream.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <climits>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <utility>

#include "core/error.h"
#include "graph/onnx/onnx_internal.h"

namespace foldrt::graph {
namespace {

namespace fs = std::filesystem;
using google::protobuf::io::CodedInputStream;
using onnx_internal::ErrnoText;
using onnx_internal::ImportContext;
using onnx_internal::ImportParsed;
using onnx_internal::LimitText;

// ModelProto's fields and their protobuf wire types, to tell a truncated
// model from bytes that are no ONNX model at all.
const std::map<uint32_t, uint32_t>& ModelProtoWireTypes() {
  constexpr uint32_t kVarint = 0;
  constexpr uint32_t kLengthDelimited = 2;
  static const std::map<uint32_t, uint32_t> kFields = {
      {1, kVarint},           {2, kLengthDelimited},  {3, kLengthDelimited},
      {4, kLengthDelimited},  {5, kVarint},           {6, kLengthDelimited},
      {7, kLengthDelimited},  {8, kLengthDelimited},  {14, kLengthDelimited},
      {20, kLengthDelimited}, {25, kLengthDelimited},
  };
  return kFields;
}

// Called after protobuf refused the bytes: walks the top-level fields to say
// whether the input was cut short or is something else entirely.
[[noreturn]] void ThrowParseFailure(const uint8_t* data, int size,
                                    const std::string& file) {
  const ErrorContext where{file, "", ""};
  CodedInputStream stream(data, size);
  stream.SetTotalBytesLimit(INT_MAX);
  // Every serializer writes fields in number order and ONNX requires
  // ir_version (field 1, a varint, tag byte 0x08), so a real model starts
  // with that byte; without it, running out of bytes says nothing about
  // truncation.
  const bool starts_like_onnx = data[0] == 0x08;
  auto truncated = [&](const std::string& detail) {
    if (!starts_like_onnx) {
      return FormatError("not an ONNX model (" + detail + ")", where);
    }
    return FormatError("truncated ONNX model: " + detail + " (file is " +
                           std::to_string(size) + " bytes)",
                       where);
  };
  // A varint that fails to parse with fewer than 10 bytes left was cut off.
  auto varint_failure = [&](int position, const std::string& what) {
    if (size - position < 10) {
      return truncated(what + " at byte " + std::to_string(position) +
                       " is cut off");
    }
    return FormatError("not an ONNX model (malformed protobuf " + what +
                           " at byte " + std::to_string(position) + ")",
                       where);
  };
  while (stream.CurrentPosition() < size) {
    const int position = stream.CurrentPosition();
    uint32_t tag = 0;
    if (!stream.ReadVarint32(&tag)) throw varint_failure(position, "field tag");
    const uint32_t field = tag >> 3;
    const uint32_t wire_type = tag & 7;
    const auto known = ModelProtoWireTypes().find(field);
    if (known == ModelProtoWireTypes().end() || known->second != wire_type) {
      throw FormatError("not an ONNX model (unexpected protobuf field " +
                            std::to_string(field) + ", wire type " +
                            std::to_string(wire_type) + ", at byte " +
                            std::to_string(position) + ")",
                        where);
    }
    if (wire_type == 0) {
      uint64_t value = 0;
      if (!stream.ReadVarint64(&value)) {
        throw varint_failure(position, "field " + std::to_string(field));
      }
      continue;
    }
    uint32_t length = 0;
    if (!stream.ReadVarint32(&length)) {
      throw varint_failure(position,
                           "length of field " + std::to_string(field));
    }
    const int remaining = size - stream.CurrentPosition();
    if (length > static_cast<uint32_t>(remaining)) {
      throw truncated("field " + std::to_string(field) + " at byte " +
                      std::to_string(position) + " needs " +
                      std::to_string(length) + " bytes, only " +
                      std::to_string(remaining) + " remain");
    }
    stream.Skip(static_cast<int>(length));
  }
  throw FormatError(
      "not an ONNX model, or a corrupt one (protobuf parsing failed inside "
      "a top-level field)",
      where);
}

// Parses `size` bytes into `proto`, with ParseModel's checks and errors.
void ParseProto(const void* data, size_t size, ImportContext* context,
                onnx::ModelProto* proto) {
  ImportContext& ctx = *context;
  const ErrorContext where{ctx.file, "", ""};
  if (size == 0) throw FormatError("empty file: not an ONNX model", where);
  if (size > ctx.limits.max_model_bytes) {
    throw UnsupportedError("model is " + std::to_string(size) +
                               " bytes, over " +
                               LimitText(ctx.limits.max_model_bytes, "bytes"),
                           where);
  }
  ctx.bytes_read = size;
  if (size > static_cast<size_t>(INT_MAX)) {
    throw UnsupportedError(
        "model is " + std::to_string(size) +
            " bytes; protobuf cannot hold more than 2 GiB (larger models "
            "keep their weights in external data files)",
        where);
  }
  const auto* bytes = static_cast<const uint8_t*>(data);
  CodedInputStream stream(bytes, static_cast<int>(size));
  // Older protobuf releases cap a stream at 64 MiB unless told otherwise,
  // which refuses ordinary CNNs such as ResNet-50 (~100 MB).
  stream.SetTotalBytesLimit(INT_MAX);
  if (!proto->ParseFromCodedStream(&stream) ||
      !stream.ConsumedEntireMessage()) {
    ThrowParseFailure(bytes, static_cast<int>(size), ctx.file);
  }
}

Model ParseModel(const void* data, size_t size, ImportContext ctx) {
  onnx::ModelProto proto;
  ParseProto(data, size, &ctx, &proto);
  return ImportParsed(&proto, &ctx);
}

// A regular file mapped read-only, or nothing when mmap refuses it (the
// caller then reads it). The pages are the page cache's: mapping costs no
// copy of the file, and unmapping returns them at once.
class MappedFile {
 public:
  MappedFile(const std::string& path, size_t size) : size_(size) {
    if (size == 0) return;
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return;
    // Only a regular file of the size the caller saw: pages past the end of
    // a file that shrank meanwhile would fault (SIGBUS) instead of failing.
    struct stat info;
    if (::fstat(fd, &info) != 0 || !S_ISREG(info.st_mode) ||
        static_cast<uint64_t>(info.st_size) != size) {
      ::close(fd);
      return;
    }
    void* data = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
    ::close(fd);
    if (data == MAP_FAILED) return;
    // Parsing reads it once, front to back.
    ::madvise(data, size, MADV_SEQUENTIAL);
    data_ = data;
  }
  ~MappedFile() { Unmap(); }
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  const void* data() const { return data_; }
  void Unmap() {
    if (data_ != nullptr) ::munmap(data_, size_);
    data_ = nullptr;
  }

 private:
  void* data_ = nullptr;
  size_t size_;
};

}  // namespace

Model LoadOnnxModel(const std::string& path, const ImportLimits& limits) {
  const ErrorContext where{path, "", ""};
  std::error_code error;
  if (fs::is_directory(path, error)) {
    throw IoError("is a directory, not an ONNX file", where);
  }
  // A FIFO or a device (/dev/zero, /dev/stdin) would block or never end;
  // only regular files have a size to check against the limit up front.
  const fs::file_status status = fs::status(path, error);
  if (!error && fs::exists(status) && !fs::is_regular_file(status)) {
    throw IoError("is not a regular file", where);
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) throw IoError("cannot open: " + ErrnoText(), where);
  in.seekg(0, std::ios::end);
  const std::streamoff size = in.tellg();
  in.seekg(0, std::ios::beg);
  if (size < 0) throw IoError("cannot read the file size", where);
  if (static_cast<uint64_t>(size) > limits.max_model_bytes) {
    throw UnsupportedError("model file is " + std::to_string(size) +
                               " bytes, over " +
                               LimitText(limits.max_model_bytes, "bytes"),
                           where);
  }
  // Mapped rather than read into a buffer: no copy of the whole file next
  // to the parsed message, and none of its pages left behind once parsed.
  MappedFile mapped(path, static_cast<size_t>(size));
  std::string bytes;
  if (mapped.data() == nullptr) {
    bytes.assign(static_cast<size_t>(size), '\0');
    in.read(bytes.data(), size);
    if (!in) throw IoError("reading failed: " + ErrnoText(), where);
  }
  in.close();

  ImportContext ctx;
  ctx.file = path;
  ctx.limits = limits;
  const fs::path folder = fs::absolute(path, error).parent_path();
  ctx.base_dir = fs::canonical(folder, error);
  if (error) {
    throw IoError("cannot resolve the model's folder: " + error.message(),
                  where);
  }
  onnx::ModelProto proto;
  if (mapped.data() != nullptr) {
    ParseProto(mapped.data(), static_cast<size_t>(size), &ctx, &proto);
    mapped.Unmap();
  } else {
    ParseProto(bytes.data(), bytes.size(), &ctx, &proto);
    std::string().swap(bytes);
  }
  return ImportParsed(&proto, &ctx);
}

Model ParseOnnxModel(const void* data, size_t size,
                     const std::string& name_for_errors,
                     const ImportLimits& limits) {
  ImportContext ctx;
  ctx.file = name_for_errors;
  ctx.limits = limits;
  return ParseModel(data, size, std::move(ctx));
}

}  // namespace foldrt::graph
