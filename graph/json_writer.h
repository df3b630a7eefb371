// Hand-written JSON documents (the fold report, `foldrt inspect --json`):
// the one string-escaping routine they share, header-only so every layer
// that writes JSON can use it without a library of its own.
#ifndef FOLDRT_GRAPH_JSON_WRITER_H_
#define FOLDRT_GRAPH_JSON_WRITER_H_

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>

namespace foldrt::graph {

// `text` as a JSON string literal with quotes; invalid UTF-8 bytes become
// U+FFFD so the document always parses.
inline std::string JsonQuote(const std::string& text) {
  std::string out = "\"";
  const auto* bytes = reinterpret_cast<const unsigned char*>(text.data());
  const size_t size = text.size();
  for (size_t i = 0; i < size;) {
    const unsigned char c = bytes[i];
    if (c < 0x80) {
      switch (c) {
        case '"':
          out += "\\\"";
          break;
        case '\\':
          out += "\\\\";
          break;
        case '\b':
          out += "\\b";
          break;
        case '\f':
          out += "\\f";
          break;
        case '\n':
          out += "\\n";
          break;
        case '\r':
          out += "\\r";
          break;
        case '\t':
          out += "\\t";
          break;
        default:
          if (c < 0x20 || c == 0x7f) {
            char escaped[8];
            std::snprintf(escaped, sizeof(escaped), "\\u%04x", c);
            out += escaped;
          } else {
            out += static_cast<char>(c);
          }
      }
      ++i;
      continue;
    }
    // A well-formed multi-byte sequence (no overlongs, no surrogates, at
    // most U+10FFFF) is copied; anything else becomes U+FFFD.
    size_t length = 0;
    uint32_t min_code = 0;
    uint32_t code = 0;
    if ((c & 0xe0) == 0xc0) {
      length = 2, min_code = 0x80, code = c & 0x1f;
    } else if ((c & 0xf0) == 0xe0) {
      length = 3, min_code = 0x800, code = c & 0x0f;
    } else if ((c & 0xf8) == 0xf0) {
      length = 4, min_code = 0x10000, code = c & 0x07;
    }
    bool valid = length != 0 && i + length <= size;
    for (size_t k = 1; valid && k < length; ++k) {
      if ((bytes[i + k] & 0xc0) != 0x80) valid = false;
      code = (code << 6) | (bytes[i + k] & 0x3f);
    }
    valid = valid && code >= min_code && code <= 0x10ffff &&
            !(code >= 0xd800 && code <= 0xdfff);
    if (valid) {
      out.append(text, i, length);
      i += length;
    } else {
      out += "\\ufffd";
      ++i;
    }
  }
  return out + "\"";
}

}  // namespace foldrt::graph

#endif  // FOLDRT_GRAPH_JSON_WRITER_H_
