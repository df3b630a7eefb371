// Helpers the Pool tests (pool_test.cc, pool_layout_test.cc) share: the
// attributes of a case, its reference output and bound, and runs in a layout.
#ifndef FOLDRT_TESTS_OPS_POOL_TEST_UTIL_H_
#define FOLDRT_TESTS_OPS_POOL_TEST_UTIL_H_

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "ops/layout.h"
#include "ops/pool.h"
#include "ops/ref/pool_ref.h"
#include "tests/ops/ops_test_util.h"

namespace foldrt::ops::test {

PoolAttributes Attrs(PoolKind kind, std::vector<int64_t> kernel,
                     std::vector<int64_t> strides = {},
                     std::vector<int64_t> pads_begin = {},
                     std::vector<int64_t> pads_end = {},
                     std::vector<int64_t> dilations = {},
                     bool ceil_mode = false, bool count_include_pad = false);

// The reference's parameters for `a` (ONNX defaults for empty vectors).
ref::PoolParams ToParams(const PoolAttributes& a);

// Expected output and its bound.
//
// A max is exact (one of the inputs): atol = 0, rtol = 0. An average of a
// window of W inputs sums them in float in some order and divides (or
// multiplies by a rounded reciprocal), and under ceil_mode with
// count_include_pad foldrt rescales edge outputs once more: at most
// gamma_{W+2} * sum|x| / divisor of error. So
//   |got - ref| <= atol + rtol * |ref|,  atol = (W + 3) * FLT_EPSILON * m,
// m = mean of |x| over the window with the op's divisor (the reference on
// |x|), rtol = FLT_EPSILON for the reference's own rounding.
Expected Reference(const PoolAttributes& attrs, const std::vector<float>& x,
                   const std::vector<int64_t>& x_dims);

// A logical NCHW tensor in `layout`; channels past C (blocked padding) hold
// `pad`.
std::vector<float> ToLayout(const std::vector<float>& plain,
                            const std::vector<int64_t>& dims, Layout layout,
                            float pad);

// The logical NCHW tensor of a buffer in `layout`, and (via *padding) the
// values of its padding channels.
std::vector<float> FromLayout(const std::vector<float>& buffer,
                              const std::vector<int64_t>& dims, Layout layout,
                              std::vector<float>* padding);

// Runs `pool` on x (logical NCHW) handed over in `layout`, into a buffer of
// NaNs so that every float must be written: each output within the bound of
// `e`, and the output's padding channels zero.
void ExpectRunInLayoutMatches(const Pool& pool, const std::vector<float>& x,
                              const std::vector<int64_t>& x_dims, Layout layout,
                              int threads, const Expected& e,
                              const std::string& what);

struct PoolCase {
  std::string name;
  std::vector<int64_t> x_dims;  // batch overwritten per run
  PoolAttributes attrs;
};

void PrintTo(const PoolCase& c, std::ostream* os);

// A window that MaxPool and both AveragePool modes run over (WindowCases).
struct Window {
  std::string name;
  std::vector<int64_t> x_dims, kernel, strides, pads_begin, pads_end;
  bool ceil_mode;
};

// For each window: "max_<name>", "avg_excl_<name>" and "avg_incl_<name>"
// (count_include_pad 0 and 1).
std::vector<PoolCase> WindowCases(const std::vector<Window>& windows);

}  // namespace foldrt::ops::test

#endif  // FOLDRT_TESTS_OPS_POOL_TEST_UTIL_H_
