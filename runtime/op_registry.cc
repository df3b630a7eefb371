#include "runtime/op_registry.h"

#include <stdexcept>
#include <string>
#include <vector>

namespace foldrt::runtime {

const OpRegistry& OpRegistry::Get() {
  static const OpRegistry* const registry = [] {
    auto* r = new OpRegistry;
    RegisterConvKernels(r);
    RegisterLinearKernels(r);
    RegisterPoolKernels(r);
    RegisterBatchNormKernels(r);
    RegisterActivationKernels(r);
    RegisterBinaryKernels(r);
    RegisterReductionKernels(r);
    RegisterShapeKernels(r);
    RegisterStridedCopyKernels(r);
    RegisterDataMovementKernels(r);
    RegisterCastKernels(r);
    RegisterReferences(r);
    return r;
  }();
  return *registry;
}

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
