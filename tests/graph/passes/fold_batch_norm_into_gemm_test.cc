// BN into the preceding Gemm (graph/passes/fold_batch_norm_into_gemm.cc):
// every transA/transB combination with alpha and beta != 1 and every C
// shape Gemm can broadcast, checked numerically against the unfolded model.
#include <gtest/gtest.h>

#include <ostream>
#include <string>
#include <tuple>
#include <vector>

#include "graph/passes/batch_norm_fold.h"
#include "tests/graph/passes/fold_test_util.h"

namespace foldrt::graph::testing {
namespace {

constexpr int64_t kM = 3;
constexpr int64_t kK = 5;
constexpr int64_t kN = 4;

struct CShape {
  std::string name;
  bool present;
  std::vector<int64_t> dims;
};

// Names the case in gtest's failure messages instead of dumping bytes.
void PrintTo(const CShape& c, std::ostream* os) { *os << c.name; }

const CShape kCShapes[] = {
    {"absent", false, {}},       {"scalar", true, {}},
    {"one", true, {1}},          {"n", true, {kN}},
    {"one_by_n", true, {1, kN}}, {"m_by_n", true, {kM, kN}},
    {"m_by_one", true, {kM, 1}},
};

using GemmParam = std::tuple<bool, bool, CShape>;

class FoldIntoGemmTest : public ::testing::TestWithParam<GemmParam> {};

// a -> Gemm(a, B[, C]) -> g -> BN -> y.
Model GemmThenBatchNorm(const std::vector<int64_t>& a_dims,
                        const std::vector<int64_t>& b_dims,
                        const std::vector<int64_t>* c_dims,
                        const std::vector<Attribute>& attributes) {
  ModelBuilder b(13);
  b.Input("a", a_dims);
  b.RandomInitializer("B", b_dims);
  std::vector<std::string> inputs = {"a", "B"};
  if (c_dims != nullptr) {
    b.RandomInitializer("C", *c_dims);
    inputs.push_back("C");
  }
  b.AddNode("Gemm", inputs, {"g"}, "gemm", attributes);
  b.BatchNorm("bn", "g", "y", kN);
  b.Output("y");
  return b.model();
}

TEST_P(FoldIntoGemmTest, FoldsAndMatchesUnfolded) {
  const auto& [trans_a, trans_b, c_shape] = GetParam();
  const auto result = FoldAndVerify(GemmThenBatchNorm(
      trans_a ? std::vector<int64_t>{kK, kM} : std::vector<int64_t>{kM, kK},
      trans_b ? std::vector<int64_t>{kN, kK} : std::vector<int64_t>{kK, kN},
      c_shape.present ? &c_shape.dims : nullptr,
      {Attribute::Float("alpha", 0.75f), Attribute::Float("beta", 1.5f),
       Attribute::Int("transA", trans_a ? 1 : 0),
       Attribute::Int("transB", trans_b ? 1 : 0)}));
  const BatchNormFoldRecord* record = FindRecord(result.report, "bn");
  ASSERT_NE(record, nullptr);
  EXPECT_EQ(FoldCategory(*record), "backward:Gemm");
  const Node* gemm = result.folded.graph.Producer("y");
  ASSERT_NE(gemm, nullptr);
  EXPECT_EQ(gemm->GetFloat("alpha", 1.0f), 0.75f);
  EXPECT_EQ(gemm->GetFloat("beta", 1.0f), 1.0f);
  ASSERT_TRUE(gemm->has_input(2));
  const Tensor* c = result.folded.graph.GetConstant(gemm->input(2));
  ASSERT_NE(c, nullptr);
  const std::vector<int64_t> expected_c =
      c_shape.dims.size() == 2 ? std::vector<int64_t>{c_shape.dims[0], kN}
                               : std::vector<int64_t>{kN};
  EXPECT_EQ(c->dims(), expected_c);
}

INSTANTIATE_TEST_SUITE_P(AllLayouts, FoldIntoGemmTest,
                         ::testing::Combine(::testing::Bool(),
                                            ::testing::Bool(),
                                            ::testing::ValuesIn(kCShapes)),
                         [](const auto& info) {
                           return std::string(std::get<0>(info.param) ? "transA"
                                                                      : "A") +
                                  "_" +
                                  (std::get<1>(info.param) ? "transB" : "B") +
                                  "_C_" + std::get<2>(info.param).name;
                         });

TEST(FoldIntoGemmSharingTest, SharedBiasIsCopied) {
  ModelBuilder b(13);
  b.Input("a", {-1, kK});
  b.RandomInitializer("B1", {kN, kK});
  b.RandomInitializer("B2", {kN, kK});
  b.RandomInitializer("C", {kN});
  const std::vector<Attribute> trans_b = {Attribute::Int("transB", 1)};
  b.AddNode("Gemm", {"a", "B1", "C"}, {"g1"}, "gemm1", trans_b);
  b.AddNode("Gemm", {"a", "B2", "C"}, {"g2"}, "gemm2", trans_b);
  b.BatchNorm("bn", "g1", "y", kN);
  b.Output("y");
  b.Output("g2");
  const auto result = FoldAndVerify(b.model());
  EXPECT_EQ(FoldCategory(*FindRecord(result.report, "bn")), "backward:Gemm");
  EXPECT_EQ(result.report.cleanup.weights_copied, 1u);
  // gemm2 still reads the untouched original.
  EXPECT_EQ(result.folded.graph.Producer("g2")->input(2), "C");
}

INSTANTIATE_TEST_SUITE_P(
    IntoGemm, FoldRefusalTest,
    ::testing::Values(
        // transB=1 reads B as (N=5, K=4): N no longer matches the BN.
        ShapeMismatchCase("ColumnCountMismatchStays",
                          [] {
                            return GemmThenBatchNorm(
                                {-1, kK}, {kK, kN}, nullptr,
                                {Attribute::Int("transB", 1)});
                          }),
        ShapeMismatchCase(
            "CThatDoesNotBroadcastStays",
            [] {
              const std::vector<int64_t> c_dims = {kM, kN, 1};
              return GemmThenBatchNorm({kM, kK}, {kK, kN}, &c_dims, {});
            })),
    RefusalCaseName);

}  // namespace
}  // namespace foldrt::graph::testing
