// BatchNorm, the prepared op: every layout, rank, size and activation, every
// implementation (Highway on each target, oneDNN, the reference), checked
// against the textbook formula in ops/ref; and the validation that runs
// before any kernel.
#include "ops/batch_norm.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <cmath>
#include <limits>
#include <string>
#include <thread>
#include <vector>

#include "core/error.h"
#include "hwy/tests/hwy_gtest.h"
#include "ops/batch_norm_onednn.h"
#include "ops/ref/batch_norm_ref.h"
#include "tests/ops/batch_norm_test_util.h"

namespace foldrt::ops {
namespace {

const Layout kLayouts[] = {Layout::kNchw, Layout::kNhwc, Layout::kNChw8c,
                           Layout::kNChw16c};
const Activation kActivations[] = {Activation::None(), Activation::Relu(),
                                   Activation::Clip(0.0f, 6.0f)};

// Logical dims of rank 2..5 whose trailing dims multiply to `spatial`.
std::vector<int64_t> DimsOfRank(size_t rank, int64_t n, int64_t c,
                                int64_t spatial) {
  std::vector<int64_t> dims = {n, c};
  if (rank == 2) return dims;  // spatial must be 1
  if (rank == 3) return {n, c, spatial};
  if (rank == 4) {
    // Split into (h, w) with h the largest divisor <= sqrt.
    int64_t h = 1;
    for (int64_t d = 1; d * d <= spatial; ++d) {
      if (spatial % d == 0) h = d;
    }
    return {n, c, h, spatial / h};
  }
  return {n, c, 1, 1, spatial};
}

// One checked run: the op against the textbook formula, output sentinels
// outside the buffer untouched, input untouched when out of place.
void CheckRun(const BatchNorm& bn, const bn_test::BnParams& p,
              const std::vector<int64_t>& dims, Layout layout, bool in_place,
              size_t misalign, int threads, uint32_t seed) {
  const ChannelShape shape = SplitChannelShape(dims);
  const size_t n = BufferElements(shape, layout);
  std::vector<float> x = bn_test::RandomTensor(n, seed);
  std::vector<float> ref(n);
  ref::BatchNormStatisticsRef(x.data(), ref.data(), shape, layout,
                              p.gamma.data(), p.beta.data(), p.mean.data(),
                              p.var.data(), p.eps, bn.activation());
  std::vector<float> storage(2 * n + 2 * misalign + 2, -7.0f);
  float* xp = storage.data() + misalign;
  float* yp = in_place ? xp : xp + n + misalign + 1;
  std::copy(x.begin(), x.end(), xp);
  bn.Run(xp, n, yp, n, dims, layout, threads);
  if (!in_place) {
    ASSERT_TRUE(std::equal(x.begin(), x.end(), xp)) << "input modified";
  }
  if (yp + n < storage.data() + storage.size()) {
    ASSERT_EQ(yp[n], -7.0f) << "wrote past the output";
  }
  // The textbook check also sees a and b rounded to float: the atol covers it.
  EXPECT_TRUE(
      bn_test::NearBn(yp, ref.data(), n,
                      bn_test::BnAbsTolerance(bn.affine().scale,
                                              bn.affine().shift, x.data(), n)));
}

// C x spatial x batch x layout in full; activation, in-place, misalignment,
// rank and thread count rotate so that each value meets every layout.
void SweepShapes(BatchNormImpl impl) {
  const size_t channel_counts[] = {1, 3, 8, 16, 17, 64};
  const int64_t spatial_sizes[] = {1, 3, 7, 8, 9, 17, 64, 65, 1000};
  size_t k = 0;
  for (size_t c : channel_counts) {
    const bn_test::BnParams p =
        bn_test::RandomBnParams(c, static_cast<uint32_t>(c));
    for (const Activation& act : kActivations) {
      const BatchNorm bn(p.gamma, p.beta, p.mean, p.var, p.eps, act, impl);
      for (int64_t spatial : spatial_sizes) {
        for (int64_t batch : {1, 3}) {
          for (Layout layout : kLayouts) {
            ++k;
            // Only one activation per shape, rotating.
            if ((k / 4) % 3 != static_cast<size_t>(&act - kActivations))
              continue;
            const size_t rank = spatial == 1 ? 2 + k % 4 : 3 + k % 3;
            const auto dims =
                DimsOfRank(rank, batch, static_cast<int64_t>(c), spatial);
            const bool in_place = k % 2 == 0;
            const size_t misalign = k % 3;
            const int threads = 1 + static_cast<int>(k % 2);
            SCOPED_TRACE(::testing::Message()
                         << "C " << c << " spatial " << spatial << " batch "
                         << batch << " rank " << rank << " layout "
                         << LayoutName(layout) << " act " << act.ToString()
                         << " in_place " << in_place << " misalign " << misalign
                         << " threads " << threads);
            CheckRun(bn, p, dims, layout, in_place, misalign, threads,
                     1000 + k);
          }
        }
      }
    }
  }
}

// Shapes big enough that two threads really split the work, cutting
// channel planes and blocks in the middle.
void SweepThreadSplits(BatchNormImpl impl) {
  const bn_test::BnParams p = bn_test::RandomBnParams(19, 77);
  const BatchNorm bn(p.gamma, p.beta, p.mean, p.var, p.eps, Activation::Relu(),
                     impl);
  for (Layout layout : kLayouts) {
    for (int threads : {1, 2, 3}) {
      SCOPED_TRACE(::testing::Message()
                   << LayoutName(layout) << " threads " << threads);
      CheckRun(bn, p, {3, 19, 37, 41}, layout, false, 1, threads, 5);
      CheckRun(bn, p, {1, 19, 1001, 3}, layout, true, 0, threads, 6);
    }
  }
}

// Zero variance (eps > 0 makes |a| large), negative gamma, variance 1e5,
// and NaN / Inf inputs.
void CheckSpecialValues(BatchNormImpl impl) {
  bn_test::BnParams p = bn_test::RandomBnParams(5, 3);
  p.var[0] = 0.0f;
  p.eps = 1e-3f;
  p.gamma[1] = -2.5f;
  p.var[2] = 1e5f;
  p.var[3] = 0.0f;
  p.gamma[3] = 0.0f;  // a = 0: Inf inputs give NaN, as in the reference
  const float inf = std::numeric_limits<float>::infinity();
  const float nan = std::numeric_limits<float>::quiet_NaN();
  for (const Activation& act : kActivations) {
    const BatchNorm bn(p.gamma, p.beta, p.mean, p.var, p.eps, act, impl);
    for (Layout layout : kLayouts) {
      SCOPED_TRACE(::testing::Message()
                   << LayoutName(layout) << " " << act.ToString());
      const std::vector<int64_t> dims = {2, 5, 3, 7};
      const ChannelShape shape = SplitChannelShape(dims);
      const size_t n = BufferElements(shape, layout);
      std::vector<float> x = bn_test::RandomTensor(n, 11);
      for (size_t c = 0; c < 5; ++c) {
        x[ElementOffset(shape, layout, 0, c, 0)] = nan;
        x[ElementOffset(shape, layout, 1, c, 4)] = inf;
        x[ElementOffset(shape, layout, 1, c, 20)] = -inf;
      }
      std::vector<float> ref(n), got(n);
      ref::BatchNormStatisticsRef(x.data(), ref.data(), shape, layout,
                                  p.gamma.data(), p.beta.data(), p.mean.data(),
                                  p.var.data(), p.eps, act);
      bn.Run(x.data(), n, got.data(), n, dims, layout, 1);
      // oneDNN's JIT ReLU maps NaN (from NaN inputs, or 0 * Inf) to +0 and its
      // Clip maps it to the lower
      // bound (ops/batch_norm_onednn.h): accept exactly those values there.
      const bool onednn_nan_quirk =
          impl == BatchNormImpl::kOneDnn && act.kind != Activation::Kind::kNone;
      if (onednn_nan_quirk) {
        const float quirk =
            act.kind == Activation::Kind::kRelu ? 0.0f : act.min;
        for (size_t i = 0; i < n; ++i) {
          if (std::isnan(ref[i]) && !std::isnan(got[i])) {
            ASSERT_EQ(got[i], quirk) << "element " << i;
            got[i] = ref[i];
          }
        }
      }
      EXPECT_TRUE(bn_test::NearBn(
          got.data(), ref.data(), n,
          bn_test::BnAbsTolerance(bn.affine().scale, bn.affine().shift,
                                  x.data(), n)));
      for (size_t c = 0; c < 5; ++c) {
        EXPECT_TRUE(std::isnan(got[ElementOffset(shape, layout, 0, c, 0)]))
            << "NaN did not propagate in channel " << c;
      }
    }
  }
}

// x as channels [0, C) of a wider buffer (x_channels > C, a Concat's output
// read in place): checked against the textbook formula on a dense copy of
// those channels; the buffer is left untouched and nothing is written past
// y.
void SweepChannelSlices(BatchNormImpl impl) {
  size_t k = 0;
  for (size_t c : {3, 16, 17, 64}) {
    const bn_test::BnParams p =
        bn_test::RandomBnParams(c, static_cast<uint32_t>(100 + c));
    for (size_t extra : {1, 16, 35}) {
      for (int64_t spatial : {1, 7, 64}) {
        for (int64_t batch : {1, 3}) {
          for (Layout layout : kLayouts) {
            ++k;
            const Activation& act = kActivations[k % 3];
            const BatchNorm bn(p.gamma, p.beta, p.mean, p.var, p.eps, act,
                               impl);
            const size_t x_channels = c + extra;
            const auto dims = DimsOfRank(spatial == 1 ? 2 : 4, batch,
                                         static_cast<int64_t>(c), spatial);
            const ChannelShape shape = SplitChannelShape(dims);
            const ChannelShape x_shape{shape.batch, x_channels, shape.spatial};
            const size_t n = BufferElements(shape, layout);
            const size_t x_n = BufferElements(x_shape, layout);
            const int threads = 1 + static_cast<int>(k % 2);
            SCOPED_TRACE(::testing::Message()
                         << "C " << c << " of " << x_channels << " dims "
                         << ::testing::PrintToString(dims) << " layout "
                         << LayoutName(layout) << " act " << act.ToString()
                         << " threads " << threads);
            const std::vector<float> x =
                bn_test::RandomTensor(x_n, static_cast<uint32_t>(k));
            std::vector<float> dense(n, 0.0f);
            for (size_t b = 0; b < shape.batch; ++b) {
              for (size_t ch = 0; ch < c; ++ch) {
                for (size_t sp = 0; sp < shape.spatial; ++sp) {
                  dense[ElementOffset(shape, layout, b, ch, sp)] =
                      x[ElementOffset(x_shape, layout, b, ch, sp)];
                }
              }
            }
            std::vector<float> ref(n);
            ref::BatchNormStatisticsRef(
                dense.data(), ref.data(), shape, layout, p.gamma.data(),
                p.beta.data(), p.mean.data(), p.var.data(), p.eps, act);
            std::vector<float> x_copy = x;
            std::vector<float> y(n + 1, -7.0f);
            bn.Run(x_copy.data(), x_n, y.data(), n, dims, layout, threads,
                   x_channels);
            ASSERT_EQ(x_copy, x) << "input modified";
            ASSERT_EQ(y[n], -7.0f) << "wrote past the output";
            EXPECT_TRUE(bn_test::NearBn(
                y.data(), ref.data(), n,
                bn_test::BnAbsTolerance(bn.affine().scale, bn.affine().shift,
                                        dense.data(), n)));
          }
        }
      }
    }
  }
}

class BatchNormHwyOpTest : public hwy::TestWithParamTarget {};
HWY_TARGET_INSTANTIATE_TEST_SUITE_P(BatchNormHwyOpTest);

TEST_P(BatchNormHwyOpTest, AllShapesLayoutsRanks) {
  SweepShapes(BatchNormImpl::kHwy);
}
TEST_P(BatchNormHwyOpTest, ThreadSplits) {
  SweepThreadSplits(BatchNormImpl::kHwy);
}
TEST_P(BatchNormHwyOpTest, SpecialValues) {
  CheckSpecialValues(BatchNormImpl::kHwy);
}
TEST_P(BatchNormHwyOpTest, ChannelSliceOfWiderBuffer) {
  SweepChannelSlices(BatchNormImpl::kHwy);
}

// The scalar reference and oneDNN run the checks the Highway kernels run per
// target above (oneDNN's op is built for dense tensors: its channel slices
// run the Highway kernel).
class BatchNormImplOpTest : public ::testing::TestWithParam<BatchNormImpl> {};
INSTANTIATE_TEST_SUITE_P(RefAndOneDnn, BatchNormImplOpTest,
                         ::testing::Values(BatchNormImpl::kRef,
                                           BatchNormImpl::kOneDnn),
                         [](const auto& info) {
                           return std::string(BatchNormImplName(info.param));
                         });

TEST_P(BatchNormImplOpTest, AllShapesLayoutsRanks) { SweepShapes(GetParam()); }
TEST_P(BatchNormImplOpTest, SpecialValues) { CheckSpecialValues(GetParam()); }
TEST_P(BatchNormImplOpTest, ChannelSliceOfWiderBuffer) {
  SweepChannelSlices(GetParam());
}

// The reference is single-threaded; oneDNN's thread splits as Highway's.
TEST(BatchNormOneDnnOpTest, ThreadSplits) {
  SweepThreadSplits(BatchNormImpl::kOneDnn);
}

// ---- Selection ----

class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    if (const char* old = getenv(name)) old_ = old, had_ = true;
    setenv(name, value, 1);
  }
  ~ScopedEnv() {
    if (had_) {
      setenv(name_, old_.c_str(), 1);
    } else {
      unsetenv(name_);
    }
  }

