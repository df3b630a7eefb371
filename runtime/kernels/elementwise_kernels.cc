// Elementwise and reduction kernels: the activations (Relu, Clip, Sigmoid,
// HardSigmoid, HardSwish), numpy-broadcasting Add/Sub/Mul/Div, Softmax and
// ReduceMean. Plain loops the compiler vectorizes (Sigmoid and Swish: the
// Highway kernels of ops/eltwise.h), split over OpenMP threads for large
// tensors.
#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "ops/activation.h"
#include "ops/eltwise.h"
#include "ops/layout.h"
#include "core/error.h"
#include "runtime/kernels/kernel.h"
#include "runtime/kernels/kernel_util.h"
#include "runtime/op_registry.h"
#include "runtime/op_attributes.h"

namespace foldrt::runtime {
namespace {

// Elements per thread below which splitting costs more than it saves.
constexpr int64_t kElementwiseGrain = 1 << 14;

// ------------------------------------------------------ unary activations

// Unary ops map every element alike, so they run on whatever layout their
// input is in: the whole buffer, padding included. Where f(0) != 0 the
// padding is zeroed again afterwards.
struct UnaryState : KernelState {
  ops::Layout layout = ops::Layout::kNchw;
  ops::ChannelShape shape;  // blocked layouts only
  int64_t count = 0;        // floats in the buffer
};

// Plans a layout-preserving unary op on input 0.
KernelPlan PlanUnary(const std::vector<const PlanInput*>& inputs) {
  const PlanInput& x = RequiredFloatInput(inputs, 0);
  auto state = std::make_unique<UnaryState>();
  state->layout = x.layout;
  if (IsBlocked(state->layout)) state->shape = ops::SplitChannelShape(x.shape);
  state->count = BufferElementCount(x.shape, state->layout);
  KernelPlan plan;
  plan.outputs = {{DataType::kFloat32, x.shape, state->layout}};
  plan.input_layouts = FirstInputIn(state->layout, inputs);
  plan.state = std::move(state);
  return plan;
}

// After y = f(x) over a whole blocked buffer: padding back to zero.
void RezeroPadding(const UnaryState& state, float f_of_zero, float* y) {
  if (IsBlocked(state.layout) && f_of_zero != 0.0f) {
    ops::ZeroChannelPadding(y, state.shape, state.layout);
  }
}

// A unary op with a vectorized kernel for whole chunks (Span); operator()
// is its scalar definition, for single values.
struct SpanOp {};

// y[0, n) = f(x[0, n)): the op's span kernel, or an element loop.
template <typename F>
void ApplyUnary(const F& f, const float* x, float* y, int64_t n) {
  if constexpr (std::is_base_of_v<SpanOp, F>) {
    f.Span(x, y, static_cast<size_t>(n));
  } else {
    for (int64_t i = 0; i < n; ++i) y[i] = f(x[i]);
  }
}

struct SigmoidOp : SpanOp {
  float operator()(float v) const {
    return ops::ApplyActivation(ops::Activation::Sigmoid(), v);
  }
  void Span(const float* x, float* y, size_t n) const {
    ops::SigmoidF32(x, y, n);
  }
};

// x * sigmoid(x): a Sigmoid whose Mul by its input was fused into it.
struct SwishOp : SpanOp {
  float operator()(float v) const {
    return ops::ApplyActivation(ops::Activation::Swish(), v);
  }
  void Span(const float* x, float* y, size_t n) const {
    ops::SwishF32(x, y, n);
  }
};

// y = f(x) on float32; f: float -> float (or a SpanOp), must not throw.
template <typename F>
class UnaryFloatKernel : public Kernel {
 public:
  explicit UnaryFloatKernel(F f) : f_(std::move(f)) {}

  KernelPlan Plan(const std::vector<const PlanInput*>& inputs) const override {
    return PlanUnary(inputs);
  }

