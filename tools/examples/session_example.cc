// The README's C++ example: load a model, run it on an .npy input, print the
// outputs. Built with the project and run by CTest so the README stays true.
//
//   build/tools/session_example MODEL.onnx INPUT.npy
#include <cstdio>
#include <map>
#include <string>

#include "core/npy.h"
#include "runtime/session.h"

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: session_example MODEL.onnx INPUT.npy\n");
    return 2;
  }
  try {
    foldrt::runtime::SessionOptions options;
    options.threads = 1;  // 0 = all cores
    const auto session = foldrt::runtime::Session::Load(argv[1], options);

    const foldrt::NpyArrayF32 x = foldrt::ReadNpyF32(argv[2]);
    const std::string input_name = session->inputs().at(0).name;
    const std::map<std::string, foldrt::Tensor> outputs = session->Run(
        {{input_name, foldrt::Tensor::FromFloats(x.shape, x.data)}});

    for (const auto& [name, tensor] : outputs) {
      const float* y = tensor.data<float>();
      std::printf("%s %s first values: %g %g %g\n", name.c_str(),
                  foldrt::ShapeToString(tensor.shape()).c_str(), y[0], y[1],
                  y[2]);
    }
  } catch (const foldrt::Error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  return 0;
}