 private:
  const char* name_;
  std::string old_;
  bool had_ = false;
};

TEST(BatchNormSelectTest, EnvironmentOverridesChoice) {
  const BatchNorm bn({1, 2}, {0, 0}, {0, 0}, {1, 1}, 1e-5f);
  const std::vector<int64_t> dims = {1, 2, 4, 4};
  {
    ScopedEnv env("FOLDRT_KERNEL", "");
    EXPECT_EQ(bn.SelectImpl(dims, Layout::kNchw), BatchNormImpl::kHwy);
  }
  for (const char* name : {"hwy", "onednn", "ref"}) {
    ScopedEnv env("FOLDRT_KERNEL", name);
    EXPECT_EQ(bn.SelectImpl(dims, Layout::kNchw), ParseBatchNormImpl(name));
  }
  ScopedEnv env("FOLDRT_KERNEL", "cuda");
  EXPECT_THROW(bn.SelectImpl(dims, Layout::kNchw), InvalidArgumentError);
  std::vector<float> x(32, 1.0f), y(32, 9.0f);
  EXPECT_THROW(bn.Run(x.data(), 32, y.data(), 32, dims, Layout::kNchw),
               InvalidArgumentError);
  EXPECT_EQ(y, std::vector<float>(32, 9.0f));
}