  void Run(const KernelArgs& args) const override {
    const auto& state = static_cast<const UnaryState&>(*args.state);
    const float* x = args.inputs[0]->data<float>();
    float* y = args.outputs[0]->mutable_data<float>();
    ParallelFor(state.count, args.threads, kElementwiseGrain,
                [&](int64_t begin, int64_t end) {
                  ApplyUnary(f_, x + begin, y + begin, end - begin);
                });
    RezeroPadding(state, f_(0.0f), y);
  }

 private:
  F f_;
};

template <typename F>
std::unique_ptr<Kernel> MakeUnary(F f) {
  return std::make_unique<UnaryFloatKernel<F>>(std::move(f));
}

std::unique_ptr<Kernel> CreateRelu(const KernelBuildContext&) {
  return MakeUnary(
      [](float v) { return ops::ApplyActivation(ops::Activation::Relu(), v); });
}

std::unique_ptr<Kernel> CreateSigmoid(const KernelBuildContext& ctx) {
  switch (ctx.fused_activation().kind) {
    case ops::Activation::Kind::kNone:
      return MakeUnary(SigmoidOp());
    case ops::Activation::Kind::kSwish:
      // The session fused Mul(x, Sigmoid(x)) into this node.
      return MakeUnary(SwishOp());
    default:
      ctx.Invalid("a Sigmoid cannot apply a fused " +
                  ctx.fused_activation().ToString());
  }
}

std::unique_ptr<Kernel> CreateHardSigmoid(const KernelBuildContext& ctx) {
  const double alpha = ctx.node().GetFloat("alpha", 0.2f);
  const double beta = ctx.node().GetFloat("beta", 0.5f);
  return MakeUnary([alpha, beta](float v) {
    return static_cast<float>(HardSigmoidOf(v, alpha, beta));
  });
}

std::unique_ptr<Kernel> CreateHardSwish(const KernelBuildContext&) {
  return MakeUnary([](float v) {
    return static_cast<float>(v * HardSigmoidOf(v, 1.0 / 6.0, 0.5));
  });
}

// Clip: bounds from attributes before opset 11, from optional scalar inputs
// (read at every run, they may be computed) from 11 on. NaN stays NaN.
class ClipKernel : public Kernel {
 public:
  explicit ClipKernel(const KernelBuildContext& ctx)
      : bounds_are_inputs_(ctx.opset() >= 11) {
    if (!bounds_are_inputs_) {
      min_ = ctx.node().GetFloat("min", min_);
      max_ = ctx.node().GetFloat("max", max_);
      if (!(min_ <= max_)) {
        ctx.Invalid("min " + std::to_string(min_) + " exceeds max " +
                    std::to_string(max_));
      }
    }
  }

  KernelPlan Plan(const std::vector<const PlanInput*>& inputs) const override {
    if (bounds_are_inputs_) {
      for (size_t i = 1; i <= 2 && i < inputs.size(); ++i) {
        if (inputs[i] == nullptr) continue;
        const PlanInput& bound = RequiredFloatInput(inputs, i);
        if (ShapeNumElements(bound.shape) != 1) {
          throw InvalidArgumentError(std::string(i == 1 ? "min" : "max") +
                                     " must hold one value, " + "it is " +
                                     Describe(bound));
        }
      }
    }
    return PlanUnary(inputs);
  }

  void Run(const KernelArgs& args) const override {
    const auto& state = static_cast<const UnaryState&>(*args.state);
    float lo = min_;
    float hi = max_;
    if (bounds_are_inputs_) {
      if (args.inputs.size() > 1 && args.inputs[1] != nullptr) {
        lo = args.inputs[1]->data<float>()[0];
      }
      if (args.inputs.size() > 2 && args.inputs[2] != nullptr) {
        hi = args.inputs[2]->data<float>()[0];
      }
    }
    const float* x = args.inputs[0]->data<float>();
    float* y = args.outputs[0]->mutable_data<float>();
    ParallelFor(state.count, args.threads, kElementwiseGrain,
                [&](int64_t begin, int64_t end) {
                  for (int64_t i = begin; i < end; ++i) {
                    const float v = x[i];
                    y[i] = v < lo ? lo : (v > hi ? hi : v);
                  }
                });
    RezeroPadding(state, 0.0f < lo ? lo : (0.0f > hi ? hi : 0.0f), y);
  }

