// Session outputs against the scalar reference evaluator, the check the
// runtime tests over hand-built graphs share. Separate from test_models so
// that the CLI tests, which only read the manifest, need not link the
// runtime.
#ifndef FOLDRT_TESTS_RUNTIME_SESSION_TEST_UTIL_H_
#define FOLDRT_TESTS_RUNTIME_SESSION_TEST_UTIL_H_

#include <map>
#include <string>
#include <vector>

#include "graph/graph.h"
#include "runtime/core/tensor.h"
#include "runtime/reference_evaluator.h"
#include "runtime/session.h"

namespace foldrt::testing {

// One Session configuration to check.
struct SessionVariant {
  bool reference_kernels = false;
  int threads = 1;
  runtime::SessionOptions::Layouts layouts =
      runtime::SessionOptions::Layouts::kAuto;
};

// Optimized and reference kernels on 1 and 2 threads, and the optimized
// ones with every forced activation layout.
std::vector<SessionVariant> AllSessionVariants();

// The reference evaluator's outputs for the float tensors `inputs`.
std::map<std::string, runtime::RefTensor> ReferenceOutputs(
    const graph::Model& model, const std::map<std::string, Tensor>& inputs);

// `got` has exactly the outputs of `want`, each with its shape: int64 ones
// equal, float ones with |got - want| <= tolerance * (1 + |want|). One
// failure per output (the first element off, and how many are), so that a
// wrong kernel does not bury the log.
void ExpectOutputsMatch(const std::map<std::string, Tensor>& got,
                        const std::map<std::string, runtime::RefTensor>& want,
                        double tolerance);

// For each variant, a Session on `model` run on `inputs` and its outputs
// checked against the reference evaluator's with ExpectOutputsMatch. Stops
// at the first variant with a fatal failure (an output missing or
// misshapen).
void ExpectSessionMatchesReference(
    const graph::Model& model, const std::map<std::string, Tensor>& inputs,
    const std::vector<SessionVariant>& variants = AllSessionVariants(),
    double tolerance = 1e-5);

}  // namespace foldrt::testing

#endif  // FOLDRT_TESTS_RUNTIME_SESSION_TEST_UTIL_H_
