// The PyTorch-exported test models of tests/data, as MANIFEST.json lists
// them, and the comparison against their torch reference outputs that the
// runtime tests (Session, `foldrt run`) share.
#ifndef FOLDRT_TESTS_RUNTIME_TEST_MODELS_H_
#define FOLDRT_TESTS_RUNTIME_TEST_MODELS_H_

#include <cstdint>
#include <string>
#include <vector>

namespace foldrt::testing {

struct ManifestBatchNorm {
  std::string node;
  std::string fold;  // "backward:Conv", "forward:Gemm", "none"
};

struct ManifestModel {
  std::string name;
  std::string file;  // relative to TestDataDir()
  std::vector<std::string> input_names;
  std::vector<std::string> input_files;
  std::vector<std::string> output_names;
  std::vector<std::string> output_files;
  std::vector<ManifestBatchNorm> batch_norms;
};

// tests/data: $FOLDRT_SOURCE_DIR/tests/data (CTest sets it), else
// ./tests/data.
std::string TestDataDir();
std::string TestDataPath(const std::string& file);

// Every model of MANIFEST.json; throws std::runtime_error when the file is
// missing or malformed.
std::vector<ManifestModel> ReadManifest();

// How far `got` is from the torch reference `want` (same element count).
struct Deviation {
  double relative_l2 = 0;  // ||got - want|| / ||want||
  double max_abs = 0;      // max |got - want| (inf if got has a NaN)
  double max_abs_ref = 0;  // max |want|
};
Deviation Compare(const float* got, const float* want, size_t count);

// The tolerance for the runtime against torch: relative L2 error
// <= 1e-4 and max |diff| <= 1e-3 * max |ref| (oneDNN accumulates in float,
// in its own order, and the folded weights were rounded once more).
inline constexpr double kMaxRelativeL2 = 1e-4;
inline constexpr double kMaxAbsOverMaxRef = 1e-3;
inline bool WithinTolerance(const Deviation& d) {
  return d.max_abs_ref > 0 && d.relative_l2 <= kMaxRelativeL2 &&
         d.max_abs <= kMaxAbsOverMaxRef * d.max_abs_ref;
}

}  // namespace foldrt::testing

#endif  // FOLDRT_TESTS_RUNTIME_TEST_MODELS_H_
