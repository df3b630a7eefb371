#include "tests/runtime/test_models.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <map>
#include <sstream>
#include <stdexcept>

namespace foldrt::testing {
namespace {

// Just enough JSON for MANIFEST.json: objects, arrays, strings (with simple
// escapes), numbers, true / false / null.
struct Json {
  enum class Kind { kNull, kBool, kNumber, kString, kArray, kObject };
  Kind kind = Kind::kNull;
  double number = 0;
  std::string string;
  std::vector<Json> array;
  std::map<std::string, Json> object;

  const Json& at(const std::string& key) const {
    const auto it = object.find(key);
    if (it == object.end()) {
      throw std::runtime_error("MANIFEST.json: no key '" + key + "'");
    }
    return it->second;
  }
};

class JsonParser {
 public:
  explicit JsonParser(const std::string& text) : text_(text) {}

  Json ParseDocument() {
    Json value = ParseValue();
    SkipSpace();
    if (pos_ != text_.size()) Fail("trailing characters");
    return value;
  }

 private:
  [[noreturn]] void Fail(const std::string& what) const {
    throw std::runtime_error("MANIFEST.json: " + what + " at offset " +
                             std::to_string(pos_));
  }
  void SkipSpace() {
    while (pos_ < text_.size() &&
           std::isspace(static_cast<unsigned char>(text_[pos_]))) {
      ++pos_;
    }
  }
  void Expect(char c) {
    SkipSpace();
    if (pos_ >= text_.size() || text_[pos_] != c) {
      Fail(std::string("expected '") + c + "'");
    }
    ++pos_;
  }
  bool ConsumeComma() {
    SkipSpace();
    if (pos_ >= text_.size() || text_[pos_] != ',') return false;
    ++pos_;
    return true;
  }
  bool Consume(const std::string& word) {
    if (text_.compare(pos_, word.size(), word) != 0) return false;
    pos_ += word.size();
    return true;
  }
  std::string ParseString() {
    Expect('"');
    std::string out;
    while (pos_ < text_.size() && text_[pos_] != '"') {
      char c = text_[pos_++];
      if (c == '\\') {
        if (pos_ >= text_.size()) Fail("unterminated escape");
        const char e = text_[pos_++];
        switch (e) {
          case 'n':
            c = '\n';
            break;
          case 't':
            c = '\t';
            break;
          case '"':
          case '\\':
          case '/':
            c = e;
            break;
          default:
            Fail(std::string("unsupported escape \\") + e);
        }
      }
      out += c;
    }
    Expect('"');
    return out;
  }
  Json ParseValue() {
    SkipSpace();
    if (pos_ >= text_.size()) Fail("unexpected end");
    Json value;
    const char c = text_[pos_];
    if (c == '{') {
      value.kind = Json::Kind::kObject;
      ++pos_;
      SkipSpace();
      if (pos_ < text_.size() && text_[pos_] == '}') {
        ++pos_;
        return value;
      }
      do {
        std::string key = ParseString();
        Expect(':');
        value.object[key] = ParseValue();
      } while (ConsumeComma());
      Expect('}');
    } else if (c == '[') {
      value.kind = Json::Kind::kArray;
      ++pos_;
      SkipSpace();
      if (pos_ < text_.size() && text_[pos_] == ']') {
        ++pos_;
        return value;
      }
      do {
        value.array.push_back(ParseValue());
      } while (ConsumeComma());
      Expect(']');
    } else if (c == '"') {
      value.kind = Json::Kind::kString;
      value.string = ParseString();
    } else if (Consume("true") || Consume("false")) {
      value.kind = Json::Kind::kBool;
    } else if (Consume("null")) {
      value.kind = Json::Kind::kNull;
    } else {
      size_t used = 0;
      value.kind = Json::Kind::kNumber;
      try {
        value.number = std::stod(text_.substr(pos_, 40), &used);
      } catch (const std::exception&) {
        Fail("bad value");
      }
      pos_ += used;
    }
    return value;
  }

  const std::string& text_;
  size_t pos_ = 0;
};

std::vector<std::string> Strings(const Json& array, const char* field) {
  std::vector<std::string> out;
  for (const Json& v : array.array) {
    out.push_back(field == nullptr ? v.string : v.at(field).string);
  }
  return out;
}

}  // namespace

std::string TestDataDir() {
  const char* source_dir = std::getenv("FOLDRT_SOURCE_DIR");
  return std::string(source_dir != nullptr ? source_dir : ".") + "/tests/data";
}

std::string TestDataPath(const std::string& file) {
  return TestDataDir() + "/" + file;
}

std::vector<ManifestModel> ReadManifest() {
  std::ifstream in(TestDataPath("MANIFEST.json"));
  if (!in) {
    throw std::runtime_error("cannot read " + TestDataPath("MANIFEST.json"));
  }
  std::stringstream text;
  text << in.rdbuf();
  const std::string content = text.str();
  const Json manifest = JsonParser(content).ParseDocument();
  std::vector<ManifestModel> models;
  for (const Json& entry : manifest.at("models").array) {
    ManifestModel m;
    m.name = entry.at("name").string;
    m.file = entry.at("file").string;
    m.input_names = Strings(entry.at("inputs"), "name");
    m.input_files = Strings(entry.at("input_files"), nullptr);
    m.output_names = Strings(entry.at("outputs"), "name");
    m.output_files = Strings(entry.at("output_files"), nullptr);
    for (const Json& bn : entry.at("batchnorms").array) {
      m.batch_norms.push_back({bn.at("node").string, bn.at("fold").string});
    }
    models.push_back(std::move(m));
  }
  return models;
}

Deviation Compare(const float* got, const float* want, size_t count) {
  Deviation d;
  double diff_sq = 0;
  double ref_sq = 0;
  for (size_t i = 0; i < count; ++i) {
    const double diff = static_cast<double>(got[i]) - want[i];
    diff_sq += diff * diff;
    ref_sq += static_cast<double>(want[i]) * want[i];
    d.max_abs = std::max(d.max_abs, std::abs(diff));
    d.max_abs_ref = std::max(d.max_abs_ref, std::abs(double{want[i]}));
    if (std::isnan(got[i])) d.max_abs = std::numeric_limits<double>::infinity();
  }
  d.relative_l2 = ref_sq > 0 ? std::sqrt(diff_sq / ref_sq)
                             : std::numeric_limits<double>::infinity();
  if (std::isinf(d.max_abs)) {
    d.relative_l2 = std::numeric_limits<double>::infinity();
  }
  return d;
}

}  // namespace foldrt::testing
