// The registry's parity check: every registered op has a kernel and a
// reference, so the runtime, `foldrt fold --verify` and the tests cover the
// same ops; and the kernel list of an op is tried in order.
#include "runtime/op_registry.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "runtime/kernels/kernel.h"
#include "runtime/reference_evaluator.h"

namespace foldrt::runtime {
namespace {

TEST(OpRegistryTest, EveryOpHasKernelsAndAReference) {
  const OpRegistry& registry = OpRegistry::Get();
  const std::vector<std::string> types = registry.OpTypes();
  ASSERT_FALSE(types.empty());
  for (const std::string& type : types) {
    SCOPED_TRACE(type);
    const OpRegistration* op = registry.Find(type);
    ASSERT_NE(op, nullptr);
    EXPECT_EQ(op->op_type, type);
    EXPECT_FALSE(op->kernels.empty())
        << type << " has a reference but no kernel";
    EXPECT_NE(op->reference, nullptr)
        << type << " has a kernel but no reference";
    for (const KernelImplementation& implementation : op->kernels) {
      EXPECT_FALSE(implementation.name.empty());
      EXPECT_NE(implementation.factory, nullptr) << implementation.name;
    }
    EXPECT_LE(op->min_opset, op->max_opset);
  }
  // The two public lists are views of the same registrations.
  EXPECT_EQ(SupportedOps(), types);
  EXPECT_EQ(ReferenceEvaluatorOps(), types);
}

TEST(OpRegistryTest, SpecialisedImplementationsComeFirst) {
  // A zero Pad is an identity; the general Pad comes after it.
  const OpRegistration* pad = OpRegistry::Get().Find("Pad");
  ASSERT_NE(pad, nullptr);
  ASSERT_EQ(pad->kernels.size(), 2u);
  EXPECT_EQ(pad->kernels[0].name, "zero_pad");
  EXPECT_EQ(pad->kernels[1].name, "default");
}

TEST(OpRegistryTest, FusedActivationsComeFromTheRegistrations) {
  using Kind = ops::Activation::Kind;
  for (const char* op : {"Conv", "ConvTranspose", "Gemm", "MatMul"}) {
    EXPECT_TRUE(KernelFusesActivation(op, Kind::kSigmoid)) << op;
  }
  EXPECT_TRUE(KernelFusesActivation("BatchNormalization", Kind::kRelu));
  EXPECT_FALSE(KernelFusesActivation("BatchNormalization", Kind::kSigmoid));
  EXPECT_FALSE(KernelFusesActivation("Add", Kind::kRelu));
  EXPECT_FALSE(KernelFusesActivation("NoSuchOp", Kind::kRelu));
}

}  // namespace
}  // namespace foldrt::runtime
