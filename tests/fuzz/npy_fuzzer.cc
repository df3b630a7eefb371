// libFuzzer target: the .npy reader. A foldrt::Error is the right answer to
// a bad file; a crash, a sanitizer report or another exception is a bug, and
// so is an array that does not survive SerializeNpyF32 -> ParseNpyF32
// unchanged.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

#include "core/error.h"
#include "core/npy.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  foldrt::NpyArrayF32 array;
  try {
    array = foldrt::ParseNpyF32(
        std::string_view(reinterpret_cast<const char*>(data), size),
        "fuzz.npy");
  } catch (const foldrt::Error&) {
    return 0;
  }
  std::string written;
  try {
    written = foldrt::SerializeNpyF32(array.shape, array.data.data());
  } catch (const foldrt::Error&) {
    return 0;  // a header numpy could not write either (too many dims)
  }
  const foldrt::NpyArrayF32 again = foldrt::ParseNpyF32(written, "again.npy");
  // Bytes, not floats: NaN payloads must survive too.
  if (again.shape != array.shape || again.data.size() != array.data.size() ||
      (!array.data.empty() &&
       std::memcmp(again.data.data(), array.data.data(),
                   array.data.size() * sizeof(float)) != 0)) {
    std::fprintf(stderr, "the array changed through SerializeNpyF32\n");
    std::abort();
  }
  return 0;
}
