#include "ops/matmul.h"

#include <algorithm>
#include <cstring>
#include <new>
#include <string>
#include <utility>

#include "core/error.h"
#include "core/tensor.h"
#include "ops/batch_norm.h"
#include "ops/onednn_util.h"
#include "ops/ref/shape_util.h"

namespace foldrt::ops {
namespace {

// Y (M, N) = act(A * B + bias) for a prepared B (K, N) that already carries
// alpha; A is (M, K) row-major, or (K, M) when trans_a. Shared by MatMul and
// Gemm; callers validate shapes.
class MatMulCore {
 public:
  // `b_md` describes `b`, the (K, N) operand with alpha applied (dense, or
  // transposed through its strides).
  MatMulCore(const dnnl::memory::desc& b_md, std::shared_ptr<const float> b,
             int64_t k, int64_t n, std::vector<float> bias, bool trans_a,
             Activation act)
      : k_(k),
        n_(n),
        bias_(std::move(bias)),
        trans_a_(trans_a),
        act_(act),
        weights_(b_md, std::move(b)) {}

  int64_t k() const { return k_; }
  int64_t n() const { return n_; }

  void Run(const float* a, int64_t m, float* y, int threads,
           const std::string& what) const {
    if (m == 0) return;
    try {
      onednn::ScopedOmpThreads scoped_threads(threads);
      const auto prim =
          cache_.GetOrBuild(Key(m, threads), [&] { return Build(m); });
      if (a != nullptr) prim->Execute(a, y);  // null: Prepare
    } catch (const dnnl::error& e) {
      onednn::ThrowOneDnnError(
          "oneDNN " + what + " with M = " + std::to_string(m), e);
    }
  }

 private:
  using Key = std::pair<int64_t, int>;

  std::shared_ptr<const onednn::PlainIoPrimitive> Build(int64_t m) const {
    using dnnl::memory;
    auto& engine = onednn::CpuEngine();
    // A transposed A is read in place through its strides: element (i, p)
    // of the (M, K) view sits at p * M + i.
    const memory::desc src_md =
        trans_a_
            ? memory::desc({m, k_}, memory::data_type::f32, memory::dims{1, m})
            : onednn::PlainDesc({m, k_});
    const memory::desc weights_any({k_, n_}, memory::data_type::f32,
                                   memory::format_tag::any);
    const memory::desc bias_md =
        bias_.empty() ? memory::desc() : onednn::PlainDesc({1, n_});
    const memory::desc dst_md = onednn::PlainDesc({m, n_});
    const dnnl::matmul::desc desc =
        bias_.empty()
            ? dnnl::matmul::desc(src_md, weights_any, dst_md)
            : dnnl::matmul::desc(src_md, weights_any, bias_md, dst_md);
    dnnl::matmul::primitive_desc pd(desc, onednn::MakeAttr(act_), engine);

    auto prim = std::make_shared<onednn::PlainIoPrimitive>();
    prim->primitive = dnnl::matmul(pd);
    prim->SetIo(src_md, dst_md, pd.src_desc(), pd.dst_desc(),
                pd.scratchpad_desc());
    prim->AddWeightsAndBias(&weights_, pd.weights_desc(), bias_,
                            pd.bias_desc());
    return prim;
  }

  const int64_t k_, n_;
  const std::vector<float> bias_;  // N floats, or empty
  const bool trans_a_;
  const Activation act_;
  mutable onednn::PackedConstant weights_;
  mutable onednn::SharedCache<Key, onednn::PlainIoPrimitive> cache_;
};

void CheckDims(const std::string& what, const std::vector<int64_t>& dims) {
  for (int64_t d : dims) {
    if (d < 1) throw InvalidArgumentError(what + ": B has an empty axis");
  }
  ShapeNumElements(dims);
}

// B's `count` floats as the op keeps them: `shared` itself when there is
// one and alpha is 1, else a 64-byte aligned copy of `b` scaled by alpha
// (alpha rides on B: one rounding per weight, done once, instead of a
// scale on every output).
std::shared_ptr<const float> PrepareB(const float* b,
                                      std::shared_ptr<const float> shared,
                                      int64_t count, float alpha) {
  if (shared != nullptr && alpha == 1.0f) return shared;
  constexpr std::align_val_t kAlignment{64};
  const size_t size = static_cast<size_t>(count);
  float* copy = static_cast<float*>(
      ::operator new(std::max<size_t>(size, 1) * sizeof(float), kAlignment));
  std::shared_ptr<const float> owned(copy, [](const float* p) {
    ::operator delete(const_cast<float*>(p), kAlignment);
  });
  if (alpha == 1.0f) {
    std::memcpy(copy, b, size * sizeof(float));
  } else {
    for (size_t i = 0; i < size; ++i) copy[i] = alpha * b[i];
  }
  return owned;
}

}  // namespace

struct MatMul::Impl {
  bool b_is_vector = false;  // B given as (K): Y drops the N axis
  std::unique_ptr<MatMulCore> core;

