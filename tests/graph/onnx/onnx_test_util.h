// What the ONNX import/export tests share: building test models through
// the ONNX protobuf classes (test code, so not bound to the rule that only
// graph/onnx/*.cc include ONNX headers), parsing and exporting them,
// comparing protos, and temporary folders and files.
#ifndef FOLDRT_TESTS_GRAPH_ONNX_ONNX_TEST_UTIL_H_
#define FOLDRT_TESTS_GRAPH_ONNX_ONNX_TEST_UTIL_H_

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <onnx/onnx_pb.h>
#include <stdlib.h>

#include <cstdint>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <system_error>
#include <vector>

#include "graph/graph.h"
#include "graph/onnx_io.h"

namespace foldrt::graph::testing {

// What every ONNX test file uses.
namespace fs = std::filesystem;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

// ------------------------------------------------------------ proto makers

// A tensor value; each dim is a number (negative ones too, for hostile
// models), a symbol, or "" for unknown.
onnx::ValueInfoProto TensorValue(const std::string& name, int32_t elem_type,
                                 const std::vector<std::string>& dims);
// FLOAT tensors with their values in raw_data or in float_data.
onnx::TensorProto RawFloats(const std::string& name,
                            const std::vector<int64_t>& dims,
                            const std::vector<float>& values);
onnx::TensorProto TypedFloats(const std::string& name,
                              const std::vector<int64_t>& dims,
                              const std::vector<float>& values);
onnx::NodeProto MakeNode(const std::string& op_type,
                         const std::vector<std::string>& inputs,
                         const std::vector<std::string>& outputs,
                         const std::string& name,
                         const std::string& domain = "");
onnx::AttributeProto MakeAttribute(const std::string& name,
                                   onnx::AttributeProto::AttributeType type);
void AddOpset(onnx::ModelProto* model, const std::string& domain,
              int64_t version);
// A subgraph with one Identity reading `outer` from the enclosing graph.
onnx::GraphProto IdentityBody(const std::string& name,
                              const std::string& outer);
// A sparse FLOAT [4] with two values.
onnx::SparseTensorProto MakeSparse(const std::string& name);
// A custom-domain node carrying one attribute of every ONNX kind.
onnx::NodeProto EveryAttributeNode();
// Conv -> BatchNormalization -> custom op, with initializers in every
// storage form, metadata, doc strings and value_info.
onnx::ModelProto RichModel();
// A model of one opset (the default domain's) whose graph `graph_name` is
// still empty.
onnx::ModelProto EmptyModel(int64_t ir_version, int64_t opset,
                            const std::string& graph_name);
// x * w -> y, FLOAT [2].
onnx::ModelProto SmallModel(int64_t ir_version = 8, int64_t opset = 13);

// ------------------------------------------------------------ parse, export

Model Parse(const onnx::ModelProto& proto, const std::string& name = "test");
onnx::ModelProto ToProto(const Model& model);
// Exact equality, field presence included, with a readable diff.
void ExpectSameProto(const google::protobuf::Message& expected,
                     const google::protobuf::Message& actual);
void ExpectCheckerAccepts(const onnx::ModelProto& proto);

// The message of the ErrorType that parsing `proto` as "bad.onnx" throws.
template <typename ErrorType>
std::string ParseError(const onnx::ModelProto& proto) {
  try {
    Parse(proto, "bad.onnx");
  } catch (const ErrorType& error) {
    return error.what();
  }
  ADD_FAILURE() << "no error of the expected type";
  return "";
}
// The message of the FormatError that parsing `bytes` throws.
std::string ParseBytesError(const std::string& bytes);

// ------------------------------------------------------------ files

// A folder under the system temp dir, removed when the test ends.
class TempDir {
 public:
  TempDir() {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "foldrt_onnx_io_XXXXXX")
            .string();
    if (mkdtemp(pattern.data()) == nullptr) {
      throw std::runtime_error("mkdtemp failed");
    }
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

void WriteFile(const std::filesystem::path& path, const std::string& bytes);
std::string ReadFile(const std::filesystem::path& path);

}  // namespace foldrt::graph::testing

#endif  // FOLDRT_TESTS_GRAPH_ONNX_ONNX_TEST_UTIL_H_