 private:
  bool bounds_are_inputs_;
  float min_ = std::numeric_limits<float>::lowest();
  float max_ = std::numeric_limits<float>::max();
};

std::unique_ptr<Kernel> CreateClip(const KernelBuildContext& ctx) {
  return std::make_unique<ClipKernel>(ctx);
}

// ------------------------------------------------------ binary ops

enum class BinaryOp { kAdd, kSub, kMul, kDiv };

template <BinaryOp kOp, typename T>
inline T Apply(T a, T b) {
  if constexpr (kOp == BinaryOp::kAdd) return a + b;
  if constexpr (kOp == BinaryOp::kSub) return a - b;
  if constexpr (kOp == BinaryOp::kMul) return a * b;
  // Integer division truncates toward zero, as ONNX Runtime's does; the
  // kernel rejects zero divisors before it gets here.
  return a / b;
}

// The broadcast, reduced to as few axes as possible: adjacent axes merge
// when both operands step through them the same way (both broadcast, or
// both contiguous).
struct BroadcastState : KernelState {
  std::vector<int64_t> shape;  // merged output shape, rank >= 1
  std::vector<int64_t> a_strides;
  std::vector<int64_t> b_strides;
};

std::unique_ptr<BroadcastState> MakeBroadcastState(
    const std::vector<int64_t>& a, const std::vector<int64_t>& b,
    const std::vector<int64_t>& out) {
  const std::vector<int64_t> as = BroadcastStrides(a, out);
  const std::vector<int64_t> bs = BroadcastStrides(b, out);
  auto state = std::make_unique<BroadcastState>();
  for (size_t i = 0; i < out.size(); ++i) {
    if (out[i] == 1) continue;  // a unit axis moves nobody
    if (!state->shape.empty()) {
      // Merge into the previous (outer) axis when, for each operand, this
      // axis continues it: stride * size of this axis == outer stride.
      const size_t last = state->shape.size() - 1;
      const int64_t size = out[i];
      const bool a_merges = state->a_strides[last] == as[i] * size;
      const bool b_merges = state->b_strides[last] == bs[i] * size;
      if (a_merges && b_merges) {
        state->shape[last] *= size;
        state->a_strides[last] = as[i];
        state->b_strides[last] = bs[i];
        continue;
      }
    }
    state->shape.push_back(out[i]);
    state->a_strides.push_back(as[i]);
    state->b_strides.push_back(bs[i]);
  }
  if (state->shape.empty()) {
    state->shape = {1};
    state->a_strides = {0};
    state->b_strides = {0};
  }
  return state;
}

template <BinaryOp kOp, typename T>
void BinaryRows(const T* a, const T* b, T* y, const BroadcastState& s,
                int threads) {
  const size_t rank = s.shape.size();
  const int64_t inner = s.shape[rank - 1];
  const int64_t sa = s.a_strides[rank - 1];
  const int64_t sb = s.b_strides[rank - 1];
  int64_t rows = 1;
  for (size_t i = 0; i + 1 < rank; ++i) rows *= s.shape[i];
  if (inner == 0 || rows == 0) return;
  ParallelFor(rows, threads, std::max<int64_t>(1, kElementwiseGrain / inner),
              [&](int64_t begin, int64_t end) {
                std::vector<int64_t> index(rank, 0);
                int64_t a_off = 0;
                int64_t b_off = 0;
                int64_t remaining = begin;
                for (size_t axis = rank - 1; axis-- > 0;) {
                  index[axis] = remaining % s.shape[axis];
                  remaining /= s.shape[axis];
                  a_off += index[axis] * s.a_strides[axis];
                  b_off += index[axis] * s.b_strides[axis];
                }
                for (int64_t row = begin; row < end; ++row) {
                  const T* ar = a + a_off;
                  const T* br = b + b_off;
                  T* yr = y + row * inner;
                  // The four stride patterns, each a loop the compiler
                  // vectorizes.
                  if (sa == 1 && sb == 1) {
                    for (int64_t i = 0; i < inner; ++i) {
                      yr[i] = Apply<kOp>(ar[i], br[i]);
                    }
                  } else if (sa == 1 && sb == 0) {
                    const T bv = br[0];
                    for (int64_t i = 0; i < inner; ++i)
                      yr[i] = Apply<kOp>(ar[i], bv);
                  } else if (sa == 0 && sb == 1) {
                    const T av = ar[0];
                    for (int64_t i = 0; i < inner; ++i)
                      yr[i] = Apply<kOp>(av, br[i]);
                  } else {
                    for (int64_t i = 0; i < inner; ++i) {
                      yr[i] = Apply<kOp>(ar[i * sa], br[i * sb]);
                    }
                  }
                  for (size_t axis = rank - 1; axis-- > 0;) {
                    ++index[axis];
                    a_off += s.a_strides[axis];
                    b_off += s.b_strides[axis];
                    if (index[axis] < s.shape[axis]) break;
                    a_off -= s.a_strides[axis] * index[axis];
                    b_off -= s.b_strides[axis] * index[axis];
                    index[axis] = 0;
                  }
                }
              });
}

// Binary ops on an activation in a convolution's layout (nhwc or blocked;
// ResNet's residual Add, the squeeze-excitation Mul of EfficientNet): either
// both operands have the same shape and are read in the same layout, or one is
// the activation and the other holds one value per channel (N or 1, C, 1...) or
// a single value, read plain.
struct BlockedBinaryState : KernelState {
  enum class Mode { kSameShape, kPerChannel };
  Mode mode = Mode::kSameShape;
  ops::Layout layout = ops::Layout::kNchw;
  ops::ChannelShape shape;  // of the output
  int64_t count = 0;        // floats in the output buffer
  // kPerChannel: which operand is the small one, and its element strides
  // over batch and channel (0 where it broadcasts).
  int small = 1;
  int64_t small_batch_stride = 0;
  int64_t small_channel_stride = 0;
};

// The blocked plan for these operands, or false to run plain.
bool PlanBlockedBinary(const PlanInput& a, const PlanInput& b,
                       const std::vector<int64_t>& out, KernelPlan* plan) {
  if (a.dtype != DataType::kFloat32 || out.size() < 3 || out.size() > 5) {
    return false;
  }
  auto state = std::make_unique<BlockedBinaryState>();
  if (a.shape == b.shape) {
    if (a.layout == ops::Layout::kNchw && b.layout == ops::Layout::kNchw) {
      return false;
    }
    state->layout = a.layout != ops::Layout::kNchw ? a.layout : b.layout;
    plan->input_layouts = {state->layout, state->layout};
  } else {
    // One operand is the full output, the other (N or 1, C or 1, 1...) or
    // shorter with ones (numpy alignment from the right).
    const int big = a.shape == out ? 0 : (b.shape == out ? 1 : -1);
    if (big < 0) return false;
    const PlanInput& full = big == 0 ? a : b;
    const PlanInput& small = big == 0 ? b : a;
    if (full.layout == ops::Layout::kNchw) return false;
    std::vector<int64_t> aligned(out.size() - small.shape.size(), 1);
    aligned.insert(aligned.end(), small.shape.begin(), small.shape.end());
    if (aligned.size() != out.size()) return false;
    for (size_t d = 2; d < out.size(); ++d) {
      if (aligned[d] != 1) return false;
    }
    if ((aligned[0] != 1 && aligned[0] != out[0]) ||
        (aligned[1] != 1 && aligned[1] != out[1])) {
      return false;
    }
    state->mode = BlockedBinaryState::Mode::kPerChannel;
    state->layout = full.layout;
    state->small = 1 - big;
    state->small_channel_stride = aligned[1] != 1 ? 1 : 0;
    state->small_batch_stride = aligned[0] != 1 ? aligned[1] : 0;
    plan->input_layouts.assign(2, ops::Layout::kNchw);
    plan->input_layouts[big] = state->layout;
  }
  state->shape = ops::SplitChannelShape(out);
  state->count = BufferElementCount(out, state->layout);
  plan->outputs = {{DataType::kFloat32, out, state->layout}};
  plan->state = std::move(state);
  return true;
}

// The kPerChannel loop for one block size (a compile-time constant, so that
// the inner loop is one vector operation per pixel).
template <BinaryOp kOp, int64_t kBlock>
void RunPerChannel(const BlockedBinaryState& s, const float* a, const float* b,
                   float* y, int threads) {
  const int64_t channels = static_cast<int64_t>(s.shape.channels);
  const int64_t blocks = (channels + kBlock - 1) / kBlock;
  const int64_t spatial = static_cast<int64_t>(s.shape.spatial);
  const float* full = s.small == 1 ? a : b;
  const float* small = s.small == 1 ? b : a;
  ParallelFor(static_cast<int64_t>(s.shape.batch) * blocks, threads,
              std::max<int64_t>(1, kElementwiseGrain / (spatial * kBlock + 1)),
              [&](int64_t begin, int64_t end) {
                float values[kBlock];
                for (int64_t nb = begin; nb < end; ++nb) {
                  const int64_t n = nb / blocks;
                  const int64_t c0 = nb % blocks * kBlock;
                  // Zero in the padding lanes keeps the padding zero for Add,
                  // Sub and Mul; Div rezeroes it afterwards.
                  for (int64_t j = 0; j < kBlock; ++j) {
                    values[j] = c0 + j < channels
                                    ? small[n * s.small_batch_stride +
                                            (c0 + j) * s.small_channel_stride]
                                    : 0.0f;
                  }
                  const float* x = full + nb * spatial * kBlock;
                  float* yb = y + nb * spatial * kBlock;
                  for (int64_t p = 0; p < spatial; ++p) {
                    for (int64_t j = 0; j < kBlock; ++j) {
                      yb[p * kBlock + j] =
                          s.small == 1
                              ? Apply<kOp>(x[p * kBlock + j], values[j])
                              : Apply<kOp>(values[j], x[p * kBlock + j]);
                    }
                  }
                }
              });
}

// kPerChannel on channels-last: each pixel is a row of C channels.
template <BinaryOp kOp>
void RunPerChannelNhwc(const BlockedBinaryState& s, const float* a,
                       const float* b, float* y, int threads) {
  const int64_t channels = static_cast<int64_t>(s.shape.channels);
  const int64_t spatial = static_cast<int64_t>(s.shape.spatial);
  const float* full = s.small == 1 ? a : b;
  const float* small = s.small == 1 ? b : a;
  ParallelFor(static_cast<int64_t>(s.shape.batch) * spatial, threads,
              std::max<int64_t>(1, kElementwiseGrain / (channels + 1)),
              [&](int64_t begin, int64_t end) {
                for (int64_t np = begin; np < end; ++np) {
                  const float* v = small + np / spatial * s.small_batch_stride;
                  const float* x = full + np * channels;
                  float* yr = y + np * channels;
                  if (s.small_channel_stride == 0) {
                    for (int64_t c = 0; c < channels; ++c) {
                      yr[c] = s.small == 1 ? Apply<kOp>(x[c], v[0])
                                           : Apply<kOp>(v[0], x[c]);
                    }
                  } else {
                    for (int64_t c = 0; c < channels; ++c) {
                      yr[c] = s.small == 1 ? Apply<kOp>(x[c], v[c])
                                           : Apply<kOp>(v[c], x[c]);
                    }
                  }
                }
              });
}

template <BinaryOp kOp>
void RunBlockedBinary(const BlockedBinaryState& s, const float* a,
                      const float* b, float* y, int threads) {
  if (s.mode == BlockedBinaryState::Mode::kSameShape) {
    ParallelFor(s.count, threads, kElementwiseGrain,
                [&](int64_t begin, int64_t end) {
                  for (int64_t i = begin; i < end; ++i) {
                    y[i] = Apply<kOp>(a[i], b[i]);
                  }
                });
  } else if (s.layout == ops::Layout::kNhwc) {
    RunPerChannelNhwc<kOp>(s, a, b, y, threads);
  } else if (s.layout == ops::Layout::kNChw16c) {
    RunPerChannel<kOp, 16>(s, a, b, y, threads);
  } else {
    RunPerChannel<kOp, 8>(s, a, b, y, threads);
  }
  if constexpr (kOp == BinaryOp::kDiv) {
    ops::ZeroChannelPadding(y, s.shape, s.layout);
  }
}

template <BinaryOp kOp>
class BinaryKernel : public Kernel {
 public:
  KernelPlan Plan(const std::vector<const PlanInput*>& inputs) const override {
    const PlanInput& a = RequiredInput(inputs, 0);
    const PlanInput& b = RequiredInput(inputs, 1);
    if (a.dtype != b.dtype) {
      throw InvalidArgumentError("operands have different element types: " +
                                 Describe(a) + " and " + Describe(b));
    }
    const std::vector<int64_t> shape = BroadcastShapes(a.shape, b.shape);
    KernelPlan plan;
    if (PlanBlockedBinary(a, b, shape, &plan)) return plan;
    plan.outputs = {{a.dtype, shape}};
    plan.state = MakeBroadcastState(a.shape, b.shape, shape);
    return plan;
  }

