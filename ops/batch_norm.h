// Standalone inference-mode BatchNormalization: y = act(scale[c] * x +
// shift[c]) on fp32 tensors with channels on axis 1, in any layout of
// ops/layout.h.
//
// Two levels:
//  - raw kernels (BatchNorm{Nchw,Nhwc,Blocked}F32): Highway, dynamic dispatch,
//    OpenMP-parallel; pointers and sizes in, no validation, never throw;
//  - BatchNorm, the prepared op: computes (scale, shift) once through
//    ComputeBatchNormAffine, validates every call before touching the output,
//    and picks an implementation (Highway, oneDNN or the scalar reference).
#ifndef FOLDRT_OPS_BATCH_NORM_H_
#define FOLDRT_OPS_BATCH_NORM_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

#include "core/batch_norm_affine.h"
#include "ops/activation.h"
#include "ops/layout.h"

namespace foldrt::ops {

enum class BatchNormImpl { kAuto, kHwy, kOneDnn, kRef };

// "auto", "hwy", "onednn", "ref".
const char* BatchNormImplName(BatchNormImpl impl);
// Throws InvalidArgumentError on an unknown name.
BatchNormImpl ParseBatchNormImpl(std::string_view name);
// The implementation forced by FOLDRT_KERNEL=hwy|onednn|ref, if set. Throws
// InvalidArgumentError if it names something else.
std::optional<BatchNormImpl> BatchNormImplFromEnv();

// Resolves a thread-count parameter: 0 means every core OpenMP sees
// (omp_get_max_threads()); n > 0 means exactly n. Negative throws.
int ResolveThreadCount(int threads);

// Whether the BN kernels apply this fused activation: none, ReLU and Clip.
// Sigmoid and Swish are not supported (BatchNorm and OneDnnBatchNorm throw
// InvalidArgumentError for them; the runtime fuses them into Conv, Gemm, ...
// only).
bool BatchNormSupportsActivation(Activation::Kind kind);

// Raw Highway kernels. x holds BufferElements({N, x_channels, spatial},
// layout) floats and y BufferElements(shape, layout): x_channels >=
// shape.channels, and x_channels > C means x is channels [0, C) of a wider
// buffer in the same layout (a Concat's output read in place by the BN
// after it, runtime/shared_concats.cc), y dense. y may equal x (in place)
// only when x_channels == C; no alignment is assumed. `threads` must be >= 1.
// `act` must be one BatchNormSupportsActivation accepts (the kernels abort on
// others). scale/shift hold shape.channels floats. Blocked kernels write
// zeros into the padded channels of the last block, as oneDNN expects.
void BatchNormNchwF32(const float* x, float* y, const ChannelShape& shape,
                      size_t x_channels, const float* scale, const float* shift,
                      const Activation& act, int threads);
void BatchNormNhwcF32(const float* x, float* y, const ChannelShape& shape,
                      size_t x_channels, const float* scale, const float* shift,
                      const Activation& act, int threads);
void BatchNormBlockedF32(const float* x, float* y, const ChannelShape& shape,
                         size_t x_channels, size_t block, const float* scale,
                         const float* shift, const Activation& act,
                         int threads);

class OneDnnBatchNorm;

class BatchNorm {
 public:
  // From trained statistics; throws InvalidArgumentError for mismatched
  // lengths, negative variance, var + eps <= 0, non-finite parameters or an
  // activation BatchNormSupportsActivation rejects.
  BatchNorm(const std::vector<float>& gamma, const std::vector<float>& beta,
            const std::vector<float>& mean, const std::vector<float>& var,
            float epsilon, Activation act = {},
            BatchNormImpl impl = BatchNormImpl::kAuto);
  // From an affine already computed by ComputeBatchNormAffine.
  BatchNorm(BatchNormAffine affine, Activation act = {},
            BatchNormImpl impl = BatchNormImpl::kAuto);
  ~BatchNorm();
  BatchNorm(BatchNorm&&) noexcept;
  BatchNorm& operator=(BatchNorm&&) noexcept;

  size_t channels() const { return affine_.scale.size(); }
  const BatchNormAffine& affine() const { return affine_; }
  const Activation& activation() const { return act_; }

  // The implementation Run uses for this call: FOLDRT_KERNEL first, then the
  // constructor's choice; kAuto resolves to Highway. A forced oneDNN on a
  // layout or rank oneDNN lacks falls back to Highway (logged once).
  BatchNormImpl SelectImpl(const std::vector<int64_t>& dims,
                           Layout layout) const;

  // Normalizes x into y. dims is the logical (N, C, ...) shape; y_size must
  // equal BufferElements(dims, layout). x_channels (0: C) is the channel
  // count of x's buffer, which holds channels [0, C) of it when larger (see
  // the raw kernels); x_size must equal the buffer's BufferElements. y == x
  // runs in place (dense x only); any other overlap is rejected. Every
  // check runs before anything is written; failures throw
  // InvalidArgumentError. Safe to call from several threads at once.
  void Run(const float* x, size_t x_size, float* y, size_t y_size,
           const std::vector<int64_t>& dims, Layout layout, int threads = 1,
           size_t x_channels = 0) const;

 private:
  BatchNormAffine affine_;
  Activation act_;
  BatchNormImpl impl_;
  std::unique_ptr<OneDnnBatchNorm> onednn_;
};

}  // namespace foldrt::ops

#endif  // FOLDRT_OPS_BATCH_NORM_H_
