// Helpers shared by the BN folding tests: building small models in C++,
// checking an exported model with onnx::checker and strict shape inference,
// and comparing folded against unfolded outputs with the reference
// evaluator.
#ifndef FOLDRT_TESTS_GRAPH_PASSES_FOLD_TEST_UTIL_H_
#define FOLDRT_TESTS_GRAPH_PASSES_FOLD_TEST_UTIL_H_

#include <gtest/gtest.h>

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "core/tensor.h"
#include "graph/graph.h"
#include "graph/passes/batch_norm_fold.h"
#include "graph/passes/fold_report.h"
#include "runtime/reference_evaluator.h"

namespace foldrt::graph::testing {

// tests/data/<file>.
std::string TestDataPath(const std::string& file);

// Deterministic uniform values in [lo, hi).
std::vector<float> RandomFloats(size_t count, uint32_t seed, float lo = -1.0f,
                                float hi = 1.0f);

// Builds a float32 model node by node. Dims of -1 in inputs become the
// symbolic batch dimension "N".
class ModelBuilder {
 public:
  explicit ModelBuilder(int64_t opset = 13, int64_t ir_version = 8);

  void Input(const std::string& name, const std::vector<int64_t>& dims);
  // A graph output of unknown dims. Its rank, which the ONNX checker
  // requires, is `rank` or else what the graph proves (KnownRank).
  void Output(const std::string& name,
              std::optional<size_t> rank = std::nullopt);
  void Initializer(const std::string& name, const std::vector<int64_t>& dims,
                   const std::vector<float>& values);
  // An initializer of random values in [lo, hi).
  void RandomInitializer(const std::string& name,
                         const std::vector<int64_t>& dims, float lo = -1.0f,
                         float hi = 1.0f);
  Node* AddNode(const std::string& op, const std::vector<std::string>& inputs,
                const std::vector<std::string>& outputs,
                const std::string& name,
                const std::vector<Attribute>& attributes = {});
  // A BatchNormalization `name` reading x, writing y, with parameter
  // initializers <name>.scale/.bias/.mean/.var holding non-trivial
  // statistics (some negative gammas, variances far from 1).
  Node* BatchNorm(const std::string& name, const std::string& x,
                  const std::string& y, int64_t channels,
                  float epsilon = 1e-5f);

  Model& model() { return model_; }
  Graph& graph() { return model_.graph; }

 private:
  Model model_;
  uint32_t next_seed_ = 1;
};

// The model's BatchNormalization count.
size_t CountOps(const Graph& graph, const std::string& op_type);

// The record for BN `node`, or a failed assertion and null.
const BatchNormFoldRecord* FindRecord(const FoldReport& report,
                                      const std::string& node);

// Serializes `model`, runs onnx::checker and strict shape inference on it,
// and parses it back through the importer.
void ExpectValidOnnx(const Model& model);

// One random input per graph input, shaped as declared with "N" = batch.
std::map<std::string, foldrt::Tensor> RandomInputs(const Model& model,
                                                   int64_t batch,
                                                   uint32_t seed);

// Evaluates both models on `inputs` and expects every output to agree:
//   max |folded - original| <= 1e-5 * max |original| + 1e-6
// (the folded weights were rounded to float once; the unfolded model rounds
// after the op and after the BN). Returns the largest relative difference.
double ExpectSameOutputs(const Model& original, const Model& folded,
                         const std::map<std::string, foldrt::Tensor>& inputs);

// Copies `model`, folds the copy, checks it exports cleanly and computes
// the same outputs as `model` on random inputs (batch 2).
struct FoldResult {
  Model folded;
  FoldReport report;
};
FoldResult FoldAndVerify(const Model& model, const FoldOptions& options = {});

// A model whose BN "bn" the folds must leave in place, and what the report
// must say about it. The refusal tests of each fold instantiate
// FoldRefusalTest with their cases; each case checks that the BN stays
// (category "none", still in the graph) with the reasons given.
struct RefusalCase {
  RefusalCase(std::string name, std::function<Model()> model,
              std::optional<FoldReason> backward,
              std::optional<FoldReason> forward = std::nullopt,
              std::string detail = "", bool verify = true)
      : name(std::move(name)),
        model(std::move(model)),
        backward(backward),
        forward(forward),
        detail(std::move(detail)),
        verify(verify) {}

  std::string name;  // the test's name
  std::function<Model()> model;
  std::optional<FoldReason> backward;  // checked when set
  std::optional<FoldReason> forward;   // checked when set
  // A part of the backward (or, with no backward reason, the forward)
  // refusal's detail; empty: not checked.
  std::string detail;
  // FoldAndVerify (exports cleanly, same outputs); false folds without
  // verifying, for models the reference evaluator cannot run.
  bool verify;
};

// A BN whose shape contradicts its producer's weight (a model the reference
// cannot run): refused backward for kShapeMismatch, folded unverified.
RefusalCase ShapeMismatchCase(std::string name, std::function<Model()> model);

// Names the case in gtest's failure messages instead of dumping bytes.
void PrintTo(const RefusalCase& c, std::ostream* os);
// The test name of a case (INSTANTIATE_TEST_SUITE_P's last argument).
std::string RefusalCaseName(const ::testing::TestParamInfo<RefusalCase>& info);

class FoldRefusalTest : public ::testing::TestWithParam<RefusalCase> {};

}  // namespace foldrt::graph::testing

#endif  // FOLDRT_TESTS_GRAPH_PASSES_FOLD_TEST_UTIL_H_