  // Both constructors: B is `b`, shared through `shared` when not null.
  static std::unique_ptr<Impl> Create(const float* b,
                                      std::shared_ptr<const float> shared,
                                      std::vector<int64_t> b_dims,
                                      const float* bias, float alpha,
                                      Activation act) {
    const std::string what = "MatMul with B " + ShapeToString(b_dims);
    if (b == nullptr) throw InvalidArgumentError(what + ": no B");
    if (b_dims.empty()) {
      throw InvalidArgumentError(what + ": B must be (K, N) or (K)");
    }
    if (b_dims.size() > 2) {
      throw UnsupportedError(what + ": a constant B with batch axes is not " +
                             "supported (B must be (K, N) or (K))");
    }
    CheckDims(what, b_dims);
    const int64_t k = b_dims[0];
    const int64_t n = b_dims.size() == 2 ? b_dims[1] : 1;
    std::vector<float> bias_copy;
    if (bias != nullptr) bias_copy.assign(bias, bias + n);
    auto impl = std::make_unique<Impl>();
    impl->b_is_vector = b_dims.size() == 1;
    impl->core = std::make_unique<MatMulCore>(
        onednn::PlainDesc({k, n}), PrepareB(b, std::move(shared), k * n, alpha),
        k, n, std::move(bias_copy), /*trans_a=*/false, act);
    return impl;
  }
};

MatMul::MatMul(const float* b, std::vector<int64_t> b_dims, const float* bias,
               float alpha, Activation act)
    : impl_(Impl::Create(b, nullptr, std::move(b_dims), bias, alpha, act)) {}

MatMul::MatMul(SharedFloats b, std::vector<int64_t> b_dims, const float* bias,
               float alpha, Activation act)
    : impl_(Impl::Create(b.data.get(), b.data, std::move(b_dims), bias, alpha,
                         act)) {}

MatMul::~MatMul() = default;
MatMul::MatMul(MatMul&&) noexcept = default;
MatMul& MatMul::operator=(MatMul&&) noexcept = default;

int64_t MatMul::k() const { return impl_->core->k(); }
int64_t MatMul::n() const { return impl_->core->n(); }

namespace {

// M of A (..., M, K) for a MatMul with inner dim k; throws for bad shapes.
// Allocates nothing unless it throws.
int64_t MatMulRows(const std::vector<int64_t>& a_dims, int64_t k) {
  if (a_dims.empty() || a_dims.back() != k) {
    throw InvalidArgumentError("MatMul of A " + ShapeToString(a_dims) +
                               ": A must be (..., M, " + std::to_string(k) +
                               ") to match B");
  }
  return ShapeNumElements(a_dims) / k;
}

}  // namespace

std::vector<int64_t> MatMul::OutputDims(
    const std::vector<int64_t>& a_dims) const {
  MatMulRows(a_dims, k());
  std::vector<int64_t> y_dims(a_dims.begin(), a_dims.end() - 1);
  if (!impl_->b_is_vector) y_dims.push_back(n());
  return y_dims;
}

void MatMul::Run(const float* a, const std::vector<int64_t>& a_dims, float* y,
                 int threads) const {
  const int64_t m = MatMulRows(a_dims, k());
  impl_->core->Run(a, m, y, ResolveThreadCount(threads), "MatMul");
}

void MatMul::Prepare(const std::vector<int64_t>& a_dims, int threads) const {
  const int64_t m = MatMulRows(a_dims, k());
  impl_->core->Run(nullptr, m, nullptr, ResolveThreadCount(threads), "MatMul");
}

struct Gemm::Impl {
  bool trans_a = false;
  std::unique_ptr<MatMulCore> core;

