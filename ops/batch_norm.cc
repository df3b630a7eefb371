#include "ops/batch_norm.h"

#include <omp.h>

#include <atomic>
#include <cstdlib>
#include <functional>
#include <string>
#include <utility>

#include "core/error.h"
#include "core/logging.h"
#include "core/tensor.h"
#include "ops/batch_norm_onednn.h"
#include "ops/enum_names.h"
#include "ops/ref/batch_norm_ref.h"

namespace foldrt::ops {

namespace {

constexpr EnumName<BatchNormImpl> kImplNames[] = {
    {BatchNormImpl::kAuto, "auto"},
    {BatchNormImpl::kHwy, "hwy"},
    {BatchNormImpl::kOneDnn, "onednn"},
    {BatchNormImpl::kRef, "ref"},
};

}  // namespace

const char* BatchNormImplName(BatchNormImpl impl) {
  return NameOf(kImplNames, impl);
}

BatchNormImpl ParseBatchNormImpl(std::string_view name) {
  return ParseName(kImplNames, name, "kernel implementation");
}

std::optional<BatchNormImpl> BatchNormImplFromEnv() {
  const char* env = std::getenv("FOLDRT_KERNEL");
  if (env == nullptr || *env == '\0') return std::nullopt;
  try {
    return ParseBatchNormImpl(env);
  } catch (const InvalidArgumentError& e) {
    throw InvalidArgumentError(std::string("FOLDRT_KERNEL: ") + e.message());
  }
}

bool BatchNormSupportsActivation(Activation::Kind kind) {
  switch (kind) {
    case Activation::Kind::kNone:
    case Activation::Kind::kRelu:
    case Activation::Kind::kClip:
      return true;
    case Activation::Kind::kSigmoid:
    case Activation::Kind::kSwish:
      return false;
  }
  return false;
}

int ResolveThreadCount(int threads) {
  if (threads < 0) {
    throw InvalidArgumentError(
        "thread count must be >= 0 (0 = all cores), got " +
        std::to_string(threads));
  }
  return threads == 0 ? omp_get_max_threads() : threads;
}

BatchNorm::BatchNorm(const std::vector<float>& gamma,
                     const std::vector<float>& beta,
                     const std::vector<float>& mean,
                     const std::vector<float>& var, float epsilon,
                     Activation act, BatchNormImpl impl)
    : BatchNorm(ComputeBatchNormAffine(gamma, beta, mean, var, epsilon), act,
                impl) {}

BatchNorm::BatchNorm(BatchNormAffine affine, Activation act, BatchNormImpl impl)
    : affine_(std::move(affine)), act_(act), impl_(impl) {
  if (affine_.scale.empty() || affine_.scale.size() != affine_.shift.size()) {
    throw InvalidArgumentError(
        "BatchNormalization scale and shift must have the same, non-zero "
        "length (got " +
        std::to_string(affine_.scale.size()) + " and " +
        std::to_string(affine_.shift.size()) + ")");
  }
  if (!BatchNormSupportsActivation(act_.kind)) {
    throw InvalidArgumentError("BatchNormalization cannot apply a fused " +
                               act_.ToString() +
                               " (it applies none, relu or clip)");
  }
  onednn_ =
      std::make_unique<OneDnnBatchNorm>(affine_.scale, affine_.shift, act_);
}

BatchNorm::~BatchNorm() = default;
BatchNorm::BatchNorm(BatchNorm&&) noexcept = default;
BatchNorm& BatchNorm::operator=(BatchNorm&&) noexcept = default;

BatchNormImpl BatchNorm::SelectImpl(const std::vector<int64_t>& dims,
                                    Layout layout) const {
  BatchNormImpl impl = BatchNormImplFromEnv().value_or(impl_);
  if (impl == BatchNormImpl::kAuto) impl = BatchNormImpl::kHwy;
  if (impl == BatchNormImpl::kOneDnn &&
      !OneDnnBatchNorm::Supports(dims, layout)) {
    static std::atomic<bool> warned{false};
    if (!warned.exchange(true)) {
      Logger().warn(
          "oneDNN has no BatchNorm for rank {} in layout {}; using the Highway "
          "kernel",
          dims.size(), LayoutName(layout));
    }
    impl = BatchNormImpl::kHwy;
  }
  return impl;
}

namespace {

bool Overlap(const float* a, size_t a_size, const float* b, size_t b_size) {
  // std::less gives a total order even for unrelated pointers.
  std::less<const float*> lt;
  return lt(a, b + b_size) && lt(b, a + a_size);
}

}  // namespace

void BatchNorm::Run(const float* x, size_t x_size, float* y, size_t y_size,
                    const std::vector<int64_t>& dims, Layout layout,
                    int threads, size_t x_channels) const {
  const ChannelShape shape = SplitChannelShape(dims);
  if (shape.channels != channels()) {
    throw InvalidArgumentError(
        "BatchNormalization has " + std::to_string(channels()) +
        " channels but the input shape " + ShapeToString(dims) + " has " +
        std::to_string(shape.channels) + " on axis 1");
  }
  if (x_channels == 0) x_channels = shape.channels;
  if (x_channels < shape.channels) {
    throw InvalidArgumentError(
        "the input buffer holds " + std::to_string(x_channels) +
        " channels, fewer than the " + std::to_string(shape.channels) +
        " of shape " + ShapeToString(dims));
  }
  const bool strided = x_channels != shape.channels;
  const size_t expected = BufferElements(shape, layout);
  const size_t x_expected = BufferElements(
      ChannelShape{shape.batch, x_channels, shape.spatial}, layout);
  if (x_size != x_expected || y_size != expected) {
    const std::string needs =
        strided ? "an input buffer of " + std::to_string(x_expected) +
                      " floats (" + std::to_string(x_channels) +
                      " channels) and an output of " + std::to_string(expected)
                : "buffers of " + std::to_string(expected);
    throw InvalidArgumentError("shape " + ShapeToString(dims) + " in layout " +
                               LayoutName(layout) + " needs " + needs +
                               " floats, got input " + std::to_string(x_size) +
                               " and output " + std::to_string(y_size));
  }
  const int nthreads = ResolveThreadCount(threads);
  if (expected == 0) return;  // empty tensors may come with null pointers
  if (x == nullptr || y == nullptr) {
    throw InvalidArgumentError(std::string("BatchNormalization ") +
                               (x == nullptr ? "input" : "output") +
                               " pointer is null");
  }
  if ((x != y || strided) && Overlap(x, x_size, y, y_size)) {
    throw InvalidArgumentError(
        "BatchNormalization input and output overlap without being the same "
        "dense buffer");
  }

  BatchNormImpl impl = SelectImpl(dims, layout);
  // The oneDNN op is built for dense tensors; a channel slice of a wider
  // buffer runs the Highway kernel, which reads it in place.
  if (impl == BatchNormImpl::kOneDnn && strided) impl = BatchNormImpl::kHwy;
  switch (impl) {
    case BatchNormImpl::kRef:
      ref::BatchNormAffineRef(x, y, shape, layout, affine_.scale.data(),
                              affine_.shift.data(), act_, x_channels);
      return;
    case BatchNormImpl::kOneDnn:
      onednn_->Run(x, y, dims, layout, nthreads);
      return;
    case BatchNormImpl::kAuto:
    case BatchNormImpl::kHwy:
      break;
  }
  const float* a = affine_.scale.data();
  const float* b = affine_.shift.data();
  switch (layout) {
    case Layout::kNchw:
      BatchNormNchwF32(x, y, shape, x_channels, a, b, act_, nthreads);
      return;
    case Layout::kNhwc:
      BatchNormNhwcF32(x, y, shape, x_channels, a, b, act_, nthreads);
      return;
    case Layout::kNChw8c:
    case Layout::kNChw16c:
      BatchNormBlockedF32(x, y, shape, x_channels, ChannelBlock(layout), a, b,
                          act_, nthreads);
      return;
  }
}

}  // namespace foldrt::ops