  void Run(const KernelArgs& args) const override {
    const Tensor& a = *args.inputs[0];
    const Tensor& b = *args.inputs[1];
    Tensor& y = *args.outputs[0];
    if (const auto* blocked =
            dynamic_cast<const BlockedBinaryState*>(args.state)) {
      RunBlockedBinary<kOp>(*blocked, a.data<float>(), b.data<float>(),
                            y.mutable_data<float>(), args.threads);
      return;
    }
    const auto& state = static_cast<const BroadcastState&>(*args.state);
    if (a.dtype() == DataType::kFloat32) {
      BinaryRows<kOp>(a.data<float>(), b.data<float>(), y.mutable_data<float>(),
                      state, args.threads);
      return;
    }
    if constexpr (kOp == BinaryOp::kDiv) {
      const int64_t* divisor = b.data<int64_t>();
      for (int64_t i = 0; i < b.NumElements(); ++i) {
        if (divisor[i] == 0) {
          throw InvalidArgumentError("integer division by zero");
        }
      }
    }
    // int64 operands are shape arithmetic: a handful of elements.
    BinaryRows<kOp>(a.data<int64_t>(), b.data<int64_t>(),
                    y.mutable_data<int64_t>(), state, /*threads=*/1);
  }
};

template <BinaryOp kOp>
std::unique_ptr<Kernel> CreateBinary(const KernelBuildContext&) {
  return std::make_unique<BinaryKernel<kOp>>();
}

// ------------------------------------------------------ Softmax

struct SoftmaxState : KernelState {
  SoftmaxGeometry geometry;
};

class SoftmaxKernel : public Kernel {
 public:
  explicit SoftmaxKernel(const KernelBuildContext& ctx)
      : axis_(SoftmaxAxis(ctx.node(), ctx.opset())), opset_(ctx.opset()) {}

