// foldrt's graph IR: a model is a graph of nodes that read and write named
// values, plus constant tensors (initializers) and ONNX model-level data.
// It mirrors ONNX closely enough that a model foldrt did not change exports
// unchanged: every attribute is kept, including the kinds foldrt does not
// interpret, and so are doc strings, value_info and metadata.
//
// Names, not pointers, connect nodes (as in ONNX). The Graph keeps an index
// of who produces and who reads each value up to date through every edit
// made with the Graph and Node methods.
#ifndef FOLDRT_GRAPH_GRAPH_H_
#define FOLDRT_GRAPH_GRAPH_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <variant>
#include <vector>

#include "core/error.h"
#include "graph/tensor.h"

namespace foldrt::graph {

class Graph;
class Node;

// True for the ONNX default operator domain, spelled "" or "ai.onnx".
bool IsDefaultDomain(const std::string& domain);

// One dimension of a value's shape.
struct Dim {
  enum class Kind { kUnknown, kKnown, kSymbolic };

  static Dim Known(int64_t value);
  static Dim Symbolic(std::string symbol);
  static Dim Unknown();

  Kind kind = Kind::kUnknown;
  int64_t value = 0;       // kKnown only
  std::string symbol;      // kSymbolic only, e.g. "batch"
  std::string denotation;  // ONNX dimension denotation, e.g. "DATA_BATCH"
};

// Name and type of a graph input, output or intermediate value (ONNX
// ValueInfoProto).
struct ValueInfo {
  static ValueInfo ForTensor(std::string name, DataType dtype,
                             std::optional<std::vector<Dim>> shape);

  std::string name;
  // The value is a tensor; dtype and shape describe it.
  bool has_tensor_type = false;
  DataType dtype = DataType::kUndefined;
  // nullopt when even the rank is unknown; empty for a scalar.
  std::optional<std::vector<Dim>> shape;
  std::string type_denotation;
  // Any other ONNX type (sequence, map, optional, sparse tensor) as a
  // serialized onnx TypeProto, which foldrt carries but does not interpret.
  std::string serialized_other_type;
  std::string doc_string;
  // Fields from a newer ONNX than foldrt's, serialized; export restores them.
  std::string unknown_fields;
};

// ONNX AttributeProto.AttributeType codes.
enum class AttributeType : int32_t {
  kUndefined = 0,
  kFloat = 1,
  kInt = 2,
  kString = 3,
  kTensor = 4,
  kGraph = 5,
  kFloats = 6,
  kInts = 7,
  kStrings = 8,
  kTensors = 9,
  kGraphs = 10,
  kSparseTensor = 11,
  kSparseTensors = 12,
  kTypeProto = 13,
  kTypeProtos = 14,
};

std::string AttributeTypeName(AttributeType type);

// A node attribute of any ONNX kind. Sparse tensors and type protos are kept
// as serialized ONNX messages; subgraphs (If/Loop/Scan bodies) are parsed
// into Graphs so that their reads of outer values are visible.
class Attribute {
 public:
  static Attribute Float(std::string name, float value);
  static Attribute Int(std::string name, int64_t value);
  static Attribute String(std::string name, std::string value);
  static Attribute FromTensor(std::string name, Tensor value);
  static Attribute FromGraph(std::string name, Graph value);
  static Attribute Floats(std::string name, std::vector<float> values);
  static Attribute Ints(std::string name, std::vector<int64_t> values);
  static Attribute Strings(std::string name, std::vector<std::string> values);
  static Attribute Tensors(std::string name, std::vector<Tensor> values);
  static Attribute Graphs(std::string name, std::vector<Graph> values);
  // kSparseTensor or kTypeProto: one serialized onnx message.
  static Attribute SerializedProto(std::string name, AttributeType type,
                                   std::string bytes);
  // kSparseTensors or kTypeProtos: a list of serialized onnx messages.
  static Attribute SerializedProtos(std::string name, AttributeType type,
                                    std::vector<std::string> bytes);

