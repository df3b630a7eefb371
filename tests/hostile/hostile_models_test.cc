// Hostile inputs: models and .npy files that are broken, inconsistent or
// built to hurt (escaping paths, overflowing shapes, cycles, FIFOs). Each
// case is built here through the ONNX protobuf classes into a fresh folder
// and fed to every entry point that reads it:
//
//   library  graph::LoadOnnxModel, runtime::Session::Load, ReadNpyF32
//   CLI      foldrt fold, foldrt inspect, foldrt run (and batchnorm for .npy)
//
// and each must fail with the exact error the case names (type and message
// substring): one "foldrt: error:" line and exit 1 from the CLI, no crash,
// no hang, and no output file left behind. Cases the importer accepts but
// the runtime refuses say so per entry point.
//
// Longer than the ~600-line guide on purpose: most of it is the one table of
// cases (Cases()), each a few lines saying what is broken and what must
// fail; splitting the table would scatter what a reader compares side by
// side.
//
// FOLDRT_HOSTILE_CORPUS_DIR=DIR writes every case's model bytes to
// DIR/<case>.onnx (and .npy files to DIR/<case>.npy): how the fuzzers'
// seed corpora under tests/fuzz/corpus got their hostile entries.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <onnx/onnx_pb.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <optional>
#include <ostream>
#include <sstream>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/npy.h"
#include "graph/onnx_io.h"
#include "runtime/session.h"
#include "tests/graph/onnx/onnx_test_util.h"
#include "tests/tools/cli_test_util.h"

