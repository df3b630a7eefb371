// The fold report (graph/passes/fold_report.cc): categories, the table and
// JSON that any parser accepts whatever bytes the model's names hold.
#include "graph/passes/fold_report.h"

#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>
#include <gtest/gtest.h>

#include <string>

namespace foldrt::graph {
namespace {

using google::protobuf::Struct;

Struct ParseJson(const std::string& json) {
  Struct parsed;
  const auto status =
      google::protobuf::util::JsonStringToMessage(json, &parsed);
  EXPECT_TRUE(status.ok()) << status.ToString() << "\n" << json;
  return parsed;
}

FoldReport SampleReport() {
  FoldReport report;
  report.model = "models/net \"v2\".onnx";
  BatchNormFoldRecord backward;
  backward.node = "/bn1/BatchNormalization";
  backward.output = "y1";
  backward.channels = 8;
  backward.fate = BatchNormFate::kFoldedBackward;
  backward.target_node = "/conv1/Conv";
  backward.target_op = "Conv";
  report.batch_norms.push_back(backward);

  BatchNormFoldRecord forward;
  forward.node = "bn_in";
  forward.output = "n";
  forward.channels = 4;
  forward.fate = BatchNormFate::kFoldedForward;
  forward.target_node = "fc";
  forward.target_op = "Gemm";
  forward.backward = FoldDecision::Refused(FoldReason::kGraphInput,
                                           "the BN reads graph input 'x'");
  report.batch_norms.push_back(forward);

  BatchNormFoldRecord stays;
  stays.node = "odd\tname\n\"quoted\"";
  stays.output = "out";
  stays.channels = 3;
  stays.backward = FoldDecision::Refused(FoldReason::kActivationBetween,
                                         "Relu 'r' sits before the BN");
  stays.forward =
      FoldDecision::Refused(FoldReason::kGraphOutput, "graph output");
  report.batch_norms.push_back(stays);
  report.cleanup.initializers_removed = 8;
  return report;
}

TEST(FoldReportTest, CategoriesUseTheManifestVocabulary) {
  const FoldReport report = SampleReport();
  EXPECT_EQ(FoldCategory(report.batch_norms[0]), "backward:Conv");
  EXPECT_EQ(FoldCategory(report.batch_norms[1]), "forward:Gemm");
  EXPECT_EQ(FoldCategory(report.batch_norms[2]), "none");
  EXPECT_EQ(report.CountFate(BatchNormFate::kNotFolded), 1u);
}

TEST(FoldReportTest, JsonParsesAndCarriesEveryRecord) {
  const Struct json = ParseJson(FoldReportToJson(SampleReport()));
  EXPECT_EQ(json.fields().at("model").string_value(), "models/net \"v2\".onnx");
  const Struct& summary = json.fields().at("summary").struct_value();
  EXPECT_EQ(summary.fields().at("batch_norms").number_value(), 3);
  EXPECT_EQ(summary.fields().at("folded_backward").number_value(), 1);
  EXPECT_EQ(summary.fields().at("folded_forward").number_value(), 1);
  EXPECT_EQ(summary.fields().at("not_folded").number_value(), 1);
  const auto& records = json.fields().at("batch_norms").list_value().values();
  ASSERT_EQ(records.size(), 3);

  const Struct& first = records[0].struct_value();
  EXPECT_EQ(first.fields().at("fold").string_value(), "backward:Conv");
  EXPECT_EQ(first.fields()
                .at("target")
                .struct_value()
                .fields()
                .at("node")
                .string_value(),
            "/conv1/Conv");
  EXPECT_EQ(first.fields().at("backward").kind_case(),
            google::protobuf::Value::kNullValue);

  const Struct& second = records[1].struct_value();
  EXPECT_EQ(second.fields()
                .at("backward")
                .struct_value()
                .fields()
                .at("reason")
                .string_value(),
            "graph_input");

  const Struct& third = records[2].struct_value();
  EXPECT_EQ(third.fields().at("node").string_value(), "odd\tname\n\"quoted\"");
  EXPECT_EQ(third.fields().at("fold").string_value(), "none");
  EXPECT_EQ(third.fields().at("target").kind_case(),
            google::protobuf::Value::kNullValue);
  EXPECT_EQ(third.fields()
                .at("forward")
                .struct_value()
                .fields()
                .at("reason")
                .string_value(),
            "graph_output");
  EXPECT_EQ(json.fields()
                .at("cleanup")
                .struct_value()
                .fields()
                .at("initializers_removed")
                .number_value(),
            8);
}

TEST(FoldReportTest, EmptyReportIsValidJson) {
  FoldReport report;
  report.model = "empty.onnx";
  const Struct json = ParseJson(FoldReportToJson(report));
  EXPECT_EQ(json.fields().at("batch_norms").list_value().values_size(), 0);
}

TEST(JsonQuoteTest, EscapesWhatJsonRequires) {
  EXPECT_EQ(JsonQuote("plain"), "\"plain\"");
  EXPECT_EQ(JsonQuote("a\"b\\c"), "\"a\\\"b\\\\c\"");
  EXPECT_EQ(JsonQuote("\n\r\t\b\f"), "\"\\n\\r\\t\\b\\f\"");
  EXPECT_EQ(JsonQuote(std::string("\x01\x1f\x7f", 3)),
            "\"\\u0001\\u001f\\u007f\"");
  EXPECT_EQ(JsonQuote(std::string("nul\0byte", 8)), "\"nul\\u0000byte\"");
}

TEST(JsonQuoteTest, KeepsValidUtf8AndReplacesInvalidBytes) {
  EXPECT_EQ(JsonQuote("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"),
            "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"");
  EXPECT_EQ(JsonQuote("\xff"), "\"\\ufffd\"");
  EXPECT_EQ(JsonQuote("cut \xe2\x82"), "\"cut \\ufffd\\ufffd\"");
  EXPECT_EQ(JsonQuote("\xc0\xaf"), "\"\\ufffd\\ufffd\"");  // overlong
  EXPECT_EQ(JsonQuote("\xed\xa0\x80"),
            "\"\\ufffd\\ufffd\\ufffd\"");  // surrogate
  EXPECT_EQ(JsonQuote("\xf4\x90\x80\x80"),
            "\"\\ufffd\\ufffd\\ufffd\\ufffd\"");  // above U+10FFFF
  // Whatever the bytes, the result parses.
  std::string all_bytes;
  for (int c = 0; c < 256; ++c) all_bytes += static_cast<char>(c);
  FoldReport report;
  report.model = all_bytes;
  ParseJson(FoldReportToJson(report));
}

TEST(FoldReportTableTest, SummaryAndOneRowPerBatchNorm) {
  const std::string table = FormatFoldReportTable(SampleReport());
  EXPECT_NE(table.find("3 BatchNormalization, 1 folded backward, 1 folded "
                       "forward, 1 stay"),
            std::string::npos)
      << table;
  EXPECT_NE(table.find("/bn1/BatchNormalization"), std::string::npos);
  EXPECT_NE(table.find("Conv '/conv1/Conv'"), std::string::npos);
  EXPECT_NE(table.find("Gemm 'fc' (backward: graph_input)"), std::string::npos);
  EXPECT_NE(table.find("activation_between: Relu 'r' sits before the BN; "
                       "forward: graph_output: graph output"),
            std::string::npos)
      << table;
  EXPECT_NE(table.find("8 dead initializers removed"), std::string::npos);
}

}  // namespace
}  // namespace foldrt::graph
