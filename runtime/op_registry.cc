#include "runtime/op_registry.h"

#include <stdexcept>
#include <string>
#include <vector>

namespace foldrt::runtime {

// FAMILY(Name) per kernel family: Register<Name>Kernels, defined at the end
// of runtime/kernels/<family>_kernels.cc (batch_norm_kernel.cc and
// cast_kernel.cc for the single-op families). Written once, read twice
// below: to declare each function and to call it. Adding a family is one
// line here.
#define FOLDRT_KERNEL_FAMILIES(FAMILY) \
  FAMILY(Conv)                         \
  FAMILY(Linear)                       \
  FAMILY(Pool)                         \
  FAMILY(BatchNorm)                    \
  FAMILY(Activation)                   \
  FAMILY(Binary)                       \
  FAMILY(Reduction)                    \
  FAMILY(Shape)                        \
  FAMILY(StridedCopy)                  \
  FAMILY(DataMovement)                 \
  FAMILY(Cast)

#define FOLDRT_DECLARE_FAMILY(name) void Register##name##Kernels(OpRegistry*);
FOLDRT_KERNEL_FAMILIES(FOLDRT_DECLARE_FAMILY)
#undef FOLDRT_DECLARE_FAMILY

const OpRegistry& OpRegistry::Get() {
  static const OpRegistry* const registry = [] {
    auto* r = new OpRegistry;
#define FOLDRT_REGISTER_FAMILY(name) Register##name##Kernels(r);
    FOLDRT_KERNEL_FAMILIES(FOLDRT_REGISTER_FAMILY)
#undef FOLDRT_REGISTER_FAMILY
    RegisterReferences(r);
    return r;
  }();
  return *registry;
}

#undef FOLDRT_KERNEL_FAMILIES

const OpRegistration* OpRegistry::Find(const std::string& op_type) const {
  const auto it = ops_.find(op_type);
  return it == ops_.end() ? nullptr : &it->second;
}

std::vector<std::string> OpRegistry::OpTypes() const {
  std::vector<std::string> types;
  for (const auto& [type, registration] : ops_) types.push_back(type);
  return types;
}

OpRegistration& OpRegistry::Op(const std::string& op_type) {
  OpRegistration& registration = ops_[op_type];
  registration.op_type = op_type;
  return registration;
}

OpRegistration& OpRegistry::AddKernel(const std::string& op_type,
                                      const std::string& implementation,
                                      KernelFactory factory) {
  OpRegistration& registration = Op(op_type);
  registration.kernels.push_back({implementation, factory});
  return registration;
}

void OpRegistry::SetReference(const std::string& op_type,
                              ReferenceFunction reference) {
  OpRegistration& registration = Op(op_type);
  if (registration.reference != nullptr) {
    throw std::logic_error("two references registered for " + op_type);
  }
  registration.reference = reference;
}

}  // namespace foldrt::runtime