  Attribute(const Attribute& other);
  Attribute(Attribute&& other) noexcept;
  Attribute& operator=(const Attribute& other);
  Attribute& operator=(Attribute&& other) noexcept;
  ~Attribute();

  const std::string& name() const { return name_; }
  AttributeType type() const { return type_; }

  // Each accessor throws InvalidArgumentError when the attribute has another
  // type; Node's Get* functions turn that into a FormatError naming the node.
  float f() const;
  int64_t i() const;
  const std::string& s() const;
  const Tensor& t() const;
  const Graph& g() const;
  const std::vector<float>& floats() const;
  const std::vector<int64_t>& ints() const;
  const std::vector<std::string>& strings() const;
  const std::vector<Tensor>& tensors() const;
  const std::vector<Graph>& graphs() const;
  const std::string& serialized_proto() const;
  const std::vector<std::string>& serialized_protos() const;

  const std::string& doc_string() const { return doc_string_; }
  void set_doc_string(std::string doc) { doc_string_ = std::move(doc); }
  // Set only inside ONNX function bodies: the attribute takes the value of
  // the calling node's attribute of this name.
  const std::string& ref_attr_name() const { return ref_attr_name_; }
  void set_ref_attr_name(std::string name) { ref_attr_name_ = std::move(name); }
  const std::string& unknown_fields() const { return unknown_fields_; }
  void set_unknown_fields(std::string fields) {
    unknown_fields_ = std::move(fields);
  }

 private:
  // Graph renames outer-scope reads inside a copy's subgraphs.
  friend class Graph;

  Attribute(std::string name, AttributeType type);
  // An attribute of `type` whose payload (value_) is `value`: what every
  // factory but the subgraph ones builds.
  template <typename Value>
  static Attribute WithValue(std::string name, AttributeType type, Value value);
  void CheckType(AttributeType expected) const;
  void CheckType(AttributeType expected_one, AttributeType expected_two) const;

  std::string name_;
  AttributeType type_ = AttributeType::kUndefined;
  // The payload for every type but kGraph / kGraphs. Strings hold kString
  // and the single serialized protos; string vectors hold kStrings and the
  // serialized proto lists; type_ tells them apart.
  std::variant<std::monostate, float, int64_t, std::string, Tensor,
               std::vector<float>, std::vector<int64_t>,
               std::vector<std::string>, std::vector<Tensor>>
      value_;
  std::vector<Graph> graphs_;  // one for kGraph
  std::string doc_string_;
  std::string ref_attr_name_;
  std::string unknown_fields_;
};

// A read of a value by a node.
struct Use {
  // input_index of a read that happens inside one of the node's subgraphs
  // (an If branch using a value of the enclosing graph).
  static constexpr int kImplicit = -1;

  Node* node = nullptr;
  int input_index = kImplicit;  // position in node->inputs()
};

// An operator application. Inputs and outputs are value names; "" marks an
// omitted optional input or output. A Node is either detached (built by a
// pass, not yet added) or owned by one Graph, which it keeps informed of
// every change to its inputs, outputs and subgraphs.
class Node {
 public:
  Node(std::string op_type, std::vector<std::string> inputs,
       std::vector<std::string> outputs, std::string name = {},
       std::string domain = {});
  // Copies are detached, whatever the original was.
  Node(const Node& other);
  Node(Node&& other);
  Node& operator=(const Node&) = delete;
  Node& operator=(Node&&) = delete;
  ~Node();

  const std::string& name() const { return name_; }
  void set_name(std::string name) { name_ = std::move(name); }
  const std::string& op_type() const { return op_type_; }
  void set_op_type(std::string op_type);
  const std::string& domain() const { return domain_; }
  void set_domain(std::string domain);
  const std::string& doc_string() const { return doc_string_; }
  void set_doc_string(std::string doc) { doc_string_ = std::move(doc); }
  const std::string& unknown_fields() const { return unknown_fields_; }
  void set_unknown_fields(std::string fields) {
    unknown_fields_ = std::move(fields);
  }