TEST(BatchNormSelectTest, OneDnnWithoutFormatFallsBackToHighway) {
  const std::vector<int64_t> rank6 = {1, 2, 2, 2, 2, 2};
  ASSERT_FALSE(OneDnnBatchNorm::Supports(rank6, Layout::kNchw))
      << "pick a shape oneDNN lacks";
  const BatchNorm bn({1, 2}, {0, 0}, {0, 0}, {1, 1}, 1e-5f, {},
                     BatchNormImpl::kOneDnn);
  ScopedEnv env("FOLDRT_KERNEL", "");
  EXPECT_EQ(bn.SelectImpl(rank6, Layout::kNchw), BatchNormImpl::kHwy);
  EXPECT_EQ(bn.SelectImpl({1, 2, 3, 3}, Layout::kNchw), BatchNormImpl::kOneDnn);
}

// ---- Validation: every bad call throws before the output is touched ----

void ExpectRejected(const std::function<void(float* y)>& call,
                    const std::string& needle) {
  std::vector<float> y(4096, 42.0f);
  try {
    call(y.data());
    ADD_FAILURE() << "accepted; expected an error mentioning '" << needle
                  << "'";
  } catch (const InvalidArgumentError& e) {
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos)
        << e.what();
  }
  EXPECT_EQ(y, std::vector<float>(4096, 42.0f)) << "output written on error";
}

