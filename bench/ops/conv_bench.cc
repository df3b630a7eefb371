// ops::Conv on ResNet-50 convolutions at batch 1, 1 and 2 threads, next to
// the bare oneDNN primitive on the layouts it picked (no NCHW reorders), so
// the cost of foldrt's plain NCHW interface shows.
//
// Counter: GFLOP/s = 2 * N * Cout * Hout * Wout * Cin / groups * kh * kw per
// run (multiply-adds count as two), over wall time.
//
//   build/bench/conv_bench --benchmark_filter='3x3_64'
#include <benchmark/benchmark.h>
#include <omp.h>

#include <cstdint>
#include <oneapi/dnnl/dnnl.hpp>
#include <string>
#include <unordered_map>
#include <vector>

#include "bench/ops/ops_bench_util.h"
#include "ops/conv.h"

namespace foldrt::ops {
namespace {

using bench::Count;
using bench::Random;

struct ConvShape {
  std::string name;
  std::vector<int64_t> x_dims;  // (N, Cin, H, W)
  std::vector<int64_t> w_dims;  // (Cout, Cin, kh, kw)
  int64_t stride;
  int64_t pad;
};

// torchvision resnet50: the stem, the 3x3 and a 1x1 of stage 1 (layer1), and
// the 3x3 of a stage-3-sized block with 256 channels.
std::vector<ConvShape> Shapes() {
  return {
      {"resnet50_stem_7x7_s2_3to64_224", {1, 3, 224, 224}, {64, 3, 7, 7}, 2, 3},
      {"resnet50_3x3_64to64_56", {1, 64, 56, 56}, {64, 64, 3, 3}, 1, 1},
      {"resnet50_1x1_256to64_56", {1, 256, 56, 56}, {64, 256, 1, 1}, 1, 0},
      {"resnet50_3x3_256to256_14", {1, 256, 14, 14}, {256, 256, 3, 3}, 1, 1},
  };
}

ConvAttributes Attributes(const ConvShape& s) {
  ConvAttributes a;
  a.strides = {s.stride, s.stride};
  a.pads_begin = a.pads_end = {s.pad, s.pad};
  return a;
}

void SetFlops(benchmark::State& state, const std::vector<int64_t>& y_dims,
              const ConvShape& s) {
  const double flops = 2.0 * static_cast<double>(Count(y_dims)) *
                       static_cast<double>(Count(s.w_dims) / s.w_dims[0]);
  state.counters["GFLOP/s"] = benchmark::Counter(
      flops * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
}

// foldrt's prepared op: NCHW in, NCHW out, bias and ReLU fused.
void BM_Conv(benchmark::State& state, ConvShape s, int threads) {
  const std::vector<float> w = Random(Count(s.w_dims));
  const std::vector<float> bias = Random(s.w_dims[0]);
  const Conv conv(w.data(), s.w_dims, bias.data(), Attributes(s),
                  Activation::Relu());
  const std::vector<float> x = Random(Count(s.x_dims));
  const std::vector<int64_t> y_dims = conv.OutputDims(s.x_dims);
  std::vector<float> y(Count(y_dims));
  conv.Run(x.data(), s.x_dims, y.data(), threads);  // build + pack weights
  for (auto _ : state) {
    conv.Run(x.data(), s.x_dims, y.data(), threads);
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
  }
  SetFlops(state, y_dims, s);
}

// The same convolution as one oneDNN primitive on the src/dst/weights
// layouts it chose, i.e. what a blocked-layout pipeline would pay.
void BM_OneDnnPrimitive(benchmark::State& state, ConvShape s, int threads) {
  using dnnl::memory;
  const int previous_threads = omp_get_max_threads();
  omp_set_num_threads(threads);
  dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  dnnl::stream stream(engine);
  const ConvAttributes a = Attributes(s);
  const std::vector<int64_t> y_dims =
      Conv(Random(Count(s.w_dims)).data(), s.w_dims, nullptr, a)
          .OutputDims(s.x_dims);
  auto any = [](const std::vector<int64_t>& dims) {
    return memory::desc(memory::dims(dims.begin(), dims.end()),
                        memory::data_type::f32, memory::format_tag::any);
  };
  dnnl::convolution_forward::desc desc(
      dnnl::prop_kind::forward_inference, dnnl::algorithm::convolution_direct,
      any(s.x_dims), any(s.w_dims),
      memory::desc({s.w_dims[0]}, memory::data_type::f32,
                   memory::format_tag::a),
      any(y_dims), {s.stride, s.stride}, {0, 0}, {s.pad, s.pad},
      {s.pad, s.pad});
  dnnl::post_ops relu;
  relu.append_eltwise(1.0f, dnnl::algorithm::eltwise_relu, 0.0f, 0.0f);
  dnnl::primitive_attr attr;
  attr.set_post_ops(relu);
  dnnl::convolution_forward::primitive_desc pd(desc, attr, engine);
  dnnl::convolution_forward conv(pd);
  // Values do not matter for timing; reorders would only add set-up time.
  std::vector<float> src_data(pd.src_desc().get_size() / sizeof(float), 0.5f);
  std::vector<float> w_data(pd.weights_desc().get_size() / sizeof(float),
                            0.01f);
  std::vector<float> b_data(s.w_dims[0], 0.1f);
  std::vector<float> dst_data(pd.dst_desc().get_size() / sizeof(float));
  const std::unordered_map<int, memory> args = {
      {DNNL_ARG_SRC, memory(pd.src_desc(), engine, src_data.data())},
      {DNNL_ARG_WEIGHTS, memory(pd.weights_desc(), engine, w_data.data())},
      {DNNL_ARG_BIAS, memory(pd.bias_desc(), engine, b_data.data())},
      {DNNL_ARG_DST, memory(pd.dst_desc(), engine, dst_data.data())},
  };
  conv.execute(stream, args);
  stream.wait();
  for (auto _ : state) {
    conv.execute(stream, args);
    stream.wait();
    benchmark::ClobberMemory();
  }
  omp_set_num_threads(previous_threads);
  SetFlops(state, y_dims, s);
}

void RegisterAll() {
  for (const ConvShape& s : Shapes()) {
    for (int threads : {1, 2}) {
      const std::string suffix = s.name + "/threads:" + std::to_string(threads);
      bench::RegisterWallTime("conv_nchw/" + suffix, BM_Conv, s, threads)
          ->Unit(benchmark::kMicrosecond);
      bench::RegisterWallTime("onednn_native/" + suffix, BM_OneDnnPrimitive, s,
                              threads)
          ->Unit(benchmark::kMicrosecond);
    }
  }
}

}  // namespace
}  // namespace foldrt::ops

int main(int argc, char** argv) {
  return foldrt::ops::bench::RunBenchmarks(argc, argv,
                                           foldrt::ops::RegisterAll);
}