  KernelPlan Plan(const std::vector<const PlanInput*>& inputs) const override {
    const PlanInput& x = RequiredFloatInput(inputs, 0);
    auto state = std::make_unique<SoftmaxState>();
    state->geometry = SoftmaxGeometryFor(axis_, opset_, x.shape);
    KernelPlan plan;
    plan.outputs = {{DataType::kFloat32, x.shape}};
    plan.state = std::move(state);
    return plan;
  }

  void Run(const KernelArgs& args) const override {
    const SoftmaxGeometry& g =
        static_cast<const SoftmaxState&>(*args.state).geometry;
    const float* x = args.inputs[0]->data<float>();
    float* y = args.outputs[0]->mutable_data<float>();
    ParallelFor(g.outer * g.inner, args.threads,
                std::max<int64_t>(1, kElementwiseGrain / (g.length + 1)),
                [&](int64_t begin, int64_t end) {
                  for (int64_t r = begin; r < end; ++r) {
                    const int64_t o = r / g.inner;
                    const int64_t i = r % g.inner;
                    const float* xr = x + o * g.length * g.inner + i;
                    float* yr = y + o * g.length * g.inner + i;
                    float max = -std::numeric_limits<float>::infinity();
                    for (int64_t j = 0; j < g.length; ++j) {
                      max = std::max(max, xr[j * g.inner]);
                    }
                    double sum = 0.0;
                    for (int64_t j = 0; j < g.length; ++j) {
                      const float e = std::exp(xr[j * g.inner] - max);
                      yr[j * g.inner] = e;
                      sum += e;
                    }
                    const float scale = static_cast<float>(1.0 / sum);
                    for (int64_t j = 0; j < g.length; ++j) {
                      yr[j * g.inner] *= scale;
                    }
                  }
                });
  }

