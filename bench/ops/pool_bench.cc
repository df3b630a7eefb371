// ops::Pool on the pools of VGG-11-BN, ResNet-50, DenseNet-121 and the
// GlobalAveragePool heads of MobileNetV2 / ResNet-50, at batch 1 on 1 and 2
// threads, per layout, next to the two other ways to pool a plain NCHW
// tensor:
//   onednn_nchw_old/   the bare oneDNN primitive on plain NCHW: what
//                      ops::Pool ran before layout support (simple_nchw for
//                      many shapes);
//   nchw_via_reorder/  reorder to nChw16c, ops::Pool on nChw16c, reorder
//                      back: the oneDNN alternative to the Highway kernels
//                      the plain path runs now;
//   pool_<layout>/     ops::Pool::Run on that layout (nchw = Highway planes,
//                      blocked = oneDNN JIT, no reorder).
//
// Counter: GB/s = (input + output bytes of the logical tensors) / wall time.
//
//   build/bench/pool_bench --benchmark_filter='vgg'
#include <benchmark/benchmark.h>
#include <omp.h>

#include <cstdint>
#include <oneapi/dnnl/dnnl.hpp>
#include <string>
#include <unordered_map>
#include <vector>

#include "bench/ops/ops_bench_util.h"
#include "ops/layout.h"
#include "ops/pool.h"