  // Both constructors: B is `b`, shared through `shared` when not null.
  static std::unique_ptr<Impl> Create(const float* b,
                                      std::shared_ptr<const float> shared,
                                      std::vector<int64_t> b_dims,
                                      const float* c,
                                      std::vector<int64_t> c_dims,
                                      GemmAttributes attrs, Activation act) {
    const std::string what =
        "Gemm with B " + ShapeToString(b_dims) + (attrs.trans_b ? "^T" : "");
    if (b == nullptr) throw InvalidArgumentError(what + ": no B");
    if (b_dims.size() != 2) {
      throw InvalidArgumentError(what + ": B must be a matrix");
    }
    CheckDims(what, b_dims);
    const int64_t k = attrs.trans_b ? b_dims[1] : b_dims[0];
    const int64_t n = attrs.trans_b ? b_dims[0] : b_dims[1];
    // beta * C as a bias row of N values.
    std::vector<float> bias;
    if (c != nullptr) {
      const std::string c_what = what + ": C " + ShapeToString(c_dims);
      ShapeNumElements(c_dims);
      if (c_dims.size() > 2 ||
          (!c_dims.empty() && c_dims.back() != 1 && c_dims.back() != n)) {
        throw InvalidArgumentError(c_what + " does not broadcast to (M, " +
                                   std::to_string(n) + ")");
      }
      if (c_dims.size() == 2 && c_dims[0] != 1) {
        throw UnsupportedError(
            c_what + " has one row per M; only C shapes that do not depend " +
            "on M are supported ((), (1), (N), (1, 1), (1, N))");
      }
      const bool per_column = !c_dims.empty() && c_dims.back() == n;
      bias.resize(n);
      for (int64_t j = 0; j < n; ++j) {
        bias[j] = attrs.beta * c[per_column ? j : 0];
      }
    }
    // op(B) as (K, N): a transposed B (N, K) is read through the strides,
    // and the reorder into oneDNN's packed layout transposes it once.
    const dnnl::memory::desc b_md =
        attrs.trans_b ? dnnl::memory::desc({k, n}, dnnl::memory::data_type::f32,
                                           dnnl::memory::dims{1, k})
                      : onednn::PlainDesc({k, n});
    auto impl = std::make_unique<Impl>();
    impl->trans_a = attrs.trans_a;
    impl->core = std::make_unique<MatMulCore>(
        b_md, PrepareB(b, std::move(shared), k * n, attrs.alpha), k, n,
        std::move(bias), attrs.trans_a, act);
    return impl;
  }
};

Gemm::Gemm(const float* b, std::vector<int64_t> b_dims, const float* c,
           std::vector<int64_t> c_dims, GemmAttributes attrs, Activation act)
    : impl_(Impl::Create(b, nullptr, std::move(b_dims), c, std::move(c_dims),
                         attrs, act)) {}

Gemm::Gemm(SharedFloats b, std::vector<int64_t> b_dims, const float* c,
           std::vector<int64_t> c_dims, GemmAttributes attrs, Activation act)
    : impl_(Impl::Create(b.data.get(), b.data, std::move(b_dims), c,
                         std::move(c_dims), attrs, act)) {}

Gemm::~Gemm() = default;
Gemm::Gemm(Gemm&&) noexcept = default;
Gemm& Gemm::operator=(Gemm&&) noexcept = default;

namespace {

int64_t GemmRows(const std::vector<int64_t>& a_dims, int64_t k, bool trans_a) {
  const bool ok = a_dims.size() == 2 && a_dims[0] >= 0 && a_dims[1] >= 0 &&
                  a_dims[trans_a ? 0 : 1] == k;
  if (!ok) {
    throw InvalidArgumentError(
        "Gemm of A " + ShapeToString(a_dims) + ": A must be " +
        (trans_a ? "(" + std::to_string(k) + ", M) (transA)"
                 : "(M, " + std::to_string(k) + ")") +
        " to match B");
  }
  ShapeNumElements(a_dims);
  return a_dims[trans_a ? 1 : 0];
}

}  // namespace

std::vector<int64_t> Gemm::OutputDims(
    const std::vector<int64_t>& a_dims) const {
  return {GemmRows(a_dims, impl_->core->k(), impl_->trans_a), impl_->core->n()};
}

void Gemm::Run(const float* a, const std::vector<int64_t>& a_dims, float* y,
               int threads) const {
  const int64_t m = GemmRows(a_dims, impl_->core->k(), impl_->trans_a);
  impl_->core->Run(a, m, y, ResolveThreadCount(threads), "Gemm");
}

void Gemm::Prepare(const std::vector<int64_t>& a_dims, int threads) const {
  const int64_t m = GemmRows(a_dims, impl_->core->k(), impl_->trans_a);
  impl_->core->Run(nullptr, m, nullptr, ResolveThreadCount(threads), "Gemm");
}

}  // namespace foldrt::ops
