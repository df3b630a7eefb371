// Products with a constant right-hand side on oneDNN's matmul primitive: the
// MatMul-with-weights and Gemm nodes of MLPs and classifier heads.
//
//  - MatMul: Y = alpha * A * B + bias, B constant (K, N); A (..., M, K) with
//    any leading batch dims, flattened into M (numpy.matmul's broadcasting of
//    a 2-D B over A's batch).
//  - Gemm: ONNX Gemm, Y = alpha * op(A) * op(B) + beta * C with B and C
//    constant; alpha is applied to B once at construction (a copy of B only
//    then), beta to C; transA and transB are read through the descriptors'
//    strides (the reorder into the packed layout transposes B once).
//
// Both: an optional fused activation (post-op); Run is const and safe from
// several threads at once; a primitive is created per (M, thread count) and
// cached (a fixed M rather than DNNL_RUNTIME_DIM_VAL lets oneDNN 2.6 pick
// its brgemm kernels and a packed B layout; a model has few distinct M); B is
// reordered once per layout oneDNN asks for. A and Y are dense row-major.
#ifndef FOLDRT_OPS_MATMUL_H_
#define FOLDRT_OPS_MATMUL_H_

#include <cstdint>
#include <memory>
#include <vector>

#include "ops/activation.h"
#include "ops/shared_floats.h"

namespace foldrt::ops {

class MatMul {
 public:
  // b: (K, N) row-major, or (K) (numpy's column vector: Y then drops the N
  // axis). bias: N floats or null. alpha scales A * B (folded into the
  // copied B). Throws InvalidArgumentError for a null or empty B, or
  // UnsupportedError for a B of rank > 2 (batched constant B).
  MatMul(const float* b, std::vector<int64_t> b_dims, const float* bias,
         float alpha = 1.0f, Activation act = {});
  // The same, sharing B instead of copying it when alpha is 1: B is held
  // until reordered into the layout oneDNN asks for (the first Run), then
  // let go (kept when oneDNN reads it as it is).
  MatMul(SharedFloats b, std::vector<int64_t> b_dims, const float* bias,
         float alpha = 1.0f, Activation act = {});
  ~MatMul();
  MatMul(MatMul&&) noexcept;
  MatMul& operator=(MatMul&&) noexcept;

  int64_t k() const;
  int64_t n() const;

  // numpy.matmul's shape: (..., M, K) -> (..., M, N); (K) -> (N); a 1-D B
  // drops the trailing N. Throws InvalidArgumentError for a rank-0 A, a
  // negative dim or an inner dim other than K.
  std::vector<int64_t> OutputDims(const std::vector<int64_t>& a_dims) const;

  // y (OutputDims(a_dims) elements) = act(alpha * a * B + bias). a and y
  // must not overlap. threads: 0 = every core OpenMP sees, n > 0 = exactly
  // n. Validates a_dims like OutputDims (cheap, no allocation on success).
  void Run(const float* a, const std::vector<int64_t>& a_dims, float* y,
           int threads) const;

  // Builds the primitive and packs B for inputs of `a_dims` under
  // `threads`, as the first Run would (the session calls it when it plans a
  // shape).
  void Prepare(const std::vector<int64_t>& a_dims, int threads) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

struct GemmAttributes {
  bool trans_a = false;  // A is (K, M)
  bool trans_b = false;  // B is (N, K)
  float alpha = 1.0f;
  float beta = 1.0f;
};

class Gemm {
 public:
  // b: (K, N), or (N, K) with trans_b. c: null (no C) or a constant whose
  // shape broadcasts to (M, N) independently of M: (), (1), (N), (1, 1) or
  // (1, N). A C with M rows ((M, 1), (M, N), M > 1) would tie the op to one
  // M and throws UnsupportedError (fold it into a following Add instead).
  // Throws InvalidArgumentError for a null or non-2-D B or a C that does
  // not broadcast to N columns.
  Gemm(const float* b, std::vector<int64_t> b_dims, const float* c,
       std::vector<int64_t> c_dims, GemmAttributes attrs, Activation act = {});
  // The same, sharing B instead of copying it when alpha is 1 (transB
  // included): B is held until reordered into the layout oneDNN asks for
  // (the first Run), then let go (kept when oneDNN reads it as it is).
  Gemm(SharedFloats b, std::vector<int64_t> b_dims, const float* c,
       std::vector<int64_t> c_dims, GemmAttributes attrs, Activation act = {});
  ~Gemm();
  Gemm(Gemm&&) noexcept;
  Gemm& operator=(Gemm&&) noexcept;

  // (M, N) for A (M, K), or (K, M) with trans_a. Throws InvalidArgumentError
  // for a non-2-D A or an inner dim other than K.
  std::vector<int64_t> OutputDims(const std::vector<int64_t>& a_dims) const;

  // y (M * N elements) = act(alpha * op(a) * op(B) + beta * C). Run and
  // Prepare have MatMul's contract.
  void Run(const float* a, const std::vector<int64_t>& a_dims, float* y,
           int threads) const;
  void Prepare(const std::vector<int64_t>& a_dims, int threads) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace foldrt::ops

#endif  // FOLDRT_OPS_MATMUL_H_