namespace foldrt::ops {
namespace {

using bench::Count;
using bench::Random;

struct PoolShape {
  std::string name;
  std::vector<int64_t> x_dims;
  PoolAttributes attrs;
};

PoolAttributes Window(PoolKind kind, int64_t k, int64_t s, int64_t p) {
  PoolAttributes a;
  a.kind = kind;
  a.kernel = {k, k};
  a.strides = {s, s};
  a.pads_begin = a.pads_end = {p, p};
  return a;
}

std::vector<PoolShape> Shapes() {
  PoolAttributes gap;
  gap.kind = PoolKind::kGlobalAverage;
  return {
      {"vgg11_max_k2s2_64x224",
       {1, 64, 224, 224},
       Window(PoolKind::kMax, 2, 2, 0)},
      {"resnet50_max_k3s2p1_64x112",
       {1, 64, 112, 112},
       Window(PoolKind::kMax, 3, 2, 1)},
      {"densenet121_avg_k2s2_128x56",
       {1, 128, 56, 56},
       Window(PoolKind::kAverage, 2, 2, 0)},
      {"gap_1280x7", {1, 1280, 7, 7}, gap},
      {"gap_2048x7", {1, 2048, 7, 7}, gap},
  };
}

void SetBytes(benchmark::State& state, const std::vector<int64_t>& x_dims,
              const std::vector<int64_t>& y_dims) {
  state.counters["GB/s"] = benchmark::Counter(
      4e-9 * static_cast<double>(Count(x_dims) + Count(y_dims)),
      benchmark::Counter::kIsIterationInvariantRate);
}

// ops::Pool::Run on `layout`; blocked buffers are zero-padded.
void BM_Pool(benchmark::State& state, PoolShape s, Layout layout, int threads) {
  const Pool pool(s.attrs);
  const std::vector<int64_t> y_dims = pool.OutputDims(s.x_dims);
  std::vector<float> x(BufferElements(SplitChannelShape(s.x_dims), layout));
  const std::vector<float> values = Random(Count(s.x_dims));
  std::copy(values.begin(), values.end(), x.begin());  // layout irrelevant
  std::vector<float> y(BufferElements(SplitChannelShape(y_dims), layout));
  pool.Run(x.data(), s.x_dims, layout, y.data(), threads);
  for (auto _ : state) {
    pool.Run(x.data(), s.x_dims, layout, y.data(), threads);
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
  }
  SetBytes(state, s.x_dims, y_dims);
}

dnnl::memory::desc Desc(const std::vector<int64_t>& dims,
                        dnnl::memory::format_tag tag) {
  return dnnl::memory::desc(dnnl::memory::dims(dims.begin(), dims.end()),
                            dnnl::memory::data_type::f32, tag);
}

// Global pooling as oneDNN sees it in ops::Pool: (N, C, 1, H * W).
std::vector<int64_t> OneDnnDims(const PoolShape& s, bool output) {
  const bool global = s.attrs.kind == PoolKind::kGlobalAverage ||
                      s.attrs.kind == PoolKind::kGlobalMax;
  if (!global) return {};
  return {s.x_dims[0], s.x_dims[1], 1, output ? 1 : s.x_dims[2] * s.x_dims[3]};
}

// The plain NCHW path of ops::Pool before layout support: one oneDNN
// pooling_v2 primitive on nchw src and dst.
void BM_OneDnnNchwOld(benchmark::State& state, PoolShape s, int threads) {
  using dnnl::memory;
  const int previous_threads = omp_get_max_threads();
  omp_set_num_threads(threads);
  dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  dnnl::stream stream(engine);
  const std::vector<int64_t> y_dims = Pool(s.attrs).OutputDims(s.x_dims);
  memory::dims kernel, strides, pads;
  dnnl::algorithm alg;
  std::vector<int64_t> src = s.x_dims, dst = y_dims;
  if (s.attrs.kernel.empty()) {
    src = OneDnnDims(s, false);
    dst = OneDnnDims(s, true);
    kernel = {1, src[3]};
    strides = {1, 1};
    pads = {0, 0};
    alg = s.attrs.kind == PoolKind::kGlobalMax
              ? dnnl::algorithm::pooling_max
              : dnnl::algorithm::pooling_avg_exclude_padding;
  } else {
    kernel = s.attrs.kernel;
    strides = s.attrs.strides;
    pads = s.attrs.pads_begin;
    alg = s.attrs.kind == PoolKind::kMax
              ? dnnl::algorithm::pooling_max
              : dnnl::algorithm::pooling_avg_exclude_padding;
  }
  const memory::desc src_md = Desc(src, memory::format_tag::nchw);
  const memory::desc dst_md = Desc(dst, memory::format_tag::nchw);
  dnnl::pooling_v2_forward::desc desc(dnnl::prop_kind::forward_inference, alg,
                                      src_md, dst_md, strides, kernel, {0, 0},
                                      pads, pads);
  dnnl::pooling_v2_forward::primitive_desc pd(desc, engine);
  dnnl::pooling_v2_forward pool(pd);
  std::vector<float> x = Random(Count(s.x_dims));
  std::vector<float> y(Count(y_dims));
  const std::unordered_map<int, memory> args = {
      {DNNL_ARG_SRC, memory(src_md, engine, x.data())},
      {DNNL_ARG_DST, memory(dst_md, engine, y.data())},
  };
  pool.execute(stream, args);
  stream.wait();
  for (auto _ : state) {
    pool.execute(stream, args);
    stream.wait();
    benchmark::ClobberMemory();
  }
  omp_set_num_threads(previous_threads);
  SetBytes(state, s.x_dims, y_dims);
}

// Plain NCHW through the blocked path: reorder x to nChw16c, ops::Pool on
// nChw16c, reorder y back.
void BM_NchwViaReorder(benchmark::State& state, PoolShape s, int threads) {
  using dnnl::memory;
  const int previous_threads = omp_get_max_threads();
  omp_set_num_threads(threads);
  dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  const Pool pool(s.attrs);
  const std::vector<int64_t> y_dims = pool.OutputDims(s.x_dims);
  std::vector<float> x = Random(Count(s.x_dims));
  std::vector<float> y(Count(y_dims));
  const Layout blocked = Layout::kNChw16c;
  std::vector<float> xb(BufferElements(SplitChannelShape(s.x_dims), blocked));
  std::vector<float> yb(BufferElements(SplitChannelShape(y_dims), blocked));
  memory x_plain(Desc(s.x_dims, memory::format_tag::nchw), engine, x.data());
  memory x_blocked(Desc(s.x_dims, memory::format_tag::nChw16c), engine,
                   xb.data());
  memory y_plain(Desc(y_dims, memory::format_tag::nchw), engine, y.data());
  memory y_blocked(Desc(y_dims, memory::format_tag::nChw16c), engine,
                   yb.data());
  dnnl::reorder to_blocked(x_plain, x_blocked);
  dnnl::reorder to_plain(y_blocked, y_plain);
  auto run = [&] {
    dnnl::stream stream(engine);
    to_blocked.execute(stream, x_plain, x_blocked);
    stream.wait();
    pool.Run(xb.data(), s.x_dims, blocked, yb.data(), threads);
    to_plain.execute(stream, y_blocked, y_plain);
    stream.wait();
  };
  run();
  for (auto _ : state) {
    run();
    benchmark::ClobberMemory();
  }
  omp_set_num_threads(previous_threads);
  SetBytes(state, s.x_dims, y_dims);
}

void RegisterAll() {
  for (const PoolShape& s : Shapes()) {
    for (int threads : {1, 2}) {
      const std::string suffix = s.name + "/threads:" + std::to_string(threads);
      bench::RegisterWallTime("onednn_nchw_old/" + suffix, BM_OneDnnNchwOld, s,
                              threads)
          ->Unit(benchmark::kMicrosecond);
      bench::RegisterWallTime("nchw_via_reorder/" + suffix, BM_NchwViaReorder,
                              s, threads)
          ->Unit(benchmark::kMicrosecond);
      for (Layout layout : {Layout::kNchw, Layout::kNChw8c, Layout::kNChw16c}) {
        bench::RegisterWallTime(
            "pool_" + std::string(LayoutName(layout)) + "/" + suffix, BM_Pool,
            s, layout, threads)
            ->Unit(benchmark::kMicrosecond);
      }
    }
  }
}

}  // namespace
}  // namespace foldrt::ops

int main(int argc, char** argv) {
  return foldrt::ops::bench::RunBenchmarks(argc, argv,
                                           foldrt::ops::RegisterAll);
}