 private:
  int64_t axis_;
  int64_t opset_;
};

std::unique_ptr<Kernel> CreateSoftmax(const KernelBuildContext& ctx) {
  return std::make_unique<SoftmaxKernel>(ctx);
}

// ------------------------------------------------------ ReduceMean

struct ReduceState : KernelState {
  // The input viewed as (outer, reduced, inner) when the reduced axes are
  // contiguous; otherwise per-axis output strides for the general loop.
  bool contiguous = false;
  int64_t outer = 1, reduced = 1, inner = 1;
  std::vector<int64_t> x_shape;
  std::vector<int64_t> out_strides;  // per input axis, 0 for reduced axes
  int64_t count = 1;                 // elements averaged per output
};

class ReduceMeanKernel : public Kernel {
 public:
  explicit ReduceMeanKernel(const KernelBuildContext& ctx)
      : axes_are_input_(AxesAreAnInput(ctx.node(), ctx.opset())),
        keep_dims_(ctx.node().GetInt("keepdims", 1) != 0),
        noop_with_empty_axes_(ctx.node().GetInt("noop_with_empty_axes", 0) !=
                              0) {
    if (!axes_are_input_) axes_ = ctx.node().GetInts("axes");
  }

  KernelPlan Plan(const std::vector<const PlanInput*>& inputs) const override {
    const PlanInput& x = RequiredFloatInput(inputs, 0);
    std::vector<int64_t> axes = axes_;
    if (axes_are_input_ && inputs.size() > 1 && inputs[1] != nullptr) {
      axes = KnownInt64Input(inputs, 1, "axes");
    }
    const size_t rank = x.shape.size();
    const std::vector<bool> reduce =
        ReducedAxes(x.shape, axes, noop_with_empty_axes_);
    auto state = std::make_unique<ReduceState>();
    state->x_shape = x.shape;
    const std::vector<int64_t> out_shape =
        ReduceOutputShape(x.shape, reduce, keep_dims_);
    std::vector<int64_t> kept_shape;  // output shape with keepdims
    for (size_t i = 0; i < rank; ++i) {
      kept_shape.push_back(reduce[i] ? 1 : x.shape[i]);
      if (reduce[i]) state->count *= x.shape[i];
    }
    const std::vector<int64_t> kept_strides = ContiguousStrides(kept_shape);
    state->out_strides.resize(rank);
    for (size_t i = 0; i < rank; ++i) {
      state->out_strides[i] = reduce[i] ? 0 : kept_strides[i];
    }
    // Contiguous when the reduced axes of size > 1 form one run of the
    // axes of size > 1: then x is (outer, reduced, inner) and the outputs
    // come in (outer, inner) order.
    size_t first = rank;
    size_t last = 0;
    for (size_t i = 0; i < rank; ++i) {
      if (reduce[i] && x.shape[i] != 1) {
        first = std::min(first, i);
        last = i;
      }
    }
    if (first == rank) {  // nothing of size > 1 is reduced
      first = 0;
      last = 0;
      state->contiguous = true;
      state->outer = ShapeNumElements(x.shape);
    } else {
      state->contiguous = true;
      for (size_t i = first; i <= last; ++i) {
        if (!reduce[i] && x.shape[i] != 1) state->contiguous = false;
      }
      state->outer = ShapeProduct(x.shape, 0, first);
      state->reduced = ShapeProduct(x.shape, first, last + 1);
      state->inner = ShapeProduct(x.shape, last + 1, rank);
    }
    KernelPlan plan;
    plan.outputs = {{DataType::kFloat32, out_shape}};
    plan.state = std::move(state);
    return plan;
  }

