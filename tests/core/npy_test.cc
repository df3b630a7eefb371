#include "core/npy.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "core/error.h"

namespace foldrt {
namespace {

// Byte for byte what numpy 1.24 writes for
// np.save(f, np.arange(6, dtype='<f4').reshape(2, 3)): a 118-byte header.
std::string NumpyWritten2x3() {
  std::string header =
      "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }";
  header.append(118 - header.size() - 1, ' ');
  header += '\n';
  std::string out("\x93NUMPY\x01\x00", 8);
  out += static_cast<char>(header.size());
  out += '\0';
  out += header;
  for (int i = 0; i < 6; ++i) {
    const float v = static_cast<float>(i);
    out.append(reinterpret_cast<const char*>(&v), 4);
  }
  return out;
}

TEST(NpyTest, ParsesNumpyOutput) {
  const NpyArrayF32 a = ParseNpyF32(NumpyWritten2x3(), "x.npy");
  EXPECT_EQ(a.shape, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(a.data, (std::vector<float>{0, 1, 2, 3, 4, 5}));
}

TEST(NpyTest, SerializesExactlyLikeNumpy) {
  const float data[6] = {0, 1, 2, 3, 4, 5};
  EXPECT_EQ(SerializeNpyF32({2, 3}, data), NumpyWritten2x3());
}

TEST(NpyTest, RoundTripsShapes) {
  const std::vector<std::vector<int64_t>> shapes = {
      {}, {1}, {7}, {2, 3, 4}, {1, 3, 5, 5, 2}, {0, 3}};
  for (const auto& shape : shapes) {
    size_t n = 1;
    for (int64_t d : shape) n *= static_cast<size_t>(d);
    std::vector<float> data(n);
    for (size_t i = 0; i < n; ++i) data[i] = 0.5f * static_cast<float>(i) - 3;
    const std::string bytes = SerializeNpyF32(shape, data.data());
    EXPECT_EQ(bytes.size() % 64, (n * 4) % 64);  // header padded to 64
    const NpyArrayF32 back = ParseNpyF32(bytes, "t.npy");
    EXPECT_EQ(back.shape, shape);
    EXPECT_EQ(back.data, data);
  }
}

TEST(NpyTest, ParsesVersion2Header) {
  std::string v1 = NumpyWritten2x3();
  std::string header = v1.substr(10, 118);
  std::string v2("\x93NUMPY\x02\x00", 8);
  v2 += static_cast<char>(header.size());
  v2.append(3, '\0');
  v2 += header + v1.substr(128);
  EXPECT_EQ(ParseNpyF32(v2, "v2.npy").data.size(), 6u);
}

void ExpectFormatError(const std::string& bytes, const std::string& needle) {
  try {
    ParseNpyF32(bytes, "bad.npy");
    FAIL() << "accepted; expected an error containing '" << needle << "'";
  } catch (const FormatError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("bad.npy"), std::string::npos) << what;
    EXPECT_NE(what.find(needle), std::string::npos) << what;
  }
}

TEST(NpyTest, RejectsMalformedFiles) {
  const std::string good = NumpyWritten2x3();
  ExpectFormatError("", "bad magic");
  ExpectFormatError("PK\x03\x04 not numpy at all", "bad magic");
  ExpectFormatError(good.substr(0, 30), "truncated");
  ExpectFormatError(good.substr(0, good.size() - 1), "bytes but its shape");
  ExpectFormatError(good + "xxxx", "bytes but its shape");
  // The good file with one header field changed.
  auto with = [&good](const std::string& from, const std::string& to) {
    std::string changed = good;
    changed.replace(changed.find(from), from.size(), to);
    return changed;
  };
  ExpectFormatError(with("<f4", "<f8"), "'<f8'");
  ExpectFormatError(with("<f4", ">f4"), "'>f4'");
  ExpectFormatError(with("False", "True "), "Fortran");
  ExpectFormatError(with("(2, 3)", "(2, -3)"), "shape");
  ExpectFormatError(with("(2, 3)", "(99999999999999999, 999999)"), "overflows");
  std::string v9 = good;
  v9[6] = 9;
  ExpectFormatError(v9, "version 9");
}

TEST(NpyTest, WriteIsAtomicAndReportsFailure) {
  char dir_template[] = "/tmp/foldrt_npy_XXXXXX";
  const std::string dir = mkdtemp(dir_template);
  const std::string path = dir + "/out.npy";
  const float data[3] = {1, 2, 3};
  WriteNpyF32(path, {3}, data);
  EXPECT_EQ(ReadNpyF32(path).data, (std::vector<float>{1, 2, 3}));
  std::ifstream tmp(path + ".tmp");
  EXPECT_FALSE(tmp.good()) << "temporary file left behind";
  EXPECT_THROW(WriteNpyF32(dir + "/no/such/dir/out.npy", {3}, data), IoError);
  EXPECT_THROW(ReadNpyF32(dir + "/missing.npy"), IoError);
  std::remove(path.c_str());
  rmdir(dir.c_str());
}

}  // namespace
}  // namespace foldrt