namespace foldrt {
namespace {

namespace fs = std::filesystem;
using graph::testing::MakeNode;
using graph::testing::RawFloats;
using testing::ReadFile;
using testing::WriteFile;
using ::testing::HasSubstr;

// ------------------------------------------------------------ proto makers

// A float tensor value: its dims numbers (negative ones too) or symbols.
onnx::ValueInfoProto FloatValue(const std::string& name,
                                const std::vector<std::string>& dims) {
  return graph::testing::TensorValue(name, onnx::TensorProto::FLOAT, dims);
}

onnx::AttributeProto IntsAttribute(const std::string& name,
                                   const std::vector<int64_t>& values) {
  onnx::AttributeProto attribute;
  attribute.set_name(name);
  attribute.set_type(onnx::AttributeProto::INTS);
  for (int64_t value : values) attribute.add_ints(value);
  return attribute;
}

// Conv(x, W, B) -> BatchNormalization -> y on x (1, 2, 4, 4) and a 1x1
// kernel with 3 output channels: small, valid, and folded by `foldrt fold`.
// `x_dims` overrides the declared input shape.
onnx::ModelProto ValidModel(const std::vector<std::string>& x_dims = {
                                "1", "2", "4", "4"}) {
  onnx::ModelProto model;
  model.set_ir_version(8);
  model.set_producer_name("hostile_models_test");
  model.add_opset_import()->set_version(13);
  onnx::GraphProto* graph = model.mutable_graph();
  graph->set_name("conv_bn");
  *graph->add_input() = FloatValue("x", x_dims);
  *graph->add_initializer() = RawFloats("W", {3, 2, 1, 1}, {1, 2, 3, 4, 5, 6});
  *graph->add_initializer() = RawFloats("B", {3}, {0.5f, -0.5f, 1});
  *graph->add_initializer() = RawFloats("scale", {3}, {1, 2, 0.5f});
  *graph->add_initializer() = RawFloats("bias", {3}, {0, 1, -1});
  *graph->add_initializer() = RawFloats("mean", {3}, {0.1f, 0.2f, 0.3f});
  *graph->add_initializer() = RawFloats("var", {3}, {1, 4, 0.25f});
  *graph->add_node() = MakeNode("Conv", {"x", "W", "B"}, {"c"}, "conv");
  *graph->add_node() = MakeNode(
      "BatchNormalization", {"c", "scale", "bias", "mean", "var"}, {"y"}, "bn");
  *graph->add_output() = FloatValue("y", {});
  graph->mutable_output(0)
      ->mutable_type()
      ->mutable_tensor_type()
      ->clear_shape();
  return model;
}

onnx::TensorProto* Initializer(onnx::ModelProto* model,
                               const std::string& name) {
  for (onnx::TensorProto& tensor :
       *model->mutable_graph()->mutable_initializer()) {
    if (tensor.name() == name) return &tensor;
  }
  ADD_FAILURE() << "no initializer " << name;
  return nullptr;
}

onnx::NodeProto* NodeNamed(onnx::ModelProto* model, const std::string& name) {
  for (onnx::NodeProto& node : *model->mutable_graph()->mutable_node()) {
    if (node.name() == name) return &node;
  }
  ADD_FAILURE() << "no node " << name;
  return nullptr;
}

// ValidModel plus an If whose then_branch holds an If whose then_branch
// holds an If ... `depth` levels down.
onnx::ModelProto NestedIfModel(int depth) {
  onnx::GraphProto inner;
  inner.set_name("leaf");
  for (int level = 0; level < depth; ++level) {
    onnx::GraphProto outer;
    outer.set_name("level" + std::to_string(level));
    onnx::NodeProto* node = outer.add_node();
    *node = MakeNode("If", {"x"}, {}, "if" + std::to_string(level));
    onnx::AttributeProto* branch = node->add_attribute();
    branch->set_name("then_branch");
    branch->set_type(onnx::AttributeProto::GRAPH);
    *branch->mutable_g() = std::move(inner);
    inner = std::move(outer);
  }
  onnx::ModelProto model = ValidModel();
  onnx::NodeProto* node = model.mutable_graph()->add_node();
  *node = MakeNode("If", {"x"}, {}, "outer_if");
  onnx::AttributeProto* branch = node->add_attribute();
  branch->set_name("then_branch");
  branch->set_type(onnx::AttributeProto::GRAPH);
  *branch->mutable_g() = std::move(inner);
  return model;
}

// W's 24 bytes kept in an external file at `location`.
onnx::ModelProto ExternalWeightModel(const std::string& location,
                                     const std::string& offset = "",
                                     const std::string& length = "") {
  onnx::ModelProto model = ValidModel();
  onnx::TensorProto* w = Initializer(&model, "W");
  w->clear_raw_data();
  w->set_data_location(onnx::TensorProto::EXTERNAL);
  auto add = [&](const std::string& key, const std::string& value) {
    if (value.empty()) return;
    auto* entry = w->add_external_data();
    entry->set_key(key);
    entry->set_value(value);
  };
  add("location", location);
  add("offset", offset);
  add("length", length);
  return model;
}

std::string WeightBytes() {
  const std::vector<float> values = {1, 2, 3, 4, 5, 6};
  return std::string(reinterpret_cast<const char*>(values.data()),
                     values.size() * sizeof(float));
}

// A .npy v1.0 file with `dict` as its header (padded as numpy pads it) and
// `data_bytes` zero bytes of data.
std::string Npy(const std::string& dict, size_t data_bytes) {
  std::string header = dict;
  const size_t unpadded = 10 + header.size() + 1;
  header.append((64 - unpadded % 64) % 64, ' ');
  header += '\n';
  std::string bytes("\x93NUMPY\x01\x00", 8);
  bytes += static_cast<char>(header.size() & 0xff);
  bytes += static_cast<char>(header.size() >> 8);
  return bytes + header + std::string(data_bytes, '\0');
}

// A .npy header dict as numpy writes it.
std::string NpyDict(const std::string& descr, bool fortran_order,
                    const std::string& shape) {
  return "{'descr': '" + descr +
         "', 'fortran_order': " + (fortran_order ? "True" : "False") +
         ", 'shape': " + shape + ", }";
}

std::string GoodNpyDict() { return NpyDict("<f4", false, "(1, 2, 4, 4)"); }

// ------------------------------------------------------------ the cases

enum class Kind { kNone, kFormat, kUnsupported, kIo, kInvalidArgument };

const char* KindName(Kind kind) {
  switch (kind) {
    case Kind::kNone:
      return "no error";
    case Kind::kFormat:
      return "FormatError";
    case Kind::kUnsupported:
      return "UnsupportedError";
    case Kind::kIo:
      return "IoError";
    case Kind::kInvalidArgument:
      return "InvalidArgumentError";
  }
  return "?";
}

Kind KindOf(const Error& error) {
  if (dynamic_cast<const FormatError*>(&error)) return Kind::kFormat;
  if (dynamic_cast<const UnsupportedError*>(&error)) return Kind::kUnsupported;
  if (dynamic_cast<const IoError*>(&error)) return Kind::kIo;
  if (dynamic_cast<const InvalidArgumentError*>(&error)) {
    return Kind::kInvalidArgument;
  }
  return Kind::kNone;
}

// What one entry point must do: fail with an error of `kind` whose message
// contains `message`, or (kind kNone) succeed.
struct Outcome {
  Kind kind = Kind::kNone;
  std::string message;
};

Outcome Ok() { return {}; }

struct HostileCase {
  std::string name;
  // Writes model.onnx (and whatever else the case needs) into `dir`, the
  // model's folder; `outside` is its parent, a place the model must not
  // reach.
  std::function<void(const fs::path& dir, const fs::path& outside)> write;
  // LoadOnnxModel; also what `foldrt fold` and `foldrt inspect` must say.
  Outcome import;
  // Session::Load; also what `foldrt run` must say. Unset: as import.
  std::optional<Outcome> session;
  // `foldrt run` (random inputs) when it differs from Session::Load.
  std::optional<Outcome> run;
  // For .npy cases: ReadNpyF32 of input.npy, and `foldrt run --input`.
  std::optional<Outcome> npy;
  // `foldrt fold` and `foldrt inspect` when they differ from the import
  // (the fold passes and inspect read attributes the importer keeps as
  // they are).
  std::optional<Outcome> fold;
  std::optional<Outcome> inspect;
};

// Test names in CTest and gtest output: the case name, not its bytes.
void PrintTo(const HostileCase& c, std::ostream* os) { *os << c.name; }

std::function<void(const fs::path&, const fs::path&)> Writes(
    std::function<onnx::ModelProto()> make) {
  return [make](const fs::path& dir, const fs::path&) {
    WriteFile(dir / "model.onnx", make().SerializeAsString());
  };
}

std::function<void(const fs::path&, const fs::path&)> WritesBytes(
    std::string bytes) {
  return [bytes](const fs::path& dir, const fs::path&) {
    WriteFile(dir / "model.onnx", bytes);
  };
}

// A valid model and a broken input.npy.
std::function<void(const fs::path&, const fs::path&)> WritesNpy(
    std::string npy) {
  return [npy](const fs::path& dir, const fs::path&) {
    WriteFile(dir / "model.onnx", ValidModel().SerializeAsString());
    WriteFile(dir / "input.npy", npy);
  };
}

Outcome Fails(Kind kind, std::string message) {
  return Outcome{kind, std::move(message)};
}

std::vector<HostileCase> Cases() {
  std::vector<HostileCase> cases;
  auto add = [&](HostileCase c) { cases.push_back(std::move(c)); };
  const Kind kFormat = Kind::kFormat;
  const Kind kUnsupported = Kind::kUnsupported;
  const Kind kIo = Kind::kIo;
  const Kind kInvalid = Kind::kInvalidArgument;

  // ---- not a model at all
  {
    std::string noise(4096, '\0');
    uint32_t state = 12345;
    for (char& byte : noise) {
      state = state * 1103515245u + 12345u;
      byte = static_cast<char>(state >> 24);
    }
    noise[0] = '\xff';  // field 31, wire type 7: no protobuf starts so
    add({"random_bytes", WritesBytes(noise),
         Fails(kFormat, "not an ONNX model")});
  }
  {
    const std::string bytes = ValidModel().SerializeAsString();
    add({"truncated_protobuf", WritesBytes(bytes.substr(0, bytes.size() / 2)),
         Fails(kFormat, "truncated ONNX model")});
  }
  add({"empty_file", WritesBytes(""),
       Fails(kFormat, "empty file: not an ONNX model")});
  add({"empty_graph", Writes([] {
         onnx::ModelProto model;
         model.set_ir_version(8);
         model.add_opset_import()->set_version(13);
         model.mutable_graph()->set_name("empty");
         return model;
       }),
       Fails(kFormat, "the main graph has no outputs")});
  add({"subgraphs_nested_200_deep", Writes([] { return NestedIfModel(200); }),
       // Past protobuf's recursion limit (100), which refuses it before the
       // importer's own recursion could run out of stack.
       Fails(kFormat, "protobuf parsing failed inside a top-level field")});
  add({"subgraphs_nested_30_deep", Writes([] { return NestedIfModel(30); }),
       // Within protobuf's limit: the importer's own bound refuses it (the
       // IR copies cost 2^depth; this file used to hang every tool).
       Fails(kUnsupported, "subgraphs are nested more than 8 levels deep")});

  // ---- broken graphs
  add({"cycle", Writes([] {
         onnx::ModelProto model = ValidModel();
         // conv reads the BN's output, which needs conv's.
         NodeNamed(&model, "conv")->set_input(0, "y");
         return model;
       }),
       Fails(kFormat, "the graph has a cycle")});
  add({"input_nobody_produces", Writes([] {
         onnx::ModelProto model = ValidModel();
         NodeNamed(&model, "bn")->set_input(3, "nowhere");
         return model;
       }),
       Fails(kFormat,
             "input 'nowhere' is not produced by any node, initializer or "
             "graph input")});
  add({"duplicate_output_names", Writes([] {
         onnx::ModelProto model = ValidModel();
         *model.mutable_graph()->add_node() =
             MakeNode("Relu", {"x"}, {"c"}, "second_c");
         return model;
       }),
       Fails(kFormat, "value 'c' is defined twice")});
  add({"output_named_like_an_initializer", Writes([] {
         onnx::ModelProto model = ValidModel();
         NodeNamed(&model, "conv")->set_output(0, "mean");
         NodeNamed(&model, "bn")->set_input(0, "mean");
         return model;
       }),
       Fails(kFormat, "value 'mean' is defined twice")});
  add({"unknown_opset", Writes([] {
         onnx::ModelProto model = ValidModel();
         model.mutable_opset_import(0)->set_version(99);
         return model;
       }),
       Fails(kUnsupported, "ai.onnx opset 99 is not supported")});
  add({"unknown_domain", Writes([] {
         onnx::ModelProto model = ValidModel();
         NodeNamed(&model, "bn")->set_domain("com.evil");
         return model;
       }),
       Fails(kUnsupported,
             "operator domain 'com.evil' is not imported by the model")});
  add({"custom_domain_imported", Writes([] {
         onnx::ModelProto model = ValidModel();
         auto* opset = model.add_opset_import();
         opset->set_domain("com.evil");
         opset->set_version(1);
         NodeNamed(&model, "bn")->set_domain("com.evil");
         return model;
       }),
       Ok(),
       Fails(kUnsupported,
             "domain 'com.evil' is not supported by the foldrt runtime")});

  // ---- attributes
  add({"attribute_of_wrong_type", Writes([] {
         onnx::ModelProto model = ValidModel();
         onnx::AttributeProto* strides =
             NodeNamed(&model, "conv")->add_attribute();
         strides->set_name("strides");
         strides->set_type(onnx::AttributeProto::STRING);
         strides->set_s("1,1");
         return model;
       }),
       Ok(), Fails(kFormat, "attribute 'strides' is STRING, expected INTS")});
  add({"epsilon_of_wrong_type", Writes([] {
         onnx::ModelProto model = ValidModel();
         onnx::AttributeProto* epsilon =
             NodeNamed(&model, "bn")->add_attribute();
         epsilon->set_name("epsilon");
         epsilon->set_type(onnx::AttributeProto::INT);
         epsilon->set_i(1);
         return model;
       }),
       Ok(), Fails(kFormat, "attribute 'epsilon' is INT, expected FLOAT")});
  cases.back().fold = cases.back().session;
  cases.back().inspect = cases.back().session;
  add({"attribute_without_type", Writes([] {
         onnx::ModelProto model = ValidModel();
         onnx::AttributeProto* group =
             NodeNamed(&model, "conv")->add_attribute();
         group->set_name("group");
         group->set_i(1);
         return model;
       }),
       Fails(kFormat, "attribute 'group' has no type")});
  add({"conv_weight_of_higher_rank_than_input",
       // x (1, 2, 4) is 1-D, W (3, 2, 1, 1) a 2-D kernel: ONNX 1.12's shape
       // inference indexed x's missing second spatial axis (segfault in
       // `foldrt inspect`, found by fuzzing).
       Writes([] {
         return ValidModel({"1", "2", "4"});
       }),
       Ok(),
       Fails(kInvalid,
             "node 'conv' (Conv): Conv of x (1, 2, 4) with W (3, 2, 1, 1): W "
             "must have the rank of x")});
  add({"zero_strides", Writes([] {
         onnx::ModelProto model = ValidModel();
         *NodeNamed(&model, "conv")->add_attribute() =
             IntsAttribute("strides", {0, 0});
         return model;
       }),
       Ok(), Fails(kInvalid, "strides")});
  add({"huge_pads", Writes([] {
         onnx::ModelProto model = ValidModel();
         *NodeNamed(&model, "conv")->add_attribute() =
             IntsAttribute("pads", {INT64_MAX / 4, 0, INT64_MAX / 4, 0});
         return model;
       }),
       Ok(),
       Fails(kInvalid,
             "shape (1, 3, 4611686018427387906, 4) has too many "
             "elements")});
  add({"zero_group", Writes([] {
         onnx::ModelProto model = ValidModel();
         onnx::AttributeProto* group =
             NodeNamed(&model, "conv")->add_attribute();
         group->set_name("group");
         group->set_type(onnx::AttributeProto::INT);
         group->set_i(0);
         return model;
       }),
       Ok(), Fails(kInvalid, "group")});

  // ---- tensors: shapes, sizes, types
  add({"negative_dim", Writes([] {
         onnx::ModelProto model = ValidModel();
         Initializer(&model, "W")->set_dims(1, -2);
         return model;
       }),
       Fails(kFormat, "tensor 'W' [3,-2,1,1]: negative tensor dimension -2")});
  add({"element_count_overflows", Writes([] {
         onnx::ModelProto model = ValidModel();
         onnx::TensorProto* w = Initializer(&model, "W");
         for (int i = 0; i < 4; ++i) w->set_dims(i, int64_t{1} << 20);
         return model;
       }),
       Fails(kFormat, "tensor element count overflows int64")});
  add({"byte_size_overflows", Writes([] {
         // 2^62 COMPLEX64 elements fit int64, their 2^68 bytes do not; the
         // typed-field check used to compute 2 * 2^62 values (overflow).
         onnx::ModelProto model = ValidModel();
         onnx::TensorProto* w = Initializer(&model, "W");
         w->set_data_type(onnx::TensorProto::COMPLEX64);
         w->clear_dims();
         w->add_dims(int64_t{1} << 62);
         w->clear_raw_data();
         w->add_float_data(1);
         return model;
       }),
       Fails(kFormat, "tensor byte size overflows int64")});
  add({"tensor_over_element_limit", Writes([] {
         onnx::ModelProto model = ValidModel();
         onnx::TensorProto* w = Initializer(&model, "W");
         w->set_dims(0, int64_t{1} << 31);
         return model;
       }),
       Fails(kUnsupported,
             "tensor 'W' [2147483648,2,1,1] has 4294967296 elements, over "
             "foldrt's limit of 2147483648 elements per tensor")});
  add({"raw_data_length_mismatch", Writes([] {
         onnx::ModelProto model = ValidModel();
         Initializer(&model, "W")->mutable_raw_data()->resize(21);
         return model;
       }),
       Fails(kFormat, "21 data bytes, but 6 elements of FLOAT need 24")});
  add({"typed_data_count_mismatch", Writes([] {
         onnx::ModelProto model = ValidModel();
         onnx::TensorProto* b = Initializer(&model, "B");
         b->clear_raw_data();
         b->add_float_data(1);
         return model;
       }),
       Fails(kFormat, "1 values in float_data, but FLOAT [3] needs 3")});
  add({"no_data_type", Writes([] {
         onnx::ModelProto model = ValidModel();
         Initializer(&model, "B")->clear_data_type();
         return model;
       }),
       Fails(kFormat, "tensor 'B' has no data type")});
  add({"int64_weight_in_float_conv", Writes([] {
         onnx::ModelProto model = ValidModel();
         onnx::TensorProto* w = Initializer(&model, "W");
         w->set_data_type(onnx::TensorProto::INT64);
         w->set_raw_data(std::string(6 * sizeof(int64_t), '\1'));
         return model;
       }),
       Ok(), Fails(kInvalid, "weight W ('W') is int64, expected float32")});
  add({"zero_sized_weight_beside_full_bias", Writes([] {
         // W has no output channels, B and the BN still have 3: fold
         // leaves the BN alone (shape_mismatch), the runtime refuses.
         onnx::ModelProto model = ValidModel();
         onnx::TensorProto* w = Initializer(&model, "W");
         w->set_dims(0, 0);
         w->clear_raw_data();
         return model;
       }),
       Ok(), Fails(kInvalid, "node 'conv' (Conv): bias is (3), expected (0)")});
  add({"zero_output_channels", Writes([] {
         // Consistently empty: W (0, 2, 1, 1), B and the BN parameters (0).
         // A valid if useless model: it runs and yields a (1, 0, 4, 4)
         // tensor.
         onnx::ModelProto model = ValidModel();
         for (const char* name : {"W", "B", "scale", "bias", "mean", "var"}) {
           onnx::TensorProto* tensor = Initializer(&model, name);
           tensor->set_dims(0, 0);
           tensor->clear_raw_data();
         }
         return model;
       }),
       Ok(),
       Fails(kInvalid,
             "node 'conv' (Conv): Conv with W (0, 2, 1, 1): no weights")});
  add({"zero_batch_input", Writes([] {
         return ValidModel({"0", "2", "4", "4"});
       }),
       Ok()});

  // ---- declared shapes over the limits
  add({"fixed_input_over_element_limit", Writes([] {
         return ValidModel({"1", "2", "65536", "65536"});
       }),
       Ok(),
       Fails(kInvalid,
             "input 'x' (1, 2, 65536, 65536) would have 8589934592 elements, "
             "over the limit of 2147483648 elements per tensor")});
  add({"symbolic_input_over_element_limit", Writes([] {
         return ValidModel({"N", "2", "65536", "65536"});
       }),
       Ok(), Ok(),
       Fails(kInvalid,
             "input 'x' (1, 2, 65536, 65536) would have 8589934592 elements, "
             "over the limit of 2147483648 elements per tensor")});
  add({"intermediate_over_element_limit", Writes([] {
         onnx::ModelProto model = ValidModel();
         *NodeNamed(&model, "conv")->add_attribute() =
             IntsAttribute("pads", {0, 0, 40000, 40000});
         return model;
       }),
       Ok(),
       Fails(kInvalid,
             "value 'y' (1, 3, 40004, 40004) would have 4800960048 elements, "
             "over the limit of 2147483648 elements per tensor")});

  // ---- external data
  add({"external_data_dot_dot",
       Writes([] { return ExternalWeightModel("../outside.bin"); }),
       Fails(kFormat,
             "external data location '../outside.bin' leaves the "
             "model's folder")});
  add({"external_data_absolute_path",
       Writes([] { return ExternalWeightModel("/etc/passwd"); }),
       Fails(kFormat,
             "external data location '/etc/passwd' is an absolute "
             "path")});
  add({"external_data_symlink_escape",
       [](const fs::path& dir, const fs::path& outside) {
         WriteFile(outside / "outside.bin", WeightBytes());
         fs::create_symlink(outside / "outside.bin", dir / "link.bin");
         WriteFile(dir / "model.onnx",
                   ExternalWeightModel("link.bin").SerializeAsString());
       },
       Fails(kFormat, "outside the model's folder")});
  add({"external_data_missing_file",
       Writes([] { return ExternalWeightModel("absent.bin"); }),
       Fails(kIo, "cannot open external data file")});
  add({"external_data_offset_past_end",
       [](const fs::path& dir, const fs::path&) {
         WriteFile(dir / "w.bin", WeightBytes());
         WriteFile(dir / "model.onnx",
                   ExternalWeightModel("w.bin", "1000").SerializeAsString());
       },
       Fails(kFormat, "external data offset 1000 is past the end")});
  add({"external_data_length_past_end",
       [](const fs::path& dir, const fs::path&) {
         WriteFile(dir / "w.bin", WeightBytes());
         WriteFile(dir / "model.onnx",
                   ExternalWeightModel("w.bin", "8", "24").SerializeAsString());
       },
       Fails(kFormat, "external data offset 8 + length 24 is past the end")});
  add({"external_data_bad_offset",
       [](const fs::path& dir, const fs::path&) {
         WriteFile(dir / "w.bin", WeightBytes());
         WriteFile(dir / "model.onnx",
                   ExternalWeightModel("w.bin", "-8").SerializeAsString());
       },
       Fails(kFormat,
             "external data offset '-8' is not a non-negative "
             "integer")});
  add({"external_data_is_a_folder",
       Writes([] { return ExternalWeightModel("."); }),
       Fails(kFormat, "is not a regular file")});
  add({"external_data_is_a_fifo",
       [](const fs::path& dir, const fs::path&) {
         // Opening a FIFO blocks until a writer comes: it must be refused
         // before it is opened.
         ASSERT_EQ(mkfifo((dir / "pipe.bin").c_str(), 0600), 0);
         WriteFile(dir / "model.onnx",
                   ExternalWeightModel("pipe.bin").SerializeAsString());
       },
       Fails(kFormat, "is not a regular file")});

  // ---- malformed .npy inputs (the model is fine)
  const Outcome model_ok = Ok();
  auto add_npy = [&](const std::string& name, std::string npy,
                     Outcome outcome) {
    HostileCase c{name, WritesNpy(std::move(npy)), model_ok};
    c.npy = std::move(outcome);
    add(std::move(c));
  };
  add_npy("npy_bad_magic", "\x93NUMPX" + Npy(GoodNpyDict(), 128).substr(6),
          Fails(kFormat, "not a .npy file (bad magic)"));
  add_npy("npy_bad_header",
          Npy("{'descr': '<f4', 'fortran_order': False, }", 128),
          Fails(kFormat, "malformed .npy header: no 'shape' entry"));
  add_npy("npy_bad_dimension", Npy(NpyDict("<f4", false, "(1, x)"), 128),
          Fails(kFormat, "malformed .npy header: bad dimension in shape"));
  add_npy("npy_truncated_header", Npy(GoodNpyDict(), 0).substr(0, 40),
          Fails(kFormat, "truncated .npy header"));
  add_npy("npy_wrong_dtype", Npy(NpyDict("<f8", false, "(1, 2, 4, 4)"), 256),
          Fails(kFormat, "unsupported .npy dtype '<f8'"));
  add_npy("npy_big_endian", Npy(NpyDict(">f4", false, "(1, 2, 4, 4)"), 128),
          Fails(kFormat, "unsupported .npy dtype '>f4'"));
  add_npy("npy_short_data", Npy(GoodNpyDict(), 100),
          Fails(kFormat, ".npy data has 100 bytes but its shape needs 128"));
  add_npy("npy_shape_overflows",
          Npy(NpyDict("<f4", false, "(4294967296, 4294967296)"), 0),
          Fails(kFormat, "element count of the .npy shape overflows"));
  add_npy("npy_fortran_order", Npy(NpyDict("<f4", true, "(1, 2, 4, 4)"), 128),
          Fails(kFormat, "Fortran-order .npy arrays are not supported"));
  {
    HostileCase c{"npy_is_a_folder",
                  [](const fs::path& dir, const fs::path&) {
                    WriteFile(dir / "model.onnx",
                              ValidModel().SerializeAsString());
                    fs::create_directory(dir / "input.npy");
                  },
                  model_ok};
    c.npy = Fails(kIo, "is not a regular file");
    add(std::move(c));
  }
  return cases;
}

// ------------------------------------------------------------ the checks

// Runs `call`, and checks it has `want`'s outcome.
void ExpectOutcome(const std::string& what, const Outcome& want,
                   const std::function<void()>& call) {
  SCOPED_TRACE(what);
  try {
    call();
  } catch (const Error& error) {
    EXPECT_EQ(KindName(KindOf(error)), std::string(KindName(want.kind)))
        << error.what();
    if (want.kind != Kind::kNone) {
      EXPECT_THAT(error.what(), HasSubstr(want.message));
    }
    return;
  } catch (const std::exception& error) {
    ADD_FAILURE() << "not a foldrt::Error: " << error.what();
    return;
  }
  EXPECT_EQ(want.kind, Kind::kNone)
      << "no error; expected " << KindName(want.kind) << ": " << want.message;
}

// Every path below `root`, relative, sorted.
std::vector<std::string> Listing(const fs::path& root) {
  std::vector<std::string> names;
  for (const auto& entry : fs::recursive_directory_iterator(root)) {
    names.push_back(fs::relative(entry.path(), root).string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

class HostileTest : public ::testing::TestWithParam<HostileCase> {
 protected:
  void SetUp() override {
    std::string pattern =
        (fs::temp_directory_path() / "foldrt_hostile_XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    root_ = pattern;
    outside_ = root_ / "outside";
    dir_ = outside_ / "model";
    fs::create_directories(dir_);
    GetParam().write(dir_, outside_);
    if (const char* corpus = std::getenv("FOLDRT_HOSTILE_CORPUS_DIR")) {
      for (const char* file : {"model.onnx", "input.npy"}) {
        if (!fs::is_regular_file(dir_ / file)) continue;
        const std::string extension = fs::path(file).extension().string();
        fs::copy_file(dir_ / file,
                      fs::path(corpus) / (GetParam().name + extension),
                      fs::copy_options::overwrite_existing);
      }
    }
  }
  void TearDown() override {
    std::error_code error;
    fs::remove_all(root_, error);
  }

  std::string Path(const std::string& name) const {
    return (dir_ / name).string();
  }

  // Runs the foldrt binary; a case that hangs is killed after 60 s.
  testing::CliResult Cli(const std::vector<std::string>& args) {
    return testing::RunBinary(FOLDRT_BINARY, args, root_, 60);
  }

  // A CLI run with `want`'s outcome; a failure is one "foldrt: error:" line
  // and exit 1, and leaves the model folder as it was.
  void ExpectCli(const std::vector<std::string>& args, const Outcome& want) {
    std::string command;
    for (const std::string& arg : args) command += " " + arg;
    SCOPED_TRACE("foldrt" + command);
    const std::vector<std::string> before = Listing(dir_);
    const testing::CliResult result = Cli(args);
    EXPECT_EQ(result.signal, 0) << "killed by signal " << result.signal << "\n"
                                << result.err;
    if (want.kind == Kind::kNone) {
      EXPECT_EQ(result.exit_code, 0) << result.err;
      return;
    }
    EXPECT_EQ(result.exit_code, 1) << result.err;
    EXPECT_EQ(result.err.rfind("foldrt: error: ", 0), 0u) << result.err;
    EXPECT_EQ(std::count(result.err.begin(), result.err.end(), '\n'), 1)
        << result.err;
    EXPECT_THAT(result.err, HasSubstr(want.message));
    EXPECT_EQ(Listing(dir_), before);
  }

  fs::path root_;
  fs::path outside_;
  fs::path dir_;
};

TEST_P(HostileTest, Library) {
  const HostileCase& c = GetParam();
  const std::string model = Path("model.onnx");
  ExpectOutcome("LoadOnnxModel", c.import,
                [&] { graph::LoadOnnxModel(model); });
  ExpectOutcome("Session::Load", c.session.value_or(c.import), [&] {
    runtime::SessionOptions options;
    options.threads = 1;
    runtime::Session::Load(model, options);
  });
  if (c.npy) {
    ExpectOutcome("ReadNpyF32", *c.npy, [&] { ReadNpyF32(Path("input.npy")); });
  }
}

TEST_P(HostileTest, Cli) {
  const HostileCase& c = GetParam();
  const std::string model = Path("model.onnx");
  ExpectCli({"fold", model, "-o", Path("folded.onnx"), "--report",
             Path("report.json")},
            c.fold.value_or(c.import));
  std::error_code error;
  fs::remove(Path("folded.onnx"), error);
  fs::remove(Path("report.json"), error);
  ExpectCli({"inspect", model}, c.inspect.value_or(c.import));
  const Outcome session = c.session.value_or(c.import);
  ExpectCli({"run", model, "--threads", "1", "--output-dir", Path("out")},
            c.run.value_or(session));
  fs::remove_all(Path("out"), error);
  if (c.npy) {
    ExpectCli({"run", model, "--threads", "1", "--input", Path("input.npy"),
               "--output-dir", Path("out")},
              *c.npy);
    const std::string params = (root_ / "bn_params.npy").string();
    const std::vector<float> bn = {1, 1, 0, 0, 0, 0, 1, 1};
    WriteNpyF32(params, {4, 2}, bn.data());
    ExpectCli({"batchnorm", "--input", Path("input.npy"), "--params", params,
               "--output", Path("y.npy")},
              *c.npy);
  }
}

INSTANTIATE_TEST_SUITE_P(Cases, HostileTest, ::testing::ValuesIn(Cases()),
                         [](const ::testing::TestParamInfo<HostileCase>& info) {
                           return info.param.name;
                         });

// ------------------------------------------------------------ the limits

// The limits themselves, lowered so that small files exceed them.
class LimitsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern =
        (fs::temp_directory_path() / "foldrt_limits_XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
  }
  void TearDown() override {
    std::error_code error;
    fs::remove_all(dir_, error);
  }
  fs::path dir_;
};

TEST_F(LimitsTest, ModelBytesCountTheFileAndItsExternalData) {
  WriteFile(dir_ / "w.bin", WeightBytes());
  const std::string bytes = ExternalWeightModel("w.bin").SerializeAsString();
  WriteFile(dir_ / "model.onnx", bytes);
  const std::string model = (dir_ / "model.onnx").string();

  graph::ImportLimits limits;
  limits.max_model_bytes = bytes.size() + 24;  // exactly enough
  EXPECT_NO_THROW(graph::LoadOnnxModel(model, limits));
  limits.max_model_bytes = bytes.size() + 23;
  try {
    graph::LoadOnnxModel(model, limits);
    ADD_FAILURE() << "no error";
  } catch (const UnsupportedError& error) {
    EXPECT_THAT(error.what(),
                HasSubstr("tensor 'W': reading its 24 bytes of external data "
                          "would take the model past foldrt's limit of " +
                          std::to_string(bytes.size() + 23) + " bytes"));
  }
  limits.max_model_bytes = bytes.size() - 1;
  try {
    graph::LoadOnnxModel(model, limits);
    ADD_FAILURE() << "no error";
  } catch (const UnsupportedError& error) {
    EXPECT_THAT(error.what(),
                HasSubstr("model file is " + std::to_string(bytes.size()) +
                          " bytes, over foldrt's limit"));
  }
  try {
    graph::ParseOnnxModel(bytes.data(), bytes.size(), "memory", limits);
    ADD_FAILURE() << "no error";
  } catch (const UnsupportedError& error) {
    EXPECT_THAT(error.what(),
                HasSubstr("model is " + std::to_string(bytes.size()) +
                          " bytes, over foldrt's limit"));
  }

  runtime::SessionOptions options;
  options.threads = 1;
  options.max_model_bytes = bytes.size() + 23;
  EXPECT_THROW(runtime::Session::Load(model, options), UnsupportedError);
  options.max_model_bytes = bytes.size() + 24;
  EXPECT_NO_THROW(runtime::Session::Load(model, options));
}

TEST_F(LimitsTest, TensorElementsAtImportLoadAndRun) {
  // Symbolic batch: nothing is planned at load.
  const std::string bytes =
      ValidModel({"N", "2", "4", "4"}).SerializeAsString();
  graph::ImportLimits limits;
  limits.max_tensor_elements = 6;  // W has 6
  EXPECT_NO_THROW(
      graph::ParseOnnxModel(bytes.data(), bytes.size(), "m", limits));
  limits.max_tensor_elements = 5;
  try {
    graph::ParseOnnxModel(bytes.data(), bytes.size(), "m", limits);
    ADD_FAILURE() << "no error";
  } catch (const UnsupportedError& error) {
    EXPECT_THAT(error.what(),
                HasSubstr("tensor 'W' [3,2,1,1] has 6 elements, over "
                          "foldrt's limit of 5 elements per tensor"));
  }

  runtime::SessionOptions options;
  options.threads = 1;
  options.max_tensor_elements = 5;
  EXPECT_THROW(runtime::Session::FromBytes(bytes.data(), bytes.size(), options),
               UnsupportedError);
  // In-memory models get the same check.
  graph::Model model = graph::ParseOnnxModel(bytes.data(), bytes.size(), "m");
  try {
    runtime::Session::FromModel(model, options);
    ADD_FAILURE() << "no error";
  } catch (const UnsupportedError& error) {
    EXPECT_THAT(error.what(),
                HasSubstr("initializer 'W' (3, 2, 1, 1) has 6 elements"));
  }

  // x (N, 2, 4, 4) has 32 N elements, y (N, 3, 4, 4) 48 N. A limit of 48
  // runs batch 1; 40 refuses y (naming it and its node), and at batch 2
  // already the input.
  options.max_tensor_elements = 48;
  const std::unique_ptr<runtime::Session> session =
      runtime::Session::FromBytes(bytes.data(), bytes.size(), options);
  const std::vector<float> x1(32, 1.0f);
  EXPECT_NO_THROW(session->Run({{"x", Tensor::FromFloats({1, 2, 4, 4}, x1)}}));
  options.max_tensor_elements = 40;
  const std::unique_ptr<runtime::Session> smaller =
      runtime::Session::FromBytes(bytes.data(), bytes.size(), options);
  try {
    smaller->Run({{"x", Tensor::FromFloats({1, 2, 4, 4}, x1)}});
    ADD_FAILURE() << "no error";
  } catch (const InvalidArgumentError& error) {
    EXPECT_THAT(error.what(),
                HasSubstr("value 'y' (1, 3, 4, 4) would have 48 elements, "
                          "over the limit of 40 elements per tensor"));
    EXPECT_EQ(error.context().node, "conv");
  }
  const std::vector<float> x2(64, 1.0f);
  try {
    smaller->Run({{"x", Tensor::FromFloats({2, 2, 4, 4}, x2)}});
    ADD_FAILURE() << "no error";
  } catch (const InvalidArgumentError& error) {
    EXPECT_THAT(error.what(), HasSubstr("input 'x' (2, 2, 4, 4) would have "
                                        "64 elements"));
  }

  options.max_tensor_elements = 0;
  EXPECT_THROW(runtime::Session::FromBytes(bytes.data(), bytes.size(), options),
               InvalidArgumentError);
}

}  // namespace
}  // namespace foldrt
