#include "core/npy.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <limits>
#include <sstream>

#include "core/error.h"

namespace foldrt {
namespace {

constexpr char kMagic[] = "\x93NUMPY";
constexpr size_t kMagicLen = 6;
// Headers larger than this are not something numpy writes for an array.
constexpr size_t kMaxHeaderLen = 1 << 16;

bool IsLittleEndian() {
  const uint16_t probe = 1;
  unsigned char first;
  std::memcpy(&first, &probe, 1);
  return first == 1;
}

[[noreturn]] void Fail(const std::string& name, const std::string& what) {
  throw FormatError(what, ErrorContext{name, "", ""});
}

// Finds 'key': in the header dict and returns the text after the colon.
std::string_view ValueAfterKey(std::string_view header, std::string_view key,
                               const std::string& name) {
  for (const char quote : {'\'', '"'}) {
    const std::string quoted = std::string(1, quote) + std::string(key) + quote;
    const size_t at = header.find(quoted);
    if (at == std::string_view::npos) continue;
    size_t p = at + quoted.size();
    while (p < header.size() && header[p] == ' ') ++p;
    if (p >= header.size() || header[p] != ':') break;
    ++p;
    while (p < header.size() && header[p] == ' ') ++p;
    return header.substr(p);
  }
  Fail(name, "malformed .npy header: no '" + std::string(key) + "' entry");
}

std::vector<int64_t> ParseShape(std::string_view v, const std::string& name) {
  if (v.empty() || v[0] != '(') Fail(name, "malformed .npy header: bad shape");
  const size_t close = v.find(')');
  if (close == std::string_view::npos) {
    Fail(name, "malformed .npy header: unterminated shape");
  }
  std::vector<int64_t> shape;
  std::string_view body = v.substr(1, close - 1);
  size_t p = 0;
  while (p < body.size()) {
    while (p < body.size() && (body[p] == ' ' || body[p] == ',')) ++p;
    if (p >= body.size()) break;
    size_t q = p;
    while (q < body.size() && body[q] >= '0' && body[q] <= '9') ++q;
    if (q == p || q - p > 18) {
      Fail(name, "malformed .npy header: bad dimension in shape");
    }
    shape.push_back(std::stoll(std::string(body.substr(p, q - p))));
    p = q;
    while (p < body.size() && body[p] == ' ') ++p;
    if (p < body.size() && body[p] != ',') {
      Fail(name, "malformed .npy header: bad dimension in shape");
    }
  }
  return shape;
}

}  // namespace

NpyArrayF32 ParseNpyF32(std::string_view bytes, const std::string& name) {
  if (bytes.size() < kMagicLen + 4 ||
      std::memcmp(bytes.data(), kMagic, kMagicLen) != 0) {
    Fail(name, "not a .npy file (bad magic)");
  }
  const auto u8 = [&](size_t i) {
    return static_cast<unsigned char>(bytes[i]);
  };
  const int major = u8(6);
  size_t header_len = 0;
  size_t header_start = 0;
  if (major == 1) {
    header_len = u8(8) | (u8(9) << 8);
    header_start = 10;
  } else if (major == 2 || major == 3) {
    if (bytes.size() < 12) Fail(name, "truncated .npy header");
    header_len = u8(8) | (u8(9) << 8) | (u8(10) << 16) |
                 (static_cast<size_t>(u8(11)) << 24);
    header_start = 12;
  } else {
    Fail(name, "unsupported .npy format version " + std::to_string(major));
  }
  if (header_len > kMaxHeaderLen || header_start + header_len > bytes.size()) {
    Fail(name, "truncated .npy header");
  }
  const std::string_view header = bytes.substr(header_start, header_len);

  const std::string_view descr = ValueAfterKey(header, "descr", name);
  if (!(descr.substr(0, 5) == "'<f4'" || descr.substr(0, 5) == "\"<f4\"" ||
        (IsLittleEndian() && (descr.substr(0, 5) == "'=f4'")))) {
    const size_t end = descr.find_first_of(",}");
    Fail(name, "unsupported .npy dtype " + std::string(descr.substr(0, end)) +
                   " (foldrt reads little-endian float32, '<f4')");
  }
  if (!IsLittleEndian()) Fail(name, "big-endian hosts are not supported");
  const std::string_view fortran = ValueAfterKey(header, "fortran_order", name);
  if (fortran.substr(0, 5) != "False") {
    Fail(name,
         "Fortran-order .npy arrays are not supported (save with C order)");
  }

  NpyArrayF32 out;
  out.shape = ParseShape(ValueAfterKey(header, "shape", name), name);
  size_t count = 1;
  for (int64_t d : out.shape) {
    const auto ud = static_cast<size_t>(d);
    if (ud != 0 &&
        count > std::numeric_limits<size_t>::max() / sizeof(float) / ud) {
      Fail(name, "element count of the .npy shape overflows");
    }
    count *= ud;
  }
  const size_t data_start = header_start + header_len;
  const size_t data_bytes = bytes.size() - data_start;
  if (data_bytes != count * sizeof(float)) {
    std::ostringstream msg;
    msg << ".npy data has " << data_bytes << " bytes but its shape needs "
        << count * sizeof(float);
    Fail(name, msg.str());
  }
  out.data.resize(count);
  if (count) {
    std::memcpy(out.data.data(), bytes.data() + data_start, data_bytes);
  }
  return out;
}

NpyArrayF32 ReadNpyF32(const std::string& path) {
  // Reading a device or FIFO (/dev/zero, /dev/stdin) to its end would never
  // finish or exhaust memory; a directory "opens" and reads as empty.
  struct stat status;
  if (::stat(path.c_str(), &status) == 0 && !S_ISREG(status.st_mode)) {
    throw IoError("is not a regular file", ErrorContext{path, "", ""});
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw IoError(std::string("cannot open: ") + std::strerror(errno),
                  ErrorContext{path, "", ""});
  }
  std::ostringstream buf;
  buf << in.rdbuf();
  if (in.bad()) {
    throw IoError("read failed", ErrorContext{path, "", ""});
  }
  return ParseNpyF32(buf.str(), path);
}

std::string SerializeNpyF32(const std::vector<int64_t>& shape,
                            const float* data) {
  std::string dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (";
  size_t count = 1;
  for (size_t i = 0; i < shape.size(); ++i) {
    dict += std::to_string(shape[i]);
    if (shape.size() == 1 || i + 1 < shape.size()) dict += ",";
    if (i + 1 < shape.size()) dict += " ";
    count *= static_cast<size_t>(shape[i]);
  }
  dict += "), }";
  // numpy (>= 1.24) leaves room for the first axis to grow to 21 digits, then
  // pads the header with spaces to a multiple of 64 bytes, ending in \n.
  constexpr size_t kGrowthAxisMaxDigits = 21;
  if (!shape.empty()) {
    dict.append(kGrowthAxisMaxDigits - std::to_string(shape[0]).size(), ' ');
  }
  const size_t total = kMagicLen + 4 + dict.size() + 1;
  dict.append((64 - total % 64) % 64, ' ');
  dict += '\n';
  std::string out(kMagic, kMagicLen);
  out += '\x01';
  out += '\x00';
  const size_t len = dict.size();
  if (len > 0xffff) throw InvalidArgumentError(".npy header too long");
  out += static_cast<char>(len & 0xff);
  out += static_cast<char>(len >> 8);
  out += dict;
  out.append(reinterpret_cast<const char*>(data), count * sizeof(float));
  return out;
}

void WriteNpyF32(const std::string& path, const std::vector<int64_t>& shape,
                 const float* data) {
  const std::string bytes = SerializeNpyF32(shape, data);
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) {
      throw IoError(std::string("cannot create: ") + std::strerror(errno),
                    ErrorContext{tmp, "", ""});
    }
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    out.flush();
    if (!out) {
      out.close();
      std::remove(tmp.c_str());
      throw IoError("write failed", ErrorContext{tmp, "", ""});
    }
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    std::remove(tmp.c_str());
    throw IoError(
        std::string("cannot rename into place: ") + std::strerror(err),
        ErrorContext{path, "", ""});
  }
}

}  // namespace foldrt
