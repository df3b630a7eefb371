// Helpers the kernel sources share: input checks for Plan, one-output plans,
// kernel factories, the fall back from an optimized op to the reference
// path, strided copies (strides from runtime/op_attributes.h), and the
// parallel loop over the OpenMP runtime the oneDNN ops use.
#ifndef FOLDRT_RUNTIME_KERNELS_KERNEL_UTIL_H_
#define FOLDRT_RUNTIME_KERNELS_KERNEL_UTIL_H_

#include <algorithm>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/error.h"
#include "core/tensor.h"
#include "graph/tensor.h"
#include "ops/activation.h"
#include "ops/parallel_slices.h"
#include "runtime/kernels/kernel.h"
#include "runtime/op_attributes.h"

namespace foldrt::runtime {

// A graph constant (initializer, Constant value) as a runtime tensor: float
// stays float32, integer and bool types widen to int64 (exactly); other
// types throw UnsupportedError naming `what`.
Tensor ToRuntimeTensor(const graph::Tensor& tensor, const std::string& what);

// Calls f(float{}) for kFloat32 and f(int64_t{}) for kInt64, so one generic
// lambda serves both element types of the data movement kernels.
template <typename F>
auto DispatchDataType(DataType dtype, F&& f) {
  if (dtype == DataType::kFloat32) return f(float{});
  return f(int64_t{});
}

// "float32 (3, 4)".
std::string Describe(const PlanInput& input);

// The present input `index`; InvalidArgumentError if it is absent.
const PlanInput& RequiredInput(const std::vector<const PlanInput*>& inputs,
                               size_t index);
// The same, and its dtype must be float32 (InvalidArgumentError otherwise).
const PlanInput& RequiredFloatInput(const std::vector<const PlanInput*>& inputs,
                                    size_t index);
// An input whose value planning must know (a shape, axes, pads): its int64
// elements. UnsupportedError when it is computed at run time from data.
std::vector<int64_t> KnownInt64Input(
    const std::vector<const PlanInput*>& inputs, size_t index,
    const std::string& what);
// The single value of a known one-element input (float or integer).
double KnownScalarInput(const std::vector<const PlanInput*>& inputs,
                        size_t index, const std::string& what);

// dst (C order, `out_shape`) = src read at base + sum(index[axis] *
// src_strides[axis]) (strides in elements, may be 0 or negative). Transpose,
// Slice and broadcasting copies are all this.
template <typename T>
void StridedCopy(const T* src, int64_t base,
                 const std::vector<int64_t>& src_strides,
                 const std::vector<int64_t>& out_shape, T* dst, int threads);

// Elements per thread below which splitting an elementwise loop costs more
// than it saves (the grain of the activation, binary and reduction loops).
constexpr int64_t kElementwiseGrain = 1 << 14;

// Calls body(begin, end) on disjoint ranges covering [0, n), on up to
// `threads` OpenMP threads, each range at least `grain` long. `body` must
// not throw.
template <typename Body>
void ParallelFor(int64_t n, int threads, int64_t grain, const Body& body);

// y[i] = act(y[i]) for the reference paths of kernels with a fused
// activation (the optimized ops apply it as a post-op).
void ApplyActivationInPlace(const ops::Activation& act, float* y, int64_t n,
                            int threads);

// The plan of a kernel with one output: its type, Run's state, and the
// layouts Run wants the inputs in (empty: every input plain).
inline KernelPlan OneOutputPlan(ValueType output,
                                std::unique_ptr<const KernelState> state,
                                std::vector<ops::Layout> input_layouts = {}) {
  KernelPlan plan;
  plan.outputs = {std::move(output)};
  plan.input_layouts = std::move(input_layouts);
  plan.state = std::move(state);
  return plan;
}

// Per-shape state for kernels that only need their output types.
struct NoState : KernelState {};

// The factory of a kernel class built from its node alone, for
// OpRegistry::AddKernel: NewKernel<GemmKernel>.
template <typename K>
std::unique_ptr<Kernel> NewKernel(const KernelBuildContext& ctx) {
  return std::make_unique<K>(ctx);
}

// InvalidArgumentError unless the optimized op (`op`: "oneDNN Conv")
// computes the output dims the reference shape rule gives.
void CheckOutputDims(const std::string& op, const std::vector<int64_t>& dims,
                     const std::vector<int64_t>& reference_dims);

// Logs (debug) that node `label` (`op`) runs the reference kernel because
// the optimized op refused its configuration.
void LogReferenceFallback(const std::string& label, const std::string& op,
                          const UnsupportedError& refusal);

// build(), or null when the optimized op it builds refuses this
// configuration (UnsupportedError): the kernel then runs the reference.
template <typename Build>
auto BuildOrNull(const std::string& label, const std::string& op, Build&& build)
    -> decltype(build()) {
  try {
    return build();
  } catch (const UnsupportedError& e) {
    LogReferenceFallback(label, op, e);
    return nullptr;
  }
}

// A window whose pads do not depend on the input shape (auto_pad NOTSET:
// the explicit pads; VALID: none) into the ops::ref parameters of Conv,
// ConvTranspose (params.conv) or pooling.
template <typename Params>
void SetFixedWindow(const WindowAttributes& window, Params* params) {
  params->strides = window.strides;
  params->dilations = window.dilations;
  params->pads_begin = window.pads_begin;
  params->pads_end = window.pads_end;
  if (window.auto_pad == ops::ref::AutoPad::kValid) {
    params->pads_begin.assign(window.strides.size(), 0);
    params->pads_end.assign(window.strides.size(), 0);
  }
}

// Layout helpers for kernels that keep activations blocked.
inline bool IsBlocked(ops::Layout layout) {
  return layout == ops::Layout::kNChw8c || layout == ops::Layout::kNChw16c;
}
// Floats in the buffer of `shape` laid out as `layout` (padding included).
inline int64_t BufferElementCount(const std::vector<int64_t>& shape,
                                  ops::Layout layout) {
  if (!IsBlocked(layout)) return ShapeNumElements(shape);
  return static_cast<int64_t>(
      ops::BufferElements(ops::SplitChannelShape(shape), layout));
}
// input_layouts for a kernel that wants input 0 in `layout` and every other
// input plain.
inline std::vector<ops::Layout> FirstInputIn(
    ops::Layout layout, const std::vector<const PlanInput*>& inputs) {
  std::vector<ops::Layout> layouts(inputs.size(), ops::Layout::kNchw);
  if (!layouts.empty()) layouts[0] = layout;
  return layouts;
}

// ------------------------------------------------------ implementation

template <typename Body>
void ParallelFor(int64_t n, int threads, int64_t grain, const Body& body) {
  if (n <= 0) return;
  const int64_t by_grain =
      (n + std::max<int64_t>(grain, 1) - 1) / std::max<int64_t>(grain, 1);
  const int64_t chunks = std::min<int64_t>(std::max(threads, 1), by_grain);
  // One slice per thread, as the ops' own kernels split (chunks <= n, so
  // each of the `chunks` threads gets at least one element).
  ops::ParallelSlices(static_cast<size_t>(n), 1, static_cast<int>(chunks), 1, 1,
                      [&body](size_t begin, size_t end) {
                        body(static_cast<int64_t>(begin),
                             static_cast<int64_t>(end));
                      });
}

template <typename T>
void StridedCopy(const T* src, int64_t base,
                 const std::vector<int64_t>& src_strides,
                 const std::vector<int64_t>& out_shape, T* dst, int threads) {
  const size_t rank = out_shape.size();
  if (rank == 0) {
    dst[0] = src[base];
    return;
  }
  const int64_t inner = out_shape[rank - 1];
  const int64_t inner_stride = src_strides[rank - 1];
  int64_t rows = 1;
  for (size_t i = 0; i + 1 < rank; ++i) rows *= out_shape[i];
  if (inner == 0 || rows == 0) return;
  ParallelFor(rows, threads, std::max<int64_t>(1, 16384 / inner),
              [&](int64_t begin, int64_t end) {
                // The source offset of row `begin`, then stepped row by row.
                std::vector<int64_t> index(rank, 0);
                int64_t offset = base;
                int64_t remaining = begin;
                for (size_t axis = rank - 1; axis-- > 0;) {
                  index[axis] = remaining % out_shape[axis];
                  remaining /= out_shape[axis];
                  offset += index[axis] * src_strides[axis];
                }
                for (int64_t row = begin; row < end; ++row) {
                  T* out = dst + row * inner;
                  const T* in = src + offset;
                  if (inner_stride == 1) {
                    std::copy(in, in + inner, out);
                  } else {
                    for (int64_t i = 0; i < inner; ++i) {
                      out[i] = in[i * inner_stride];
                    }
                  }
                  for (size_t axis = rank - 1; axis-- > 0;) {
                    ++index[axis];
                    offset += src_strides[axis];
                    if (index[axis] < out_shape[axis]) break;
                    offset -= src_strides[axis] * index[axis];
                    index[axis] = 0;
                  }
                }
              });
}

}  // namespace foldrt::runtime

#endif  // FOLDRT_RUNTIME_KERNELS_KERNEL_UTIL_H_