  void Run(const KernelArgs& args) const override {
    const auto& s = static_cast<const ReduceState&>(*args.state);
    const float* x = args.inputs[0]->data<float>();
    float* y = args.outputs[0]->mutable_data<float>();
    const int64_t out_count = args.outputs[0]->NumElements();
    if (s.count == 0) {
      std::fill(y, y + out_count, std::numeric_limits<float>::quiet_NaN());
      return;
    }
    if (s.contiguous) {
      ParallelFor(s.outer * s.inner, args.threads,
                  std::max<int64_t>(1, kElementwiseGrain / s.reduced),
                  [&](int64_t begin, int64_t end) {
                    for (int64_t r = begin; r < end; ++r) {
                      const int64_t o = r / s.inner;
                      const int64_t i = r % s.inner;
                      const float* xr = x + o * s.reduced * s.inner + i;
                      double sum = 0.0;
                      for (int64_t j = 0; j < s.reduced; ++j) {
                        sum += xr[j * s.inner];
                      }
                      y[r] = static_cast<float>(sum / s.count);
                    }
                  });
      return;
    }
    // Reduced axes interleaved with kept ones: one pass over x, summing
    // into double accumulators.
    std::vector<double> sums(out_count, 0.0);
    const size_t rank = s.x_shape.size();
    std::vector<int64_t> index(rank, 0);
    int64_t out = 0;
    const int64_t total = ShapeNumElements(s.x_shape);
    for (int64_t e = 0; e < total; ++e) {
      sums[out] += x[e];
      for (size_t axis = rank; axis-- > 0;) {
        ++index[axis];
        out += s.out_strides[axis];
        if (index[axis] < s.x_shape[axis]) break;
        out -= s.out_strides[axis] * index[axis];
        index[axis] = 0;
      }
    }
    for (int64_t i = 0; i < out_count; ++i) {
      y[i] = static_cast<float>(sums[i] / s.count);
    }
  }

