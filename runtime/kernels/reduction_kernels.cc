// The kernels that reduce along axes: Softmax (a max and a sum along one
// axis) and ReduceMean, accumulating in double, split over OpenMP threads
// by output rows.
#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>
#include <vector>

#include "core/error.h"
#include "runtime/kernels/kernel.h"
#include "runtime/kernels/kernel_util.h"
#include "runtime/op_attributes.h"
#include "runtime/op_registry.h"

namespace foldrt::runtime {
namespace {

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
    return OneOutputPlan({DataType::kFloat32, x.shape}, std::move(state));
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
    return OneOutputPlan({DataType::kFloat32, out_shape}, std::move(state));
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

}  // namespace

void RegisterReductionKernels(OpRegistry* registry) {
  registry->AddKernel("Softmax", "default", NewKernel<SoftmaxKernel>);
  registry->AddKernel("ReduceMean", "default", NewKernel<ReduceMeanKernel>);
}

}  // namespace foldrt::runtime
