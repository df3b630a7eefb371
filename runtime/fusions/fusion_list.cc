// The runtime fusions, in the order the compiler tries them on each node
// (runtime/compile.cc); the first that matches wins.
//
// Adding a fusion is one file and one line: write
// runtime/fusions/<name>.cc (pattern and preconditions on top, its Match
// function, and a factory std::unique_ptr<const RuntimeFusion>
// New<Name>Fusion() returning MakeFusion("<name>", Match); any file here is
// the template), then add its line
// FUSION(New<Name>Fusion) to the list below where it should be tried. (The
// file also goes into runtime/CMakeLists.txt, whose source lists are
// explicit.)
//
// The order matters only where patterns overlap; today they do not, except
// that sigmoid_mul_swish must come after the fusions that give a Sigmoid ->
// Mul pair to the node before it (swish_into_producer): a Sigmoid the pair
// starts at is matched only when its producer did not take it.
#include "runtime/fusions/fusion.h"

namespace foldrt::runtime {

// FUSION(factory) per fusion, in order. The list is written once and read
// twice below: to declare each factory (defined in its fusion's file) and to
// build the list, so that a fusion is named in this one place.
#define FOLDRT_RUNTIME_FUSION_LIST(FUSION) \
  FUSION(NewReshapeTransposeReshapeFusion) \
  FUSION(NewConvResidualAddFusion)         \
  FUSION(NewSwishIntoProducerFusion)       \
  FUSION(NewActivationIntoProducerFusion)  \
  FUSION(NewSigmoidMulSwishFusion)

#define FOLDRT_DECLARE_FUSION(factory) \
  std::unique_ptr<const RuntimeFusion> factory();
FOLDRT_RUNTIME_FUSION_LIST(FOLDRT_DECLARE_FUSION)
#undef FOLDRT_DECLARE_FUSION

const std::vector<std::unique_ptr<const RuntimeFusion>>& RuntimeFusions() {
  static const auto* const fusions = [] {
    auto* list = new std::vector<std::unique_ptr<const RuntimeFusion>>;
#define FOLDRT_ADD_FUSION(factory) list->push_back(factory());
    FOLDRT_RUNTIME_FUSION_LIST(FOLDRT_ADD_FUSION)
#undef FOLDRT_ADD_FUSION
    return list;
  }();
  return *fusions;
}

#undef FOLDRT_RUNTIME_FUSION_LIST

}  // namespace foldrt::runtime
