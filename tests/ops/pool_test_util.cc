#include "tests/ops/pool_test_util.h"

#include <cfloat>
#include <cmath>
#include <utility>

namespace foldrt::ops::test {

PoolAttributes Attrs(PoolKind kind, std::vector<int64_t> kernel,
                     std::vector<int64_t> strides,
                     std::vector<int64_t> pads_begin,
                     std::vector<int64_t> pads_end,
                     std::vector<int64_t> dilations, bool ceil_mode,
                     bool count_include_pad) {
  PoolAttributes a;
  a.kind = kind;
  a.kernel = std::move(kernel);
  a.strides = std::move(strides);
  a.pads_begin = std::move(pads_begin);
  a.pads_end = std::move(pads_end);
  a.dilations = std::move(dilations);
  a.ceil_mode = ceil_mode;
  a.count_include_pad = count_include_pad;
  return a;
}

ref::PoolParams ToParams(const PoolAttributes& a) {
  ref::PoolParams p = ref::DefaultPoolParams(a.kernel);
  if (!a.strides.empty()) p.strides = a.strides;
  if (!a.dilations.empty()) p.dilations = a.dilations;
  if (!a.pads_begin.empty()) p.pads_begin = a.pads_begin;
  if (!a.pads_end.empty()) p.pads_end = a.pads_end;
  p.ceil_mode = a.ceil_mode;
  p.count_include_pad = a.count_include_pad;
  return p;
}

Expected Reference(const PoolAttributes& attrs, const std::vector<float>& x,
                   const std::vector<int64_t>& x_dims) {
  Expected e;
  int64_t window = 1;
  switch (attrs.kind) {
    case PoolKind::kMax:
      e.ref.resize(Count(ref::PoolOutputShape(x_dims, ToParams(attrs))));
      ref::MaxPoolRef(x.data(), x_dims, ToParams(attrs), e.ref.data());
      e.atol.assign(e.ref.size(), 0.0f);
      return e;
    case PoolKind::kGlobalMax: {
      // A 1-D max window over the flattened (N, C, S) input: the reference
      // takes 1 to 3 spatial axes, global pooling any number.
      const int64_t spatial =
          static_cast<int64_t>(Count(x_dims) / x_dims[0] / x_dims[1]);
      e.ref.resize(Count(ref::GlobalPoolOutputShape(x_dims)));
      ref::MaxPoolRef(x.data(), {x_dims[0], x_dims[1], spatial},
                      ref::DefaultPoolParams({spatial}), e.ref.data());
      e.atol.assign(e.ref.size(), 0.0f);
      return e;
    }
    case PoolKind::kAverage:
      e.ref.resize(Count(ref::PoolOutputShape(x_dims, ToParams(attrs))));
      ref::AveragePoolRef(x.data(), x_dims, ToParams(attrs), e.ref.data());
      e.atol.resize(e.ref.size());
      ref::AveragePoolRef(Abs(x).data(), x_dims, ToParams(attrs),
                          e.atol.data());
      for (int64_t k : attrs.kernel) window *= k;
      break;
    case PoolKind::kGlobalAverage:
      e.ref.resize(Count(ref::GlobalPoolOutputShape(x_dims)));
      ref::GlobalAveragePoolRef(x.data(), x_dims, e.ref.data());
      e.atol.resize(e.ref.size());
      ref::GlobalAveragePoolRef(Abs(x).data(), x_dims, e.atol.data());
      window = static_cast<int64_t>(Count(x_dims) / x_dims[0] / x_dims[1]);
      break;
  }
  for (float& m : e.atol) m *= (window + 3) * FLT_EPSILON;
  return e;
}

std::vector<float> ToLayout(const std::vector<float>& plain,
                            const std::vector<int64_t>& dims, Layout layout,
                            float pad) {
  const ChannelShape shape = SplitChannelShape(dims);
  std::vector<float> out(BufferElements(shape, layout), pad);
  for (size_t n = 0; n < shape.batch; ++n) {
    for (size_t c = 0; c < shape.channels; ++c) {
      for (size_t i = 0; i < shape.spatial; ++i) {
        out[ElementOffset(shape, layout, n, c, i)] =
            plain[(n * shape.channels + c) * shape.spatial + i];
      }
    }
  }
  return out;
}

std::vector<float> FromLayout(const std::vector<float>& buffer,
                              const std::vector<int64_t>& dims, Layout layout,
                              std::vector<float>* padding) {
  const ChannelShape shape = SplitChannelShape(dims);
  const size_t block = ChannelBlock(layout);
  const size_t padded = (shape.channels + block - 1) / block * block;
  std::vector<float> plain(shape.batch * shape.channels * shape.spatial);
  padding->clear();
  for (size_t n = 0; n < shape.batch; ++n) {
    for (size_t c = 0; c < padded; ++c) {
      for (size_t i = 0; i < shape.spatial; ++i) {
        const float v = buffer[ElementOffset(shape, layout, n, c, i)];
        if (c < shape.channels) {
          plain[(n * shape.channels + c) * shape.spatial + i] = v;
        } else {
          padding->push_back(v);
        }
      }
    }
  }
  return plain;
}

void ExpectRunInLayoutMatches(const Pool& pool, const std::vector<float>& x,
                              const std::vector<int64_t>& x_dims, Layout layout,
                              int threads, const Expected& e,
                              const std::string& what) {
  const std::vector<int64_t> y_dims = pool.OutputDims(x_dims);
  const std::vector<float> xb = ToLayout(x, x_dims, layout, 0.0f);
  std::vector<float> yb(BufferElements(SplitChannelShape(y_dims), layout), NAN);
  pool.Run(xb.data(), x_dims, layout, yb.data(), threads);
  std::vector<float> padding;
  const std::vector<float> y = FromLayout(yb, y_dims, layout, &padding);
  EXPECT_EQ(CountMismatches(y, e, what), 0) << what;
  int bad_padding = 0;
  for (float v : padding) bad_padding += v != 0.0f;
  EXPECT_EQ(bad_padding, 0) << what << ": padding channels not zero";
}

void PrintTo(const PoolCase& c, std::ostream* os) { *os << c.name; }

std::vector<PoolCase> WindowCases(const std::vector<Window>& windows) {
  std::vector<PoolCase> cases;
  for (const Window& w : windows) {
    cases.push_back({"max_" + w.name, w.x_dims,
                     Attrs(PoolKind::kMax, w.kernel, w.strides, w.pads_begin,
                           w.pads_end, {}, w.ceil_mode)});
    for (bool include_pad : {false, true}) {
      cases.push_back(
          {(include_pad ? "avg_incl_" : "avg_excl_") + w.name, w.x_dims,
           Attrs(PoolKind::kAverage, w.kernel, w.strides, w.pads_begin,
                 w.pads_end, {}, w.ceil_mode, include_pad)});
    }
  }
  return cases;
}

}  // namespace foldrt::ops::test
