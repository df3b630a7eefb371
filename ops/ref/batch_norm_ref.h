// Scalar references the BN kernels are tested against. Plain loops over the
// logical (n, c, s) index, double arithmetic, one rounding to float.
#ifndef FOLDRT_OPS_REF_BATCH_NORM_REF_H_
#define FOLDRT_OPS_REF_BATCH_NORM_REF_H_

#include "ops/activation.h"
#include "ops/layout.h"

namespace foldrt::ops::ref {

// y = act(float((double)scale[c] * x + (double)shift[c])). Padded channels of
// blocked layouts are written as 0. y may equal x. x_channels > C: x is
// channels [0, C) of a buffer of x_channels channels in the same layout
// (y stays dense); 0 means C.
void BatchNormAffineRef(const float* x, float* y, const ChannelShape& shape,
                        Layout layout, const float* scale, const float* shift,
                        const Activation& act, size_t x_channels = 0);

// The textbook formula straight from the statistics, all in double:
// y = act(gamma * (x - mean) / sqrt(var + eps) + beta). Used to check the
// whole path, including the rounding of (scale, shift).
void BatchNormStatisticsRef(const float* x, float* y, const ChannelShape& shape,
                            Layout layout, const float* gamma,
                            const float* beta, const float* mean,
                            const float* var, float epsilon,
                            const Activation& act);

}  // namespace foldrt::ops::ref

#endif  // FOLDRT_OPS_REF_BATCH_NORM_REF_H_
