// Runs a model through the installed foldrt and checks its output against a
// reference, with the runtime tests' tolerance (tests/runtime/test_models.h).
//
//   consumer MODEL.onnx INPUT.npy REFERENCE.npy
//
// Prints "folded F of B BatchNormalization" and the deviation; exit 0 when
// within tolerance, 1 otherwise or on an error.
#include <cmath>
#include <cstdio>
#include <map>
#include <string>

#include "core/npy.h"
#include "runtime/session.h"

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr,
                 "usage: consumer MODEL.onnx INPUT.npy REFERENCE.npy\n");
    return 2;
  }
  try {
    foldrt::runtime::SessionOptions options;
    options.threads = 1;
    const auto session = foldrt::runtime::Session::Load(argv[1], options);
    const foldrt::graph::FoldReport& report = session->fold_report();
    const size_t folded =
        report.CountFate(foldrt::graph::BatchNormFate::kFoldedBackward) +
        report.CountFate(foldrt::graph::BatchNormFate::kFoldedForward);
    std::printf("folded %zu of %zu BatchNormalization\n", folded,
                report.batch_norms.size());

    const foldrt::NpyArrayF32 x = foldrt::ReadNpyF32(argv[2]);
    const foldrt::NpyArrayF32 want = foldrt::ReadNpyF32(argv[3]);
    const std::map<std::string, foldrt::Tensor> outputs =
        session->Run({{session->inputs().at(0).name,
                       foldrt::Tensor::FromFloats(x.shape, x.data)}});
    const foldrt::Tensor& got = outputs.at(session->outputs().at(0).name);
    if (got.shape() != want.shape) {
      std::fprintf(stderr, "output shape %s, reference %s\n",
                   foldrt::ShapeToString(got.shape()).c_str(),
                   foldrt::ShapeToString(want.shape).c_str());
      return 1;
    }
    const float* y = got.data<float>();
    double diff2 = 0, ref2 = 0, max_abs = 0, max_ref = 0;
    for (size_t i = 0; i < want.data.size(); ++i) {
      const double d = static_cast<double>(y[i]) - want.data[i];
      diff2 += d * d;
      ref2 += static_cast<double>(want.data[i]) * want.data[i];
      // NaN compares false: a NaN output makes max_abs NaN, which fails.
      max_abs =
          std::fabs(d) > max_abs || std::isnan(d) ? std::fabs(d) : max_abs;
      max_ref = std::fmax(max_ref, std::fabs(want.data[i]));
    }
    const double relative_l2 = std::sqrt(diff2 / ref2);
    std::printf(
        "output %s: relative L2 %.3g, max |diff| %.3g (max |ref| %.3g)\n",
        foldrt::ShapeToString(got.shape()).c_str(), relative_l2, max_abs,
        max_ref);
    if (!(max_ref > 0 && relative_l2 <= 1e-4 && max_abs <= 1e-3 * max_ref)) {
      std::fprintf(stderr, "output differs from the reference\n");
      return 1;
    }
  } catch (const foldrt::Error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  return 0;
}