 private:
  bool axes_are_input_;
  bool keep_dims_;
  bool noop_with_empty_axes_;
  std::vector<int64_t> axes_;
};

std::unique_ptr<Kernel> CreateReduceMean(const KernelBuildContext& ctx) {
  return std::make_unique<ReduceMeanKernel>(ctx);
}

}  // namespace

void RegisterElementwiseKernels(OpRegistry* registry) {
  registry->AddKernel("Relu", "default", CreateRelu);
  registry->AddKernel("Sigmoid", "default", CreateSigmoid);
  registry->AddKernel("HardSigmoid", "default", CreateHardSigmoid);
  registry->AddKernel("HardSwish", "default", CreateHardSwish);
  registry->AddKernel("Clip", "default", CreateClip);
  registry->AddKernel("Add", "default", CreateBinary<BinaryOp::kAdd>);
  registry->AddKernel("Sub", "default", CreateBinary<BinaryOp::kSub>);
  registry->AddKernel("Mul", "default", CreateBinary<BinaryOp::kMul>);
  registry->AddKernel("Div", "default", CreateBinary<BinaryOp::kDiv>);
  registry->AddKernel("Softmax", "default", CreateSoftmax);
  registry->AddKernel("ReduceMean", "default", CreateReduceMean);
}

}  // namespace foldrt::runtime
