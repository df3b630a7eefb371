#include "tests/runtime/test_models.h"

#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>

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

using google::protobuf::Struct;
using google::protobuf::Value;

const Value& Field(const Struct& object, const std::string& key) {
  const auto it = object.fields().find(key);
  if (it == object.fields().end()) {
    throw std::runtime_error("MANIFEST.json: no '" + key + "'");
  }
  return it->second;
}

// The strings of a JSON array, or the `field` member of each of its objects.
std::vector<std::string> Strings(const Value& array, const char* field) {
  std::vector<std::string> out;
  for (const Value& v : array.list_value().values()) {
    out.push_back(field == nullptr
                      ? v.string_value()
                      : Field(v.struct_value(), field).string_value());
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
  // protobuf's JSON parser (protobuf is a dependency anyway) instead of a
  // hand-written one.
  Struct manifest;
  const auto status =
      google::protobuf::util::JsonStringToMessage(text.str(), &manifest);
  if (!status.ok()) {
    throw std::runtime_error("MANIFEST.json: " + status.ToString());
  }
  std::vector<ManifestModel> models;
  for (const Value& value : Field(manifest, "models").list_value().values()) {
    const Struct& entry = value.struct_value();
    ManifestModel m;
    m.name = Field(entry, "name").string_value();
    m.file = Field(entry, "file").string_value();
    m.input_names = Strings(Field(entry, "inputs"), "name");
    m.input_files = Strings(Field(entry, "input_files"), nullptr);
    m.output_names = Strings(Field(entry, "outputs"), "name");
    m.output_files = Strings(Field(entry, "output_files"), nullptr);
    for (const Value& bn : Field(entry, "batchnorms").list_value().values()) {
      m.batch_norms.push_back(
          {Field(bn.struct_value(), "node").string_value(),
           Field(bn.struct_value(), "fold").string_value()});
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
