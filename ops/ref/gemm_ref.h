// Scalar reference for ONNX Gemm: Y = alpha * op(A) * op(B) + beta * C, all
// in double, one rounding to float per output.
#ifndef FOLDRT_OPS_REF_GEMM_REF_H_
#define FOLDRT_OPS_REF_GEMM_REF_H_

#include <cstdint>
#include <vector>

namespace foldrt::ops::ref {

struct GemmParams {
  bool trans_a = false;  // A is (K, M) instead of (M, K)
  bool trans_b = false;  // B is (N, K) instead of (K, N)
  float alpha = 1.0f;
  float beta = 1.0f;
};

// (M, N). `c_shape` must broadcast to it one way (numpy rules, rank <= 2:
// (), (1), (N), (1, N), (M, 1), (M, N), ...); pass null when there is no C.
// Throws InvalidArgumentError for ranks other than 2 or mismatched K / C.
std::vector<int64_t> GemmOutputShape(const std::vector<int64_t>& a_shape,
                                     const std::vector<int64_t>& b_shape,
                                     const std::vector<int64_t>* c_shape,
                                     const GemmParams& params);

// `c` is null when there is no C (then c_shape is ignored). y holds M * N
// floats. Validates like GemmOutputShape.
void GemmRef(const float* a, const std::vector<int64_t>& a_shape,
             const float* b, const std::vector<int64_t>& b_shape,
             const float* c, const std::vector<int64_t>& c_shape,
             const GemmParams& params, float* y);

}  // namespace foldrt::ops::ref

#endif  // FOLDRT_OPS_REF_GEMM_REF_H_
