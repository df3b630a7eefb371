// Exporting ONNX (graph/onnx/onnx_export.cc): round trips that keep every
// field (unknown ones from newer ONNX too), topological order after edits,
// saving to a file, and the round trip of every PyTorch export in
// tests/data.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <onnx/onnx_pb.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include "core/error.h"
#include "graph/onnx_io.h"
#include "tests/graph/onnx/onnx_test_util.h"

namespace foldrt::graph::testing {
namespace {

TEST(OnnxIoTest, RoundTripKeepsEverything) {
  const onnx::ModelProto original = RichModel();
  const Model model = Parse(original);
  const onnx::ModelProto exported = ToProto(model);
  ExpectSameProto(original, exported);
  ExpectCheckerAccepts(exported);
  // Serializing the same model twice gives the same bytes.
  EXPECT_EQ(SerializeOnnxModel(model), SerializeOnnxModel(model));
}

TEST(OnnxIoTest, UnknownFieldsFromNewerOnnxSurvive) {
  onnx::ModelProto original = RichModel();
  original.mutable_unknown_fields()->AddVarint(26, 1);
  original.mutable_graph()
      ->mutable_node(0)
      ->mutable_unknown_fields()
      ->AddLengthDelimited(9, "node metadata");
  original.mutable_graph()
      ->mutable_initializer(0)
      ->mutable_unknown_fields()
      ->AddLengthDelimited(16, "tensor metadata");
  original.mutable_graph()
      ->mutable_input(0)
      ->mutable_unknown_fields()
      ->AddLengthDelimited(4, "value metadata");
  ExpectSameProto(original, ToProto(Parse(original)));
}

TEST(OnnxIoTest, EditedModelExportsInTopologicalOrder) {
  Model model = Parse(RichModel());
  Graph& graph = model.graph;
  // A fold-style edit: drop the BN, let the conv write its output, and
  // append a new node that must come before the custom op.
  graph.RemoveNode(graph.Producer("y"));
  for (const char* name : {"gamma", "beta", "mean", "var"}) {
    ASSERT_TRUE(graph.RemoveInitializer(name));
  }
  graph.Producer("c")->SetOutput(0, "c_raw");
  graph.AddNode(Node("Relu", {"c_raw"}, {"y"}, "late_relu"));
  const onnx::ModelProto exported = ToProto(model);
  ExpectCheckerAccepts(exported);
  std::vector<std::string> order;
  for (const auto& node : exported.graph().node()) order.push_back(node.name());
  EXPECT_THAT(order, ElementsAre("conv", "late_relu", "fancy"));
  EXPECT_EQ(exported.graph().initializer_size(), 8);
}

// ------------------------------------------------------------ saving

TEST(OnnxSaveTest, SaveThenLoadGivesTheSameModel) {
  TempDir dir;
  const fs::path path = dir.path() / "saved.onnx";
  const onnx::ModelProto original = RichModel();
  SaveOnnxModel(Parse(original), path.string());
  onnx::ModelProto reread;
  ASSERT_TRUE(reread.ParseFromString(ReadFile(path)));
  ExpectSameProto(original, reread);
  ExpectSameProto(original, ToProto(LoadOnnxModel(path.string())));
  // Only the model itself is left: no temporary file.
  EXPECT_EQ(std::distance(fs::directory_iterator(dir.path()),
                          fs::directory_iterator()),
            1);
}

TEST(OnnxSaveTest, FailureLeavesNoPartialFile) {
  TempDir dir;
  const fs::path path = dir.path() / "model.onnx";
  WriteFile(path, "previous contents");
  Model broken = Parse(SmallModel());
  broken.graph.Producer("y")->SetInput(0, "nowhere");
  EXPECT_THROW(SaveOnnxModel(broken, path.string()), FormatError);
  EXPECT_EQ(ReadFile(path), "previous contents");

  EXPECT_THROW(SaveOnnxModel(Parse(SmallModel()),
                             (dir.path() / "no_such_dir" / "m.onnx").string()),
               IoError);
  EXPECT_EQ(std::distance(fs::directory_iterator(dir.path()),
                          fs::directory_iterator()),
            1);
}

// ------------------------------------------------------------ real models

// Models exported by PyTorch (tests/data/*.onnx, see MANIFEST.json there).
TEST(OnnxRealModelsTest, RoundTripEveryExportedModel) {
  const char* source_dir = std::getenv("FOLDRT_SOURCE_DIR");
  if (source_dir == nullptr) GTEST_SKIP() << "FOLDRT_SOURCE_DIR is not set";
  const fs::path data_dir = fs::path(source_dir) / "tests" / "data";
  std::vector<fs::path> models;
  std::error_code error;
  for (const auto& entry : fs::directory_iterator(data_dir, error)) {
    if (entry.path().extension() == ".onnx") models.push_back(entry.path());
  }
  if (models.empty()) GTEST_SKIP() << "no .onnx files in " << data_dir;
  std::sort(models.begin(), models.end());
  for (const fs::path& path : models) {
    SCOPED_TRACE(path.string());
    onnx::ModelProto original;
    ASSERT_TRUE(original.ParseFromString(ReadFile(path)));
    const Model model = LoadOnnxModel(path.string());
    EXPECT_EQ(model.graph.num_nodes(),
              static_cast<size_t>(original.graph().node_size()));

    // Initializers the exporter also listed as inputs are constants.
    std::set<std::string> initializer_names;
    for (const auto& tensor : original.graph().initializer()) {
      initializer_names.insert(tensor.name());
    }
    size_t listed_initializers = 0;
    for (const auto& input : original.graph().input()) {
      listed_initializers += initializer_names.count(input.name());
    }
    EXPECT_EQ(model.graph.initializer_inputs().size(), listed_initializers);
    EXPECT_EQ(model.graph.inputs().size(),
              original.graph().input_size() - listed_initializers);

    const onnx::ModelProto exported = ToProto(model);
    ExpectCheckerAccepts(exported);
    const bool has_external_data = std::any_of(
        original.graph().initializer().begin(),
        original.graph().initializer().end(), [](const auto& tensor) {
          return tensor.data_location() == onnx::TensorProto::EXTERNAL;
        });
    // Export writes external data inline, so only self-contained files
    // can come back identical.
    if (!has_external_data) ExpectSameProto(original, exported);
  }
}

}  // namespace
}  // namespace foldrt::graph::testing
