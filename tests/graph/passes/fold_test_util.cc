#include "tests/graph/passes/fold_test_util.h"

#include <gtest/gtest.h>
#include <onnx/checker.h>
#include <onnx/defs/schema.h>
#include <onnx/onnx_pb.h>
#include <onnx/shape_inference/implementation.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <utility>

#include "core/error.h"
#include "graph/onnx_io.h"
#include "graph/passes/fold_util.h"

namespace foldrt::graph::testing {

std::string TestDataPath(const std::string& file) {
  return std::string(FOLDRT_TEST_DATA_DIR) + "/" + file;
}

std::vector<float> RandomFloats(size_t count, uint32_t seed, float lo,
                                float hi) {
  std::mt19937 engine(seed);
  std::uniform_real_distribution<float> distribution(lo, hi);
  std::vector<float> values(count);
  for (float& value : values) value = distribution(engine);
  return values;
}

ModelBuilder::ModelBuilder(int64_t opset, int64_t ir_version) {
  model_.ir_version = ir_version;
  model_.opset_imports.push_back(OpsetImport{"", opset});
  model_.producer_name = "foldrt-test";
  model_.source = "built-in-test-model";
  model_.graph.set_name("test");
}

void ModelBuilder::Input(const std::string& name,
                         const std::vector<int64_t>& dims) {
  std::vector<Dim> shape;
  for (int64_t dim : dims) {
    shape.push_back(dim < 0 ? Dim::Symbolic("N") : Dim::Known(dim));
  }
  model_.graph.mutable_inputs()->push_back(
      ValueInfo::ForTensor(name, DataType::kFloat, std::move(shape)));
}

void ModelBuilder::Output(const std::string& name, std::optional<size_t> rank) {
  if (!rank) rank = KnownRank(model_.graph, name);
  if (!rank)
    throw InvalidArgumentError("test output '" + name + "' needs a rank");
  model_.graph.mutable_outputs()->push_back(ValueInfo::ForTensor(
      name, DataType::kFloat, std::vector<Dim>(*rank, Dim::Unknown())));
}

void ModelBuilder::Initializer(const std::string& name,
                               const std::vector<int64_t>& dims,
                               const std::vector<float>& values) {
  model_.graph.AddInitializer(Tensor::FromFloats(name, dims, values));
}

void ModelBuilder::RandomInitializer(const std::string& name,
                                     const std::vector<int64_t>& dims, float lo,
                                     float hi) {
  Initializer(name, dims,
              RandomFloats(static_cast<size_t>(ElementCount(dims)),
                           next_seed_++, lo, hi));
}

Node* ModelBuilder::AddNode(const std::string& op,
                            const std::vector<std::string>& inputs,
                            const std::vector<std::string>& outputs,
                            const std::string& name,
                            const std::vector<Attribute>& attributes) {
  Node node(op, inputs, outputs, name);
  for (const Attribute& attribute : attributes) node.SetAttribute(attribute);
  return model_.graph.AddNode(std::move(node));
}

Node* ModelBuilder::BatchNorm(const std::string& name, const std::string& x,
                              const std::string& y, int64_t channels,
                              float epsilon) {
  const size_t c = static_cast<size_t>(channels);
  std::vector<float> gamma = RandomFloats(c, next_seed_++, 0.5f, 1.5f);
  for (size_t i = 0; i < c; i += 3) gamma[i] = -gamma[i];
  Initializer(name + ".scale", {channels}, gamma);
  RandomInitializer(name + ".bias", {channels}, -0.5f, 0.5f);
  RandomInitializer(name + ".mean", {channels}, -1.0f, 1.0f);
  RandomInitializer(name + ".var", {channels}, 0.2f, 3.0f);
  return AddNode(
      "BatchNormalization",
      {x, name + ".scale", name + ".bias", name + ".mean", name + ".var"}, {y},
      name, {Attribute::Float("epsilon", epsilon)});
}

size_t CountOps(const Graph& graph, const std::string& op_type) {
  size_t count = 0;
  for (const Node* node : graph.nodes()) {
    count += node->op_type() == op_type ? 1 : 0;
  }
  return count;
}

const BatchNormFoldRecord* FindRecord(const FoldReport& report,
                                      const std::string& node) {
  for (const BatchNormFoldRecord& record : report.batch_norms) {
    if (record.node == node) return &record;
  }
  ADD_FAILURE() << "no fold record for BN '" << node << "'";
  return nullptr;
}

void ExpectValidOnnx(const Model& model) {
  const std::string bytes = SerializeOnnxModel(model);
  onnx::ModelProto proto;
  ASSERT_TRUE(proto.ParseFromString(bytes));
  try {
    onnx::checker::check_model(proto);
    onnx::ShapeInferenceOptions strict(/*check_type_val=*/true,
                                       /*strict_mode_val=*/1);
    onnx::shape_inference::InferShapes(
        proto, onnx::OpSchemaRegistry::Instance(), strict);
  } catch (const std::exception& error) {
    ADD_FAILURE() << "onnx checker / shape inference: " << error.what();
  }
  const Model reparsed =
      ParseOnnxModel(bytes.data(), bytes.size(), "reparsed folded model");
  EXPECT_EQ(reparsed.graph.num_nodes(), model.graph.num_nodes());
  EXPECT_EQ(reparsed.graph.num_initializers(), model.graph.num_initializers());
}

std::map<std::string, foldrt::Tensor> RandomInputs(const Model& model,
                                                   int64_t batch,
                                                   uint32_t seed) {
  std::map<std::string, foldrt::Tensor> inputs;
  for (const ValueInfo& input : model.graph.inputs()) {
    std::vector<int64_t> dims;
    for (const Dim& dim : input.shape.value()) {
      dims.push_back(dim.kind == Dim::Kind::kKnown ? dim.value : batch);
    }
    inputs[input.name] = foldrt::Tensor::FromFloats(
        dims,
        RandomFloats(static_cast<size_t>(ElementCount(dims)), seed++, -2, 2));
  }
  return inputs;
}

double ExpectSameOutputs(const Model& original, const Model& folded,
                         const std::map<std::string, foldrt::Tensor>& inputs) {
  const auto expected = runtime::EvaluateReference(original, inputs);
  const auto actual = runtime::EvaluateReference(folded, inputs);
  EXPECT_EQ(expected.size(), actual.size());
  double worst = 0.0;
  for (const auto& [name, want] : expected) {
    SCOPED_TRACE("output " + name);
    auto it = actual.find(name);
    if (it == actual.end()) {
      ADD_FAILURE() << "folded model lost output " << name;
      continue;
    }
    const foldrt::Tensor& got = it->second;
    EXPECT_EQ(got.shape(), want.shape());
    if (got.NumElements() != want.NumElements()) {
      ADD_FAILURE() << "output sizes differ";
      continue;
    }
    const float* got_data = got.data<float>();
    const float* want_data = want.data<float>();
    double max_ref = 0.0;
    double max_diff = 0.0;
    for (int64_t i = 0; i < want.NumElements(); ++i) {
      max_ref = std::max(max_ref, std::fabs(double{want_data[i]}));
      const double diff = std::fabs(double{got_data[i]} - double{want_data[i]});
      // NaN differences count as infinite.
      max_diff = std::max(max_diff, std::isnan(diff) ? INFINITY : diff);
    }
    EXPECT_LE(max_diff, 1e-5 * max_ref + 1e-6)
        << "max |diff| " << max_diff << " with max |ref| " << max_ref;
    worst = std::max(worst, max_diff / std::max(max_ref, 1e-30));
  }
  return worst;
}

FoldResult FoldAndVerify(const Model& model, const FoldOptions& options) {
  FoldResult result{model, {}};
  result.report = FoldBatchNormalization(result.folded, options);
  ExpectValidOnnx(result.folded);
  ExpectSameOutputs(model, result.folded, RandomInputs(model, 2, 1234));
  return result;
}

RefusalCase ShapeMismatchCase(std::string name, std::function<Model()> model) {
  return {std::move(name),
          std::move(model),
          FoldReason::kShapeMismatch,
          std::nullopt,
          "",
          /*verify=*/false};
}

void PrintTo(const RefusalCase& c, std::ostream* os) { *os << c.name; }

std::string RefusalCaseName(const ::testing::TestParamInfo<RefusalCase>& info) {
  return info.param.name;
}

// Not every binary that links this file has refusal cases.
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(FoldRefusalTest);

TEST_P(FoldRefusalTest, BatchNormStays) {
  const RefusalCase& c = GetParam();
  const Model model = c.model();
  FoldResult result{model, {}};
  if (c.verify) {
    result = FoldAndVerify(model);
  } else {
    result.report = FoldBatchNormalization(result.folded);
  }
  const BatchNormFoldRecord* record = FindRecord(result.report, "bn");
  ASSERT_NE(record, nullptr);
  EXPECT_EQ(FoldCategory(*record), "none");
  if (c.backward) {
    EXPECT_EQ(record->backward.reason, *c.backward);
  }
  if (c.forward) {
    EXPECT_EQ(record->forward.reason, *c.forward);
  }
  if (!c.detail.empty()) {
    const std::string& detail =
        c.backward ? record->backward.detail : record->forward.detail;
    EXPECT_NE(detail.find(c.detail), std::string::npos) << detail;
  }
  EXPECT_EQ(CountOps(result.folded.graph, "BatchNormalization"),
            CountOps(model.graph, "BatchNormalization"));
}

}  // namespace foldrt::graph::testing
