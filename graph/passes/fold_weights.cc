#include "graph/passes/fold_weights.h"

#include <cstdint>
#include <utility>

#include "graph/passes/fold_util.h"

namespace foldrt::graph {
namespace {

// The leading axis of W that holds `side`'s channels.
int AxisOf(const WeightLayout& layout, ChannelSide side) {
  return side == ChannelSide::kOutput ? layout.output_axis
                                      : 1 - layout.output_axis;
}

WeightLayout MakeLayout(const std::vector<int64_t>& dims, int output_axis,
                        int64_t group, bool grouped, size_t min_rank,
                        size_t max_rank) {
  WeightLayout layout;
  layout.dims = dims;
  layout.output_axis = output_axis;
  layout.group = group;
  layout.grouped = grouped;
  layout.min_rank = min_rank;
  layout.max_rank = max_rank;
  return layout;
}

// Calls visit(row, column, first element) for each (row, column) block of
// `kernel` contiguous elements, in W's element order.
template <typename Visit>
void ForEachBlock(const WeightLayout& layout, Visit visit) {
  const int64_t kernel = layout.kernel();
  for (int64_t r = 0; r < layout.rows(); ++r) {
    for (int64_t c = 0; c < layout.columns(); ++c) {
      visit(r, c, static_cast<size_t>((r * layout.columns() + c) * kernel));
    }
  }
}

}  // namespace

bool WeightLayout::Fits(ChannelSide side, int64_t channels) const {
  if (dims.size() < min_rank || dims.size() > max_rank) return false;
  if (grouped && AxisOf(*this, side) == 1 &&
      (group < 1 || rows() <= 0 || rows() % group != 0)) {
    return false;
  }
  return Channels(side) == channels;
}

int64_t WeightLayout::Channels(ChannelSide side) const {
  return AxisOf(*this, side) == 0 ? rows() : columns() * group;
}

int64_t WeightLayout::ChannelOf(ChannelSide side, int64_t row,
                                int64_t column) const {
  if (AxisOf(*this, side) == 0) return row;
  return (row / (rows() / group)) * columns() + column;
}

int64_t WeightLayout::kernel() const {
  int64_t kernel = 1;
  for (size_t d = 2; d < dims.size(); ++d) kernel *= dims[d];
  return kernel;
}

WeightLayout ConvWeightLayout(const std::vector<int64_t>& dims, int64_t group) {
  return MakeLayout(dims, 0, group, /*grouped=*/true, 3, SIZE_MAX);
}

WeightLayout ConvTransposeWeightLayout(const std::vector<int64_t>& dims,
                                       int64_t group) {
  return MakeLayout(dims, 1, group, /*grouped=*/true, 3, SIZE_MAX);
}

WeightLayout GemmWeightLayout(const std::vector<int64_t>& dims, bool trans_b) {
  return MakeLayout(dims, trans_b ? 0 : 1, 1, /*grouped=*/false, 2, 2);
}

WeightLayout MatMulWeightLayout(const std::vector<int64_t>& dims) {
  return MakeLayout(dims, 1, 1, /*grouped=*/false, 2, 2);
}

std::optional<std::vector<int64_t>> FoldedBiasShape(
    const std::vector<int64_t>& dims, int64_t columns) {
  if (dims.empty()) return std::vector<int64_t>{columns};
  const int64_t last = dims.back();
  if (last != 1 && last != columns) return std::nullopt;
  if (dims.size() == 1) return std::vector<int64_t>{columns};
  if (dims.size() == 2) return std::vector<int64_t>{dims[0], columns};
  return std::nullopt;
}

std::vector<double> FoldBiasColumns(const std::vector<float>& bias,
                                    const std::vector<int64_t>& bias_dims,
                                    const std::vector<int64_t>& folded_dims,
                                    const std::vector<double>& scale,
                                    const std::vector<double>& shift) {
  const int64_t columns = folded_dims.back();
  const int64_t rows = folded_dims.size() == 2 ? folded_dims[0] : 1;
  const bool column_broadcast = bias_dims.empty() || bias_dims.back() == 1;
  std::vector<double> folded(static_cast<size_t>(rows * columns));
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t n = 0; n < columns; ++n) {
      double value = 0.0;
      if (!bias.empty()) {
        const int64_t width = bias_dims.empty() ? 1 : bias_dims.back();
        value =
            bias[static_cast<size_t>((bias_dims.size() == 2 ? r * width : 0) +
                                     (column_broadcast ? 0 : n))];
      }
      const double s = scale.empty() ? 1.0 : scale[n];
      folded[static_cast<size_t>(r * columns + n)] = s * value + shift[n];
    }
  }
  return folded;
}