  // The name for messages: name() or, for an unnamed node, a description
  // built from its first output.
  std::string Label() const;

  const std::vector<std::string>& inputs() const { return inputs_; }
  size_t num_inputs() const { return inputs_.size(); }
  const std::string& input(size_t index) const { return inputs_.at(index); }
  // The input exists and is not an omitted optional one.
  bool has_input(size_t index) const {
    return index < inputs_.size() && !inputs_[index].empty();
  }
  void SetInput(size_t index, std::string value);
  void SetInputs(std::vector<std::string> values);

  const std::vector<std::string>& outputs() const { return outputs_; }
  size_t num_outputs() const { return outputs_.size(); }
  const std::string& output(size_t index) const { return outputs_.at(index); }
  void SetOutput(size_t index, std::string value);
  void SetOutputs(std::vector<std::string> values);

  // Values of enclosing scopes read inside this node's subgraphs.
  const std::vector<std::string>& implicit_inputs() const {
    return implicit_inputs_;
  }

  const std::vector<Attribute>& attributes() const { return attributes_; }
  const Attribute* FindAttribute(const std::string& name) const;
  bool HasAttribute(const std::string& name) const {
    return FindAttribute(name) != nullptr;
  }
  // Replaces the attribute of the same name in place, or appends.
  void SetAttribute(Attribute attribute);
  bool RemoveAttribute(const std::string& name);

  // Typed reads with a default for an absent attribute; an attribute of the
  // wrong type is a FormatError naming this node.
  float GetFloat(const std::string& name, float default_value) const;
  int64_t GetInt(const std::string& name, int64_t default_value) const;
  std::string GetString(const std::string& name,
                        const std::string& default_value) const;
  std::vector<float> GetFloats(const std::string& name,
                               std::vector<float> default_value = {}) const;
  std::vector<int64_t> GetInts(const std::string& name,
                               std::vector<int64_t> default_value = {}) const;

  // For a default-domain Constant node, the tensor it produces (its `value`
  // attribute, or one built from value_float(s) / value_int(s) /
  // value_string(s)); null for any other node and for sparse_value.
  const Tensor* ConstantValue() const;

  // The graph this node belongs to, null while detached.
  Graph* owner() const { return owner_; }

 private:
  friend class Graph;

  // Refreshes what is derived from attributes and op type: implicit inputs
  // and the Constant value.
  void UpdateDerived();
  template <typename Edit>
  void EditConnections(Edit edit);

  std::string name_;
  std::string op_type_;
  std::string domain_;
  std::vector<std::string> inputs_;
  std::vector<std::string> outputs_;
  std::vector<Attribute> attributes_;
  std::string doc_string_;
  std::string unknown_fields_;
  std::vector<std::string> implicit_inputs_;
  std::optional<Tensor> built_constant_;
  Graph* owner_ = nullptr;
};

// Node and op (and file, when given) for an error about `node`.
ErrorContext NodeErrorContext(const Node& node, const std::string& file = {});

// A sparse initializer, kept as its serialized onnx SparseTensorProto.
struct SparseInitializer {
  std::string name;
  std::string serialized;
};

// A graph: the main graph of a model or a subgraph held by an attribute.
// Copying deep-copies nodes, tensors and subgraphs.
//
// Pointers to nodes and initializers stay valid until that node or
// initializer is removed (or the graph destroyed).
class Graph {
 public:
  Graph();
  Graph(const Graph& other);
  Graph(Graph&& other) noexcept;
  Graph& operator=(const Graph& other);
  Graph& operator=(Graph&& other) noexcept;
  ~Graph();

  const std::string& name() const { return name_; }
  void set_name(std::string name) { name_ = std::move(name); }
  const std::string& doc_string() const { return doc_string_; }
  void set_doc_string(std::string doc) { doc_string_ = std::move(doc); }
  const std::string& unknown_fields() const { return unknown_fields_; }
  void set_unknown_fields(std::string fields) {
    unknown_fields_ = std::move(fields);
  }

