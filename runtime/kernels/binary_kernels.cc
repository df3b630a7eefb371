// Add, Sub, Mul and Div with numpy broadcasting, on float32 and int64:
// the broadcast reduced to as few axes as possible and run row by row, or,
// on an activation in a convolution's layout (channels-last or blocked),
// in that layout against a same-shape or per-channel operand.
#include <algorithm>
#include <memory>
#include <vector>

#include "core/error.h"
#include "ops/layout.h"
#include "runtime/kernels/kernel.h"
#include "runtime/kernels/kernel_util.h"
#include "runtime/op_attributes.h"
#include "runtime/op_registry.h"

namespace foldrt::runtime {
namespace {

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

}  // namespace

void RegisterBinaryKernels(OpRegistry* registry) {
  registry->AddKernel("Add", "default", CreateBinary<BinaryOp::kAdd>);
  registry->AddKernel("Sub", "default", CreateBinary<BinaryOp::kSub>);
  registry->AddKernel("Mul", "default", CreateBinary<BinaryOp::kMul>);
  registry->AddKernel("Div", "default", CreateBinary<BinaryOp::kDiv>);
}

}  // namespace foldrt::runtime