TEST(BatchNormValidationTest, RejectsBadInputBeforeWriting) {
  const std::vector<float> one3 = {1, 1, 1}, zero3 = {0, 0, 0};
  const BatchNorm bn(one3, zero3, zero3, one3, 1e-5f);
  const std::vector<float> x(4096, 1.0f);
  const float* xp = x.data();

  EXPECT_THROW(BatchNorm(one3, {0, 0}, zero3, one3, 1e-5f),
               InvalidArgumentError);
  EXPECT_THROW(BatchNorm(one3, zero3, zero3, {1, -1, 1}, 1e-5f),
               InvalidArgumentError);
  ExpectRejected([&](float* y) { bn.Run(xp, 3, y, 3, {3}, Layout::kNchw); },
                 "rank 1");
  ExpectRejected(
      [&](float* y) {
        bn.Run(xp, 48, y, 48, {1, 4, 12}, Layout::kNchw);
      },
      "has 4 on axis 1");
  // Layout does not match the buffers: nChw16c pads 3 channels to 16.
  ExpectRejected(
      [&](float* y) {
        bn.Run(xp, 36, y, 36, {1, 3, 12}, Layout::kNChw16c);
      },
      "needs buffers of 192 floats");
  ExpectRejected(
      [&](float* y) {
        bn.Run(xp, 36, y, 35, {1, 3, 12}, Layout::kNchw);
      },
      "output 35");
  ExpectRejected(
      [&](float* y) {
        bn.Run(nullptr, 36, y, 36, {1, 3, 12}, Layout::kNchw);
      },
      "input pointer is null");
  ExpectRejected(
      [&](float* y) {
        bn.Run(y, 36, y + 1, 36, {1, 3, 12}, Layout::kNchw);
      },
      "overlap");
  ExpectRejected(
      [&](float* y) {
        bn.Run(xp, 36, y, 36, {1, 3, -12}, Layout::kNchw);
      },
      "negative dimension");
  ExpectRejected(
      [&](float* y) {
        bn.Run(xp, 36, y, 36, {1, 3, int64_t{1} << 40, int64_t{1} << 40},
               Layout::kNchw);
      },
      "overflows");
  ExpectRejected(
      [&](float* y) {
        bn.Run(xp, 36, y, 36, {1, 3, 12}, Layout::kNchw, -1);
      },
      "thread count");
  EXPECT_THROW(bn.Run(nullptr, 36, nullptr, 36, {1, 3, 12}, Layout::kNchw),
               InvalidArgumentError);
  // An empty batch is fine, even with null pointers.
  EXPECT_NO_THROW(bn.Run(nullptr, 0, nullptr, 0, {0, 3, 12}, Layout::kNchw));
  // Channel slices: the buffer must hold at least C channels and be sized
  // for x_channels, and a slice never runs in place.
  ExpectRejected(
      [&](float* y) {
        bn.Run(xp, 24, y, 36, {1, 3, 12}, Layout::kNchw, 1, 2);
      },
      "fewer than");
  ExpectRejected(
      [&](float* y) {
        bn.Run(xp, 36, y, 36, {1, 3, 12}, Layout::kNchw, 1, 4);
      },
      "48");
  ExpectRejected(
      [&](float* y) {
        bn.Run(y, 48, y, 36, {1, 3, 12}, Layout::kNhwc, 1, 4);
      },
      "overlap");
}

TEST(BatchNormConcurrencyTest, RunFromSeveralThreadsOnOneOp) {
  const bn_test::BnParams p = bn_test::RandomBnParams(16, 9);
  for (BatchNormImpl impl : {BatchNormImpl::kHwy, BatchNormImpl::kOneDnn}) {
    const BatchNorm bn(p.gamma, p.beta, p.mean, p.var, p.eps,
                       Activation::Relu(), impl);
    std::vector<std::thread> workers;
    for (int t = 0; t < 4; ++t) {
      workers.emplace_back([&, t] {
        for (int i = 0; i < 5; ++i) {
          CheckRun(bn, p, {1 + t, 16, 9 + t, 11}, kLayouts[(t + i) % 4],
                   i % 2 == 0, 0, 1 + (t % 2),
                   static_cast<uint32_t>(t * 10 + i));
        }
      });
    }
    for (auto& w : workers) w.join();
  }
}

}  // namespace
}  // namespace foldrt::ops
