// NumPy .npy files (format versions 1.0, 2.0 and 3.0), float32 in C order:
// what numpy.save writes for a float32 array. Anything else (another dtype,
// big-endian, Fortran order, a short file) is a FormatError naming the file.
#ifndef FOLDRT_CORE_NPY_H_
#define FOLDRT_CORE_NPY_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace foldrt {

struct NpyArrayF32 {
  std::vector<int64_t> shape;  // () for a scalar
  std::vector<float> data;     // product(shape) values, C order
};

// `name` is used in error messages only.
NpyArrayF32 ParseNpyF32(std::string_view bytes, const std::string& name);
NpyArrayF32 ReadNpyF32(const std::string& path);

std::string SerializeNpyF32(const std::vector<int64_t>& shape,
                            const float* data);
// Writes through a temporary file and a rename: a failure leaves no partial
// file behind. Throws IoError.
void WriteNpyF32(const std::string& path, const std::vector<int64_t>& shape,
                 const float* data);

}  // namespace foldrt

#endif  // FOLDRT_CORE_NPY_H_