  // --- Nodes, in storage order (see TopologicalOrder for execution order).
  size_t num_nodes() const { return nodes_.size(); }
  const Node& node(size_t index) const { return *nodes_.at(index); }
  Node* mutable_node(size_t index) { return nodes_.at(index).get(); }
  // Snapshots, safe to iterate while nodes are added or removed.
  std::vector<const Node*> nodes() const;
  std::vector<Node*> mutable_nodes();

  // Appends a detached node and returns it, now owned by this graph.
  Node* AddNode(Node node);
  // Detaches `node` and hands it back; InvalidArgumentError if it is not in
  // this graph.
  std::unique_ptr<Node> RemoveNode(const Node* node);

  // --- Initializers (constant tensors), in file order.
  size_t num_initializers() const { return initializers_.size(); }
  const Tensor& initializer(size_t index) const {
    return *initializers_.at(index);
  }
  const Tensor* FindInitializer(const std::string& name) const;
  // Change data, dims or dtype through this pointer, never the name (the
  // graph indexes initializers by name): add a renamed copy instead.
  Tensor* MutableInitializer(const std::string& name);
  // InvalidArgumentError for an empty name or one already taken by an
  // initializer.
  Tensor* AddInitializer(Tensor tensor);
  // Also drops the initializer's listing among the graph inputs. False if
  // there was no such initializer.
  bool RemoveInitializer(const std::string& name);

  const std::vector<SparseInitializer>& sparse_initializers() const {
    return sparse_initializers_;
  }
  std::vector<SparseInitializer>* mutable_sparse_initializers() {
    return &sparse_initializers_;
  }

  // --- Interface. inputs() are the real inputs the caller feeds. Old
  // exporters (and IR version 3, which requires it) also list initializers
  // as graph inputs; those listings are kept apart in initializer_inputs()
  // (same order as in the file) and the values are treated as constants.
  const std::vector<ValueInfo>& inputs() const { return inputs_; }
  std::vector<ValueInfo>* mutable_inputs() { return &inputs_; }
  const std::vector<ValueInfo>& initializer_inputs() const {
    return initializer_inputs_;
  }
  std::vector<ValueInfo>* mutable_initializer_inputs() {
    return &initializer_inputs_;
  }
  const std::vector<ValueInfo>& outputs() const { return outputs_; }
  std::vector<ValueInfo>* mutable_outputs() { return &outputs_; }
  // Types of intermediate values.
  const std::vector<ValueInfo>& value_info() const { return value_info_; }
  std::vector<ValueInfo>* mutable_value_info() { return &value_info_; }
  // onnx TensorAnnotation messages, serialized.
  const std::vector<std::string>& quantization_annotations() const {
    return quantization_annotations_;
  }
  std::vector<std::string>* mutable_quantization_annotations() {
    return &quantization_annotations_;
  }

  // --- Queries.
  // The node writing `value`; null for initializers, graph inputs and
  // unknown names. In a graph that fails Verify (two producers), the first.
  const Node* Producer(const std::string& value) const;
  Node* Producer(const std::string& value);
  // Every read of `value` by a node of this graph, including reads inside
  // subgraphs (Use::kImplicit). Empty if nobody reads it. The next edit
  // invalidates the reference: copy the list to edit while walking it.
  const std::vector<Use>& Uses(const std::string& value) const;
  // The distinct nodes reading `value`.
  std::vector<const Node*> Consumers(const std::string& value) const;
  bool IsGraphOutput(const std::string& value) const;
  bool IsGraphInput(const std::string& value) const;
  // The constant tensor behind `value`, seeing through default-domain
  // Identity and Constant nodes: an initializer (also one listed as a graph
  // input), a Constant's value, or null when the value is not a constant of
  // this graph. The tensor's name() need not equal `value`.
  const Tensor* GetConstant(const std::string& value) const;
  const ValueInfo* FindValueInfo(const std::string& value) const;
  // Names of values this graph reads without defining them: what a subgraph
  // takes from its enclosing scopes.
  std::vector<std::string> OuterScopeReferences() const;

