#include "graph/tensor.h"

#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "core/error.h"

namespace foldrt::graph {
namespace {

std::string BytesOf(const std::vector<int32_t>& values) {
  std::string bytes(values.size() * sizeof(int32_t), '\0');
  std::memcpy(bytes.data(), values.data(), bytes.size());
  return bytes;
}

TEST(DataTypeTest, BitWidthsAndByteSizes) {
  EXPECT_EQ(DataTypeBitWidth(DataType::kFloat), 32);
  EXPECT_EQ(DataTypeBitWidth(DataType::kFloat16), 16);
  EXPECT_EQ(DataTypeBitWidth(DataType::kBool), 8);
  EXPECT_EQ(DataTypeBitWidth(DataType::kComplex128), 128);
  EXPECT_EQ(DataTypeBitWidth(DataType::kString), 0);
  EXPECT_EQ(DataTypeBitWidth(static_cast<DataType>(99)), 0);
  EXPECT_EQ(ByteSize(DataType::kDouble, 3), 24);
  // 4-bit elements pack two per byte, rounding up.
  EXPECT_EQ(ByteSize(DataType::kInt4, 5), 3);
  EXPECT_EQ(ByteSize(static_cast<DataType>(99), 5), -1);
}

TEST(DataTypeTest, Names) {
  EXPECT_EQ(DataTypeName(DataType::kBfloat16), "BFLOAT16");
  EXPECT_EQ(DataTypeName(static_cast<DataType>(77)), "DataType(77)");
}

TEST(ElementCountTest, ProductOfDims) {
  EXPECT_EQ(ElementCount({}), 1);
  EXPECT_EQ(ElementCount({2, 3, 4}), 24);
  EXPECT_EQ(ElementCount({5, 0, 7}), 0);
  EXPECT_THROW(ElementCount({2, -1}), InvalidArgumentError);
  EXPECT_THROW(ElementCount({INT64_C(1) << 40, INT64_C(1) << 40}),
               InvalidArgumentError);
}

TEST(TensorTest, FloatsRoundTrip) {
  const std::vector<float> values = {1.5f, -2.0f, 3.25f, 0.0f, 7.0f, -0.5f};
  const Tensor tensor = Tensor::FromFloats("w", {2, 3}, values);
  EXPECT_EQ(tensor.name(), "w");
  EXPECT_EQ(tensor.dtype(), DataType::kFloat);
  EXPECT_EQ(tensor.dims(), (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(tensor.NumElements(), 6);
  EXPECT_EQ(tensor.bytes().size(), 24u);
  EXPECT_EQ(tensor.ToFloats(), values);
}

TEST(TensorTest, RejectsByteCountThatDoesNotMatchShape) {
  EXPECT_THROW(Tensor("w", DataType::kFloat, {2, 3}, std::string(20, '\0')),
               InvalidArgumentError);
  EXPECT_THROW(Tensor("w", DataType::kFloat, {-2}, std::string()),
               InvalidArgumentError);
  EXPECT_THROW(Tensor("s", DataType::kString, {1}, std::string()),
               InvalidArgumentError);
  EXPECT_THROW(Tensor::FromFloats("w", {4}, {1.0f, 2.0f}),
               InvalidArgumentError);
}

TEST(TensorTest, KeepsBytesOfUnknownTypes) {
  const std::string bytes = "\x01\x02\x03";
  const Tensor tensor("q", static_cast<DataType>(99), {7}, bytes);
  EXPECT_EQ(tensor.bytes(), bytes);
  EXPECT_EQ(static_cast<int32_t>(tensor.dtype()), 99);
}

TEST(TensorTest, ToFloatsRefusesOtherTypes) {
  const Tensor tensor = Tensor::FromInt64s("shape", {2}, {1, 2});
  EXPECT_THROW(tensor.ToFloats(), UnsupportedError);
  const Tensor half("h", DataType::kFloat16, {1}, std::string(2, '\0'));
  EXPECT_THROW(half.ToFloats(), UnsupportedError);
}

TEST(TensorTest, SetFloatsKeepsShapeAndChecksCount) {
  Tensor tensor = Tensor::FromFloats("w", {2, 2}, {1, 2, 3, 4});
  tensor.SetFloats({5, 6, 7, 8});
  EXPECT_EQ(tensor.dims(), (std::vector<int64_t>{2, 2}));
  EXPECT_EQ(tensor.ToFloats(), (std::vector<float>{5, 6, 7, 8}));
  EXPECT_THROW(tensor.SetFloats({1, 2, 3}), InvalidArgumentError);
  tensor.SetFloats({3}, {9, 10, 11});
  EXPECT_EQ(tensor.dims(), (std::vector<int64_t>{3}));
  EXPECT_EQ(tensor.ToFloats(), (std::vector<float>{9, 10, 11}));

  Tensor ints = Tensor::FromInt64s("i", {1}, {4});
  EXPECT_THROW(ints.SetFloats({1.0f}), InvalidArgumentError);
}

TEST(TensorTest, CopiesAreIndependent) {
  const Tensor original = Tensor::FromFloats("w", {3}, {1, 2, 3});
  Tensor copy = original;
  copy.set_name("w_copy");
  copy.SetFloats({10, 20, 30});
  EXPECT_EQ(original.name(), "w");
  EXPECT_EQ(original.ToFloats(), (std::vector<float>{1, 2, 3}));
  EXPECT_EQ(copy.ToFloats(), (std::vector<float>{10, 20, 30}));
}

TEST(TensorTest, ToInt64sWidensSignedAndUnsigned) {
  EXPECT_EQ(
      Tensor("i32", DataType::kInt32, {3}, BytesOf({-1, 0, 70000})).ToInt64s(),
      (std::vector<int64_t>{-1, 0, 70000}));
  EXPECT_EQ(
      Tensor("i8", DataType::kInt8, {2}, std::string("\xff\x05", 2)).ToInt64s(),
      (std::vector<int64_t>{-1, 5}));
  EXPECT_EQ(Tensor("u8", DataType::kUint8, {2}, std::string("\xff\x05", 2))
                .ToInt64s(),
            (std::vector<int64_t>{255, 5}));
  EXPECT_EQ(Tensor::FromInt64s("i64", {2}, {INT64_MIN, 3}).ToInt64s(),
            (std::vector<int64_t>{INT64_MIN, 3}));
  EXPECT_THROW(Tensor::FromFloats("f", {1}, {1.0f}).ToInt64s(),
               UnsupportedError);
}

TEST(TensorTest, Strings) {
  const Tensor tensor = Tensor::FromStrings("labels", {2}, {"cat", "dog"});
  EXPECT_EQ(tensor.dtype(), DataType::kString);
  EXPECT_EQ(tensor.strings(), (std::vector<std::string>{"cat", "dog"}));
  EXPECT_TRUE(tensor.bytes().empty());
  EXPECT_THROW(Tensor::FromStrings("labels", {3}, {"cat"}),
               InvalidArgumentError);
}

}  // namespace
}  // namespace foldrt::graph
