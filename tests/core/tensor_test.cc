#include "core/tensor.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "core/error.h"

namespace foldrt {
namespace {

TEST(TensorTest, OwnedTensorsShareStorageUntilCloned) {
  Tensor a = Tensor::FromFloats({2, 3}, {1, 2, 3, 4, 5, 6});
  EXPECT_EQ(a.dtype(), DataType::kFloat32);
  EXPECT_EQ(a.rank(), 2u);
  EXPECT_EQ(a.NumElements(), 6);
  EXPECT_EQ(a.ByteSize(), 24u);
  EXPECT_TRUE(a.owns_data());
  EXPECT_EQ(reinterpret_cast<uintptr_t>(a.raw_data()) % 64, 0u);

  Tensor shared = a;
  Tensor copy = a.Clone();
  a.mutable_data<float>()[0] = 42;
  EXPECT_EQ(shared.data<float>()[0], 42);
  EXPECT_EQ(copy.data<float>()[0], 1);
  EXPECT_EQ(copy.ToVector<float>(), (std::vector<float>{1, 2, 3, 4, 5, 6}));
}

TEST(TensorTest, ZerosAndInt64) {
  const Tensor z = Tensor::Zeros(DataType::kInt64, {4});
  EXPECT_EQ(z.ToVector<int64_t>(), (std::vector<int64_t>(4, 0)));
  const Tensor scalar = Tensor::FromInt64s({}, {7});
  EXPECT_EQ(scalar.rank(), 0u);
  EXPECT_EQ(scalar.NumElements(), 1);
  EXPECT_EQ(scalar.data<int64_t>()[0], 7);
  const Tensor empty = Tensor::Zeros(DataType::kFloat32, {3, 0});
  EXPECT_EQ(empty.NumElements(), 0);
  EXPECT_EQ(empty.ByteSize(), 0u);
  EXPECT_EQ(Tensor().NumElements(), 0);
}

TEST(TensorTest, ViewsDoNotOwnAndConstViewsRefuseWrites) {
  std::vector<float> data = {1, 2, 3, 4};
  Tensor view = Tensor::View(DataType::kFloat32, {2, 2}, data.data());
  EXPECT_FALSE(view.owns_data());
  view.mutable_data<float>()[3] = 9;
  EXPECT_EQ(data[3], 9);

  const std::vector<float> frozen = {5, 6};
  Tensor read_only = Tensor::ConstView(DataType::kFloat32, {2}, frozen.data());
  EXPECT_TRUE(read_only.is_read_only());
  EXPECT_EQ(read_only.data<float>()[1], 6);
  EXPECT_THROW(read_only.mutable_data<float>(), InvalidArgumentError);
  EXPECT_THROW(read_only.mutable_raw_data(), InvalidArgumentError);
  const Tensor owned = read_only.Clone();
  EXPECT_TRUE(owned.owns_data());
  EXPECT_FALSE(owned.is_read_only());
}

TEST(TensorTest, RejectsMisuse) {
  const Tensor f = Tensor::FromFloats({2}, {1, 2});
  EXPECT_THROW(f.data<int64_t>(), InvalidArgumentError);
  EXPECT_THROW(Tensor::FromFloats({2, 2}, {1, 2, 3}), InvalidArgumentError);
  EXPECT_THROW(Tensor::Zeros(DataType::kFloat32, {2, -1}),
               InvalidArgumentError);
  EXPECT_THROW(Tensor::Zeros(DataType::kFloat32, {INT64_MAX, 4}),
               InvalidArgumentError);
  EXPECT_THROW(Tensor::View(DataType::kFloat32, {2}, nullptr),
               InvalidArgumentError);
}

TEST(TensorTest, Names) {
  EXPECT_STREQ(DataTypeName(DataType::kFloat32), "float32");
  EXPECT_STREQ(DataTypeName(DataType::kInt64), "int64");
  EXPECT_EQ(DataTypeSize(DataType::kInt64), 8u);
  EXPECT_EQ(ShapeToString({1, 3, 224, 224}), "(1, 3, 224, 224)");
  EXPECT_EQ(ShapeToString({}), "()");
  EXPECT_EQ(ShapeNumElements({2, 3, 4}), 24);
  EXPECT_EQ(ShapeNumElements({}), 1);
  EXPECT_EQ(ShapeNumElements({3, 0, 5}), 0);
  EXPECT_THROW(ShapeNumElements({3, -1}), InvalidArgumentError);
  EXPECT_THROW(ShapeNumElements({1LL << 40, 1LL << 40}), InvalidArgumentError);
}

}  // namespace
}  // namespace foldrt