  // A value name / node name not used in this graph: `base` itself if free,
  // else base_1, base_2, ...
  std::string UniqueValueName(const std::string& base) const;
  std::string UniqueNodeName(const std::string& base) const;

  // --- Order and checks.
  // Kahn's algorithm; among ready nodes the earlier-stored one goes first,
  // so an already sorted graph keeps its order. A cycle is a FormatError
  // naming a node on it.
  std::vector<const Node*> TopologicalOrder() const;
  std::vector<Node*> TopologicalOrder();
  // Reorders the stored nodes into TopologicalOrder().
  void SortTopologically();

  // Throws FormatError (with node and op where there is one) unless: every
  // node input is "" or defined exactly once, by a node output, an
  // initializer or a graph input, here or (in a subgraph) in an enclosing
  // graph; no name is defined twice; every graph output is defined; there is
  // no cycle; every subgraph passes the same checks. `file` goes into the
  // messages.
  void Verify(const std::string& file = {}) const;

  // Makes every read of `old_value` by a node (explicit, or inside a
  // subgraph) read `new_value` instead. Graph outputs are left alone: they
  // are the model's interface (rename the producer's output instead).
  void ReplaceAllUses(const std::string& old_value,
                      const std::string& new_value);

 private:
  friend class Node;

  void Register(Node* node);
  void Unregister(Node* node);
  void RebuildInitializerIndex();
  std::vector<size_t> TopologicalIndices(const std::string& file) const;
  void VerifyInScope(const std::unordered_set<std::string>& outer,
                     const std::string& file) const;
  // Renames every read of old_value in this graph and its subgraphs, graph
  // outputs included (a subgraph output may name an outer value).
  void RenameReads(const std::string& old_value, const std::string& new_value,
                   bool rename_graph_outputs);

  std::string name_;
  std::string doc_string_;
  std::string unknown_fields_;
  std::vector<std::unique_ptr<Node>> nodes_;
  std::vector<std::unique_ptr<Tensor>> initializers_;
  std::unordered_map<std::string, Tensor*> initializer_by_name_;
  std::vector<SparseInitializer> sparse_initializers_;
  std::vector<ValueInfo> inputs_;
  std::vector<ValueInfo> initializer_inputs_;
  std::vector<ValueInfo> outputs_;
  std::vector<ValueInfo> value_info_;
  std::vector<std::string> quantization_annotations_;
  std::unordered_map<std::string, std::vector<Node*>> producers_;
  std::unordered_map<std::string, std::vector<Use>> uses_;
};

// An operator set a model imports, e.g. {"", 17} or {"ai.onnx.ml", 3}.
struct OpsetImport {
  std::string domain;
  int64_t version = 0;
};

// A whole model: the main graph plus the ONNX model-level data.
struct Model {
  int64_t ir_version = 8;
  std::vector<OpsetImport> opset_imports;
  std::string producer_name;
  std::string producer_version;
  std::string domain;
  int64_t model_version = 0;
  std::string doc_string;
  // Key/value pairs in file order.
  std::vector<std::pair<std::string, std::string>> metadata_props;
  Graph graph;
  // Model-local functions (onnx FunctionProto) and training info (onnx
  // TrainingInfoProto), serialized; foldrt carries them unchanged.
  std::vector<std::string> serialized_functions;
  std::vector<std::string> serialized_training_info;
  std::string unknown_fields;
  // The file (or name) the model came from, for error messages only.
  std::string source;
};

// The version of `domain` the model imports ("" and "ai.onnx" are the same
// domain), or 0 when it does not import it.
int64_t OpsetVersion(const Model& model, const std::string& domain);

// Graph::Verify on the main graph with model.source as the file.
void VerifyModel(const Model& model);

}  // namespace foldrt::graph

#endif  // FOLDRT_GRAPH_GRAPH_H_
