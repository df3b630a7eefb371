// External data (graph/onnx/external_data.cc): loading initializers from
// files next to the model, the paths and ranges it refuses, and export
// writing such data inline.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <onnx/onnx_pb.h>

#include <filesystem>
#include <string>
#include <vector>

#include "core/error.h"
#include "graph/onnx_io.h"
#include "tests/graph/onnx/onnx_test_util.h"

namespace foldrt::graph::testing {
namespace {

// A model whose initializer "w" (float [2, 3]) lives at `location`.
onnx::ModelProto ExternalDataModel(const std::string& location,
                                   const std::string& offset,
                                   const std::string& length) {
  onnx::ModelProto model = SmallModel();
  onnx::GraphProto* graph = model.mutable_graph();
  *graph->mutable_input(0) =
      TensorValue("x", onnx::TensorProto::FLOAT, {"2", "3"});
  *graph->mutable_output(0) =
      TensorValue("y", onnx::TensorProto::FLOAT, {"2", "3"});
  onnx::TensorProto* w = graph->mutable_initializer(0);
  w->Clear();
  w->set_name("w");
  w->set_data_type(onnx::TensorProto::FLOAT);
  w->add_dims(2);
  w->add_dims(3);
  w->set_data_location(onnx::TensorProto::EXTERNAL);
  auto add_entry = [&](const std::string& key, const std::string& value) {
    if (value.empty()) return;
    auto* entry = w->add_external_data();
    entry->set_key(key);
    entry->set_value(value);
  };
  add_entry("location", location);
  add_entry("offset", offset);
  add_entry("length", length);
  return model;
}

const std::vector<float> kExternalValues = {1, 2, 3, 4, 5, 6};

// 8 bytes of padding, the 24 bytes of kExternalValues, 4 bytes of tail.
std::string ExternalFileBytes() {
  std::string bytes(8, '\x7f');
  bytes.append(reinterpret_cast<const char*>(kExternalValues.data()), 24);
  bytes.append(4, '\x7f');
  return bytes;
}

class ExternalDataTest : public ::testing::Test {
 protected:
  void SetUp() override {
    model_dir_ = dir_.path() / "model";
    fs::create_directory(model_dir_);
  }

  // Writes the model into the model folder and loads it.
  Model Load(const onnx::ModelProto& proto) {
    const fs::path path = model_dir_ / "model.onnx";
    WriteFile(path, proto.SerializeAsString());
    return LoadOnnxModel(path.string());
  }

  template <typename ErrorType>
  std::string LoadError(const onnx::ModelProto& proto) {
    try {
      Load(proto);
    } catch (const ErrorType& error) {
      return error.what();
    }
    ADD_FAILURE() << "no error of the expected type";
    return "";
  }

  TempDir dir_;
  fs::path model_dir_;
};

TEST_F(ExternalDataTest, LoadsDataAtOffsetAndExportsItInline) {
  fs::create_directory(model_dir_ / "weights");
  WriteFile(model_dir_ / "weights" / "w.bin", ExternalFileBytes());
  const Model model = Load(ExternalDataModel("weights/w.bin", "8", "24"));
  const Tensor* w = model.graph.FindInitializer("w");
  ASSERT_NE(w, nullptr);
  EXPECT_EQ(w->ToFloats(), kExternalValues);

  const onnx::ModelProto exported = ToProto(model);
  ExpectCheckerAccepts(exported);
  const onnx::TensorProto& inline_w = exported.graph().initializer(0);
  EXPECT_NE(inline_w.data_location(), onnx::TensorProto::EXTERNAL);
  EXPECT_EQ(inline_w.raw_data().size(), 24u);

  // Without length the data runs to the end of the file.
  WriteFile(model_dir_ / "tail.bin", ExternalFileBytes().substr(0, 32));
  EXPECT_EQ(Load(ExternalDataModel("tail.bin", "8", ""))
                .graph.FindInitializer("w")
                ->ToFloats(),
            kExternalValues);
  // A "..", resolving inside the folder, is fine.
  EXPECT_NO_THROW(Load(ExternalDataModel("weights/../tail.bin", "8", "")));
  // So is a symlink that stays inside.
  fs::create_symlink("weights/w.bin", model_dir_ / "inside_link.bin");
  EXPECT_NO_THROW(Load(ExternalDataModel("inside_link.bin", "8", "24")));
}

TEST_F(ExternalDataTest, RefusesDotDotEscape) {
  WriteFile(dir_.path() / "outside.bin", ExternalFileBytes());
  const std::string message =
      LoadError<FormatError>(ExternalDataModel("../outside.bin", "8", "24"));
  EXPECT_THAT(message, HasSubstr("leaves the model's folder"));
  EXPECT_THAT(message, HasSubstr("'w'"));
  EXPECT_THAT(
      LoadError<FormatError>(ExternalDataModel("a/../../outside.bin", "8", "")),
      HasSubstr("leaves the model's folder"));
}

TEST_F(ExternalDataTest, RefusesAbsolutePath) {
  const fs::path outside = dir_.path() / "outside.bin";
  WriteFile(outside, ExternalFileBytes());
  EXPECT_THAT(
      LoadError<FormatError>(ExternalDataModel(outside.string(), "8", "24")),
      HasSubstr("absolute path"));
}

TEST_F(ExternalDataTest, RefusesSymlinkEscape) {
  WriteFile(dir_.path() / "outside.bin", ExternalFileBytes());
  fs::create_symlink(dir_.path() / "outside.bin", model_dir_ / "link.bin");
  EXPECT_THAT(LoadError<FormatError>(ExternalDataModel("link.bin", "8", "24")),
              HasSubstr("outside the model's folder"));
  fs::create_directory_symlink(dir_.path(), model_dir_ / "up");
  EXPECT_THAT(
      LoadError<FormatError>(ExternalDataModel("up/outside.bin", "8", "24")),
      HasSubstr("outside the model's folder"));
}

TEST_F(ExternalDataTest, MissingFileIsIoError) {
  EXPECT_THAT(LoadError<IoError>(ExternalDataModel("absent.bin", "", "")),
              HasSubstr("absent.bin"));
}

TEST_F(ExternalDataTest, RefusesOffsetOrLengthPastTheEnd) {
  WriteFile(model_dir_ / "w.bin", ExternalFileBytes());  // 36 bytes
  EXPECT_THAT(LoadError<FormatError>(ExternalDataModel("w.bin", "40", "")),
              HasSubstr("past the end"));
  EXPECT_THAT(LoadError<FormatError>(ExternalDataModel("w.bin", "20", "24")),
              HasSubstr("past the end"));
  EXPECT_THAT(LoadError<FormatError>(ExternalDataModel("w.bin", "0", "28")),
              HasSubstr("needs 24"));
  EXPECT_THAT(LoadError<FormatError>(ExternalDataModel("w.bin", "-8", "24")),
              HasSubstr("not a non-negative integer"));
  EXPECT_THAT(LoadError<FormatError>(ExternalDataModel("", "0", "24")),
              HasSubstr("without a location"));
}

TEST_F(ExternalDataTest, InMemoryParseCannotResolveExternalData) {
  const std::string bytes =
      ExternalDataModel("w.bin", "0", "24").SerializeAsString();
  EXPECT_THROW(ParseOnnxModel(bytes.data(), bytes.size(), "memory"),
               UnsupportedError);
}

}  // namespace
}  // namespace foldrt::graph::testing