FoldedWeights FoldIntoOutputChannels(const Tensor& weight,
                                     const WeightLayout& layout,
                                     const Tensor* bias, double bias_scale,
                                     const BatchNormAffineF64& affine) {
  const std::vector<double>& a = affine.scale;
  FoldedWeights folded;
  folded.weight = weight.ToFloats();
  const size_t kernel = static_cast<size_t>(layout.kernel());
  ForEachBlock(layout, [&](int64_t r, int64_t c, size_t first) {
    const double scale =
        a[static_cast<size_t>(layout.ChannelOf(ChannelSide::kOutput, r, c))];
    float* block = folded.weight.data() + first;
    for (size_t k = 0; k < kernel; ++k) {
      block[k] = static_cast<float>(scale * static_cast<double>(block[k]));
    }
  });

  const int64_t channels = layout.Channels(ChannelSide::kOutput);
  std::vector<float> values;
  std::vector<int64_t> dims;
  folded.bias_dims = {channels};
  if (bias != nullptr) {
    values = bias->ToFloats();
    dims = bias->dims();
    folded.bias_dims = *FoldedBiasShape(dims, channels);
  }
  std::vector<double> bias_scales(a.size());
  for (size_t o = 0; o < a.size(); ++o) bias_scales[o] = a[o] * bias_scale;
  folded.bias = RoundToFloat(FoldBiasColumns(values, dims, folded.bias_dims,
                                             bias_scales, affine.shift));
  return folded;
}

Node* FoldIntoWeightAndBias(Graph& graph, const FoldableBatchNorm& bn,
                            Node* node, const WeightLayout& layout,
                            double bias_scale, FoldEditCounts* counts) {
  const Tensor& weight = *graph.GetConstant(node->input(1));
  const Tensor* bias =
      node->has_input(2) ? graph.GetConstant(node->input(2)) : nullptr;
  FoldedWeights folded =
      FoldIntoOutputChannels(weight, layout, bias, bias_scale, bn.affine);
  ReplaceConstantInput(graph, node, 1, weight.dims(), folded.weight, counts);
  SetBiasInput(graph, node, std::move(folded.bias_dims), folded.bias, counts);
  RemoveBatchNormAfter(graph, bn, node, 0);
  return node;
}

std::vector<double> FoldIntoInputChannels(const WeightLayout& layout,
                                          const BatchNormAffineF64& affine,
                                          std::vector<double> initial,
                                          std::vector<float>* weight) {
  const std::vector<double>& a = affine.scale;
  const std::vector<double>& b = affine.shift;
  const size_t kernel = static_cast<size_t>(layout.kernel());
  ForEachBlock(layout, [&](int64_t r, int64_t c, size_t first) {
    const size_t in =
        static_cast<size_t>(layout.ChannelOf(ChannelSide::kInput, r, c));
    double& sum = initial[static_cast<size_t>(
        layout.ChannelOf(ChannelSide::kOutput, r, c))];
    float* block = weight->data() + first;
    for (size_t k = 0; k < kernel; ++k) {
      const double original = block[k];
      sum += original * b[in];
      block[k] = static_cast<float>(original * a[in]);
    }
  });
  return initial;
}

}  // namespace foldrt::graph
