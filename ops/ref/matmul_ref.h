// Scalar reference for ONNX MatMul, which follows numpy.matmul: a 1-D A is a
// row vector and a 1-D B a column vector (the added axis is dropped from the
// result), and leading (batch) axes broadcast. Double accumulation, one
// rounding to float per output.
#ifndef FOLDRT_OPS_REF_MATMUL_REF_H_
#define FOLDRT_OPS_REF_MATMUL_REF_H_

#include <cstdint>
#include <vector>

namespace foldrt::ops::ref {

// numpy.matmul's result shape. Throws InvalidArgumentError for a scalar
// operand, mismatched inner dimensions or batch axes that do not broadcast.
std::vector<int64_t> MatMulOutputShape(const std::vector<int64_t>& a_shape,
                                       const std::vector<int64_t>& b_shape);

// y holds the elements of MatMulOutputShape.
void MatMulRef(const float* a, const std::vector<int64_t>& a_shape,
               const float* b, const std::vector<int64_t>& b_shape, float* y);

}  // namespace foldrt::ops::ref

#endif  // FOLDRT_OPS_REF_MATMUL_REF_H_
