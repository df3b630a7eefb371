// BatchNorm on oneDNN's batch_normalization_forward (inference, global
// statistics, scale + shift, ReLU fused). It computes exactly foldrt's affine:
// it is handed mean = 0, variance = 1, scale = a, shift = b and an epsilon of
// 2^-30 (1 + 2^-30 rounds to 1 in float; exactly 0 would make the padded
// lanes of blocked layouts 0/0 = NaN), so y = a * x + b. Clip runs as an
// in-place eltwise_clip primitive after it (oneDNN 2.6 BN takes no post-ops).
//
// Known difference from foldrt's contract (ops/activation.h): oneDNN's JIT
// kernels turn ReLU(NaN) into +0 and every Clip(NaN) into the lower bound;
// its C++ kernels (e.g. plain nchw) keep NaN for ReLU. Without an activation
// NaN propagates. This is why the Highway kernel, not oneDNN, is the default.
//
// dnnl.hpp stays out of this header so that nothing above ops/ sees oneDNN.
#ifndef FOLDRT_OPS_BATCH_NORM_ONEDNN_H_
#define FOLDRT_OPS_BATCH_NORM_ONEDNN_H_

#include <cstdint>
#include <memory>
#include <vector>

#include "ops/activation.h"
#include "ops/layout.h"

namespace foldrt::ops {

class OneDnnBatchNorm {
 public:
  // scale and shift have one float per channel.
  OneDnnBatchNorm(std::vector<float> scale, std::vector<float> shift,
                  Activation act);
  ~OneDnnBatchNorm();
  OneDnnBatchNorm(const OneDnnBatchNorm&) = delete;
  OneDnnBatchNorm& operator=(const OneDnnBatchNorm&) = delete;

  // Whether oneDNN has a memory format for this rank and layout.
  static bool Supports(const std::vector<int64_t>& dims, Layout layout);

  // Same contract as the raw Highway kernels: buffers already validated,
  // y may equal x, threads >= 1. Primitives are created once per (dims,
  // layout) and cached; safe to call from several threads at once.
  void Run(const float* x, float* y, const std::vector<int64_t>& dims,
           Layout layout, int threads) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace foldrt::ops

#endif  // FOLDRT_OPS_BATCH_NORM_ONEDNN_H_
