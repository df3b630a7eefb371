// Pattern (constant folding ahead of the MatMul folds):
//   W (constant) -> Transpose(perm) -> t -> MatMul(X, t)
// becomes
//   t (initializer holding W transposed) -> MatMul(X, t)
// torch exports Linear(bias=False) this way at some opsets; the MatMul
// folds need the weight as a constant.
//
// Preconditions: the Transpose is default-domain with one output, read only
// as input 1 of default-domain MatMul nodes that sit next to a
// BatchNormalization (the BN reads the MatMul's output, directly or through
// a bias Add, or writes its data input), and not a graph output; its
// input is a constant (seen through Identity/Constant) whose element type
// has a whole number of bytes; perm (default: reversed axes) is a
// permutation of the input's axes. The input constant itself is left for
// RemoveOrphanedConstants, as other nodes may read it.
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "graph/passes/graph_pass.h"

namespace foldrt::graph {
namespace {

bool IsBatchNorm(const Node* node) {
  return node != nullptr && IsDefaultDomain(node->domain()) &&
         node->op_type() == "BatchNormalization";
}

bool ReadByBatchNorm(const Graph& graph, const std::string& value) {
  for (const Node* reader : graph.Consumers(value)) {
    if (IsBatchNorm(reader)) return true;
  }
  return false;
}

// A MatMul a BN fold may want to change. Other MatMuls keep their
// Transpose: foldrt does not rewrite what folding does not need.
bool NextToBatchNorm(const Graph& graph, const Node& matmul) {
  if (matmul.has_input(0) && IsBatchNorm(graph.Producer(matmul.input(0)))) {
    return true;
  }
  const std::string& product = matmul.output(0);
  if (ReadByBatchNorm(graph, product)) return true;
  for (const Node* reader : graph.Consumers(product)) {
    if (IsDefaultDomain(reader->domain()) && reader->op_type() == "Add" &&
        ReadByBatchNorm(graph, reader->output(0))) {
      return true;
    }
  }
  return false;
}

bool OnlyFoldableMatMulWeights(const Graph& graph, const std::string& value) {
  const std::vector<Use>& uses = graph.Uses(value);
  if (uses.empty() || graph.IsGraphOutput(value)) return false;
  for (const Use& use : uses) {
    if (use.input_index != 1 || !IsDefaultDomain(use.node->domain()) ||
        use.node->op_type() != "MatMul" || !NextToBatchNorm(graph, *use.node)) {
      return false;
    }
  }
  return true;
}

// Permutes the axes of a packed row-major tensor of `element_size`-byte
// elements: output axis d is input axis perm[d].
std::string TransposeBytes(const std::string& bytes,
                           const std::vector<int64_t>& dims,
                           const std::vector<int64_t>& perm,
                           size_t element_size) {
  const size_t rank = dims.size();
  std::vector<int64_t> in_strides(rank, 1);
  for (size_t d = rank; d-- > 1;) in_strides[d - 1] = in_strides[d] * dims[d];
  std::vector<int64_t> out_dims(rank);
  std::vector<int64_t> stride_of_out_axis(rank);
  for (size_t d = 0; d < rank; ++d) {
    out_dims[d] = dims[static_cast<size_t>(perm[d])];
    stride_of_out_axis[d] = in_strides[static_cast<size_t>(perm[d])];
  }
  std::string out(bytes.size(), '\0');
  const size_t count = bytes.size() / element_size;
  std::vector<int64_t> index(rank, 0);
  int64_t source = 0;
  for (size_t i = 0; i < count; ++i) {
    std::memcpy(out.data() + i * element_size,
                bytes.data() + static_cast<size_t>(source) * element_size,
                element_size);
    // Odometer step over the output index, keeping `source` in sync.
    for (size_t d = rank; d-- > 0;) {
      if (++index[d] < out_dims[d]) {
        source += stride_of_out_axis[d];
        break;
      }
      source -= stride_of_out_axis[d] * (out_dims[d] - 1);
      index[d] = 0;
    }
  }
  return out;
}

// Turns each Transpose of a constant whose output only weights of MatMuls
// next to a BN read into an initializer of that output's name. Returns how
// many.
size_t FoldConstantTransposesIntoMatMulWeights(Graph& graph) {
  size_t folded = 0;
  for (Node* node : graph.mutable_nodes()) {
    if (!IsDefaultDomain(node->domain()) || node->op_type() != "Transpose" ||
        node->num_outputs() != 1 || !node->has_input(0)) {
      continue;
    }
    const std::string output = node->output(0);
    if (output.empty() || !OnlyFoldableMatMulWeights(graph, output)) continue;
    const Tensor* source = graph.GetConstant(node->input(0));
    if (source == nullptr) continue;
    const int bits = DataTypeBitWidth(source->dtype());
    if (bits <= 0 || bits % 8 != 0) continue;
    const std::vector<int64_t>& dims = source->dims();
    std::vector<int64_t> perm = node->GetInts("perm");
    if (perm.empty()) {
      for (size_t d = dims.size(); d-- > 0;) {
        perm.push_back(static_cast<int64_t>(d));
      }
    }
    std::vector<bool> seen(dims.size(), false);
    bool valid = perm.size() == dims.size();
    for (size_t d = 0; valid && d < perm.size(); ++d) {
      valid = perm[d] >= 0 && perm[d] < static_cast<int64_t>(dims.size()) &&
              !seen[static_cast<size_t>(perm[d])];
      if (valid) seen[static_cast<size_t>(perm[d])] = true;
    }
    if (!valid) continue;

    std::vector<int64_t> out_dims(dims.size());
    for (size_t d = 0; d < dims.size(); ++d) {
      out_dims[d] = dims[static_cast<size_t>(perm[d])];
    }
    Tensor transposed(output, source->dtype(), std::move(out_dims),
                      TransposeBytes(source->bytes(), dims, perm,
                                     static_cast<size_t>(bits / 8)));
    graph.RemoveNode(node);
    graph.AddInitializer(std::move(transposed));
    ++folded;
  }
  return folded;
}

class FoldConstantTransposesPass final : public GraphPass {
 public:
  const char* name() const override { return "fold_constant_transposes"; }
  void Run(Graph& graph, PassContext& context) override {
    context.report->cleanup.transposes_folded +=
        FoldConstantTransposesIntoMatMulWeights(graph);
  }
};

}  // namespace

std::unique_ptr<GraphPass> MakeFoldConstantTransposesPass() {
  return std::make_unique<FoldConstantTransposesPass>();
}

}  // namespace foldrt::graph
