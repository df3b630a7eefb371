// The weight math every BN fold shares: where each target op keeps the
// channels in its weight W (WeightLayout), scaling W's output channels by
// the BN's a with the bias folded alongside (a fold into the op before the
// BN), scaling its input channels with the shift pushed into the bias (a
// fold into the op after it), and the bias shapes Gemm and MatMul's bias Add
// broadcast. Internal to the passes; batch_norm_fold.h is the API.
#ifndef FOLDRT_GRAPH_PASSES_FOLD_WEIGHTS_H_
#define FOLDRT_GRAPH_PASSES_FOLD_WEIGHTS_H_

#include <cstdint>
#include <optional>
#include <vector>

#include "core/batch_norm_affine.h"
#include "graph/graph.h"
#include "graph/passes/fold_util.h"
#include "graph/tensor.h"

namespace foldrt::graph {

enum class ChannelSide { kOutput, kInput };

// W seen as (rows, columns, kernel...), kernel being the product of the axes
// after the first two (1 for a 2-D weight). One of the two leading axes
// holds output channels, the other input channels; the columns are those of
// one group, and row r belongs to group r / (rows / group):
//   output_axis 0: Conv W (Cout, Cin/group, k...), Gemm transB=1 B (N, K)
//   output_axis 1: ConvTranspose W (Cin, Cout/group, k...), Gemm transB=0
//                  B (K, N), MatMul W (K, N)
// So element (r, c, k) belongs to channel r on the rows' side and to
// channel (r / (rows / group)) * columns + c on the columns' side.
struct WeightLayout {
  std::vector<int64_t> dims;
  int output_axis = 0;
  int64_t group = 1;
  // Conv and ConvTranspose: the group attribute applies, so a columns' side
  // needs the rows to split into `group` equal parts.
  bool grouped = false;
  size_t min_rank = 2;
  size_t max_rank = 2;

  // Whether W has its rank and `channels` channels on `side` (and, where
  // that side is the columns' one of a grouped op, group >= 1 dividing a
  // positive row count). The folds turn false into their own refusal.
  bool Fits(ChannelSide side, int64_t channels) const;
  // The channel count on `side`; only for a layout that Fits.
  int64_t Channels(ChannelSide side) const;
  // The channel of element (row, column, any k) on `side`.
  int64_t ChannelOf(ChannelSide side, int64_t row, int64_t column) const;
  int64_t rows() const { return dims[0]; }
  int64_t columns() const { return dims[1]; }
  int64_t kernel() const;
};

WeightLayout ConvWeightLayout(const std::vector<int64_t>& dims, int64_t group);
WeightLayout ConvTransposeWeightLayout(const std::vector<int64_t>& dims,
                                       int64_t group);
WeightLayout GemmWeightLayout(const std::vector<int64_t>& dims, bool trans_b);
WeightLayout MatMulWeightLayout(const std::vector<int64_t>& dims);

// Folds a bias (C of Gemm, the constant of a bias Add) with shape `dims`
// into a per-column affine over the last axis of length `columns`:
//   result[..., n] = scale[n] * bias[..., n or 0] + shift[n]
// The result has shape (columns) for a scalar or 1-D bias and
// (dims[0], columns) for a 2-D one. `scale` empty means 1. nullopt when
// `dims` does not broadcast to (M, columns) that way.
std::optional<std::vector<int64_t>> FoldedBiasShape(
    const std::vector<int64_t>& dims, int64_t columns);
std::vector<double> FoldBiasColumns(const std::vector<float>& bias,
                                    const std::vector<int64_t>& bias_dims,
                                    const std::vector<int64_t>& folded_dims,
                                    const std::vector<double>& scale,
                                    const std::vector<double>& shift);

// New values for a weight and its bias, each rounded to float once.
struct FoldedWeights {
  std::vector<float> weight;  // W's dims
  std::vector<int64_t> bias_dims;
  std::vector<float> bias;
};

// Folding into the op before the BN: for output channel o,
//   W'[.., o, ..] = a[o] * W[.., o, ..]
//   bias'[.., o] = a[o] * bias_scale * bias[.., o] + b[o]
// with `bias` null for none (0) and broadcast as FoldedBiasShape says (a
// 1-D bias of Channels(kOutput) stays so). `layout` must Fit the BN's
// channels on the output side and `bias` broadcast to them.
FoldedWeights FoldIntoOutputChannels(const Tensor& weight,
                                     const WeightLayout& layout,
                                     const Tensor* bias, double bias_scale,
                                     const BatchNormAffineF64& affine);

// The whole fold of `bn` into the op before it, `node`, whose weight is
// input 1 and whose optional bias is input 2 (Conv, ConvTranspose, Gemm):
// FoldIntoOutputChannels, the weight and bias replaced (ReplaceConstantInput,
// SetBiasInput) and the BN removed. Returns `node`.
Node* FoldIntoWeightAndBias(Graph& graph, const FoldableBatchNorm& bn,
                            Node* node, const WeightLayout& layout,
                            double bias_scale, FoldEditCounts* counts);

// Folding into the op after the BN: for input channel i,
//   W'[.., i, ..] = W[.., i, ..] * a[i]
// and returns, per output channel o, initial[o] + the sum over the
// elements of o of W * b[i], accumulated in double over the original
// weights in W's element order. `layout` must Fit the BN's channels on the
// input side; `initial` has Channels(kOutput) values.
std::vector<double> FoldIntoInputChannels(const WeightLayout& layout,
                                          const BatchNormAffineF64& affine,
                                          std::vector<double> initial,
                                          std::vector<float>* weight);

}  // namespace foldrt::graph

#endif  // FOLDRT_GRAPH_PASSES_FOLD_WEIGHTS_H_
