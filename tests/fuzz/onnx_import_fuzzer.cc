// libFuzzer target: ONNX import, the ONNX shape inference `foldrt inspect`
// runs on the model (libonnx, guarded by graph/onnx/shape_inference.cc
// against inputs that crash it), and what `foldrt fold` does with it (fold,
// verify, serialize), then the written bytes imported once more.
//
// A foldrt::Error is the right answer to a bad input. Anything else is a
// bug: a crash or sanitizer report, another exception escaping (libFuzzer
// reports it as a crash), or a folded model that foldrt wrote but cannot
// read back.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "graph/graph.h"
#include "graph/onnx_io.h"
#include "graph/passes/batch_norm_fold.h"
#include "core/error.h"
#include "core/logging.h"

extern "C" int LLVMFuzzerInitialize(int* /*argc*/, char*** /*argv*/) {
  foldrt::SetLogLevel("off");
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  foldrt::graph::Model model;
  try {
    model = foldrt::graph::ParseOnnxModel(data, size, "fuzz.onnx");
  } catch (const foldrt::Error&) {
    return 0;
  }
  try {
    foldrt::graph::InferShapes(model);
  } catch (const foldrt::Error&) {
    // Inference is best effort: inspect falls back to declared shapes.
  }
  std::string written;
  try {
    foldrt::graph::FoldBatchNormalization(model);
    foldrt::graph::VerifyModel(model);
    written = foldrt::graph::SerializeOnnxModel(model);
  } catch (const foldrt::Error&) {
    return 0;
  }
  try {
    foldrt::graph::ParseOnnxModel(written.data(), written.size(),
                                  "folded.onnx");
  } catch (const foldrt::Error& error) {
    std::fprintf(stderr, "the folded model does not import again: %s\n",
                 error.what());
    std::abort();
  }
  return 0;
}
