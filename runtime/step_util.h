// Helpers the three phases of a program share (runtime/compile.cc,
// runtime/plan.cc, runtime/execute.cc): errors that name the step they come
// from, and running one kernel on tensors already known (a constant node at
// load, shape arithmetic while planning).
#ifndef FOLDRT_RUNTIME_STEP_UTIL_H_
#define FOLDRT_RUNTIME_STEP_UTIL_H_

#include <string>
#include <vector>

#include "core/error.h"
#include "core/tensor.h"
#include "runtime/kernels/kernel.h"

namespace foldrt::runtime {

// f(), its foldrt errors rethrown as the same type with the missing parts
// of their context filled in (core/error.h, RethrowWithContext).
template <typename F>
auto InContext(const std::string& file, const std::string& node,
               const std::string& op, F&& f) -> decltype(f()) {
  try {
    return f();
  } catch (const Error& error) {
    RethrowWithContext(error, ErrorContext{file, node, op});
  }
}

// Runs a planned kernel right away on known inputs; returns one tensor per
// node output (an empty tensor for omitted ones).
std::vector<Tensor> RunNow(const Kernel& kernel, const KernelPlan& plan,
                           const std::vector<const Tensor*>& inputs,
                           const std::vector<bool>& output_present,
                           int threads);

}  // namespace foldrt::runtime

#endif  // FOLDRT_RUNTIME_STEP_UTIL_H_
