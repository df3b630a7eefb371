#include "runtime/session.h"

#include <algorithm>
#include <cstdlib>
#include <optional>
#include <utility>

#include "core/error.h"
#include "core/logging.h"
#include "graph/onnx_io.h"
#include "graph/passes/batch_norm_fold.h"
#include "runtime/program.h"

namespace foldrt::runtime {
namespace {

// Plans kept per session. A server feeding ever new batch sizes would
// otherwise grow the cache without bound; past this many the cache starts
// over (plans in use stay alive through their shared_ptr).
constexpr size_t kMaxCachedPlans = 64;

std::optional<std::vector<Dimension>> ToDimensions(
    const graph::ValueInfo& info) {
  if (!info.shape) return std::nullopt;
  std::vector<Dimension> dims;
  for (const graph::Dim& dim : *info.shape) {
    Dimension d;
    if (dim.kind == graph::Dim::Kind::kKnown) d.value = dim.value;
    if (dim.kind == graph::Dim::Kind::kSymbolic) d.symbol = dim.symbol;
    dims.push_back(std::move(d));
  }
  return dims;
}

std::string Describe(const Tensor& tensor) {
  return std::string(DataTypeName(tensor.dtype())) + " " +
         ShapeToString(tensor.shape());
}

// Checked before the import too, which takes the limits from them.
void CheckOptions(const SessionOptions& options, const std::string& source) {
  const ErrorContext context{source, "", ""};
  if (options.threads < 0) {
    throw InvalidArgumentError(
        "threads is " + std::to_string(options.threads) +
            "; expected 0 (all cores) or a positive count",
        context);
  }
  if (options.max_tensor_elements <= 0 || options.max_model_bytes == 0) {
    throw InvalidArgumentError(
        "max_tensor_elements and max_model_bytes must be positive", context);
  }
}

graph::ImportLimits ImportLimitsOf(const SessionOptions& options) {
  graph::ImportLimits limits;
  limits.max_model_bytes = options.max_model_bytes;
  limits.max_tensor_elements = options.max_tensor_elements;
  return limits;
}

std::string ElementLimitText(int64_t limit) {
  return "over the limit of " + std::to_string(limit) +
         " elements per tensor (SessionOptions::max_tensor_elements)";
}

// A model built in memory skipped the importer's checks: apply the same
// per-tensor bound to its initializers before the folding passes and the
// compiler copy them.
void CheckInitializers(const graph::Graph& graph, int64_t limit,
                       const std::string& file) {
  for (size_t i = 0; i < graph.num_initializers(); ++i) {
    const graph::Tensor& tensor = graph.initializer(i);
    const int64_t count = tensor.NumElements();
    if (count > limit) {
      throw UnsupportedError("initializer '" + tensor.name() + "' " +
                                 ShapeToString(tensor.dims()) + " has " +
                                 std::to_string(count) + " elements, " +
                                 ElementLimitText(limit),
                             ErrorContext{file, "", ""});
    }
  }
}

// Every value a plan gives a shape (inputs, arena buffers, outputs, values
// computed while planning) against the per-tensor bound, before a run
// allocates any of them; the error names the value and the node computing
// it.
SessionOptions::Layouts ParseLayoutsPolicy(const std::string& name,
                                           const std::string& file) {
  using L = SessionOptions::Layouts;
  const std::pair<const char*, L> names[] = {{"auto", L::kAuto},
                                             {"plain", L::kPlain},
                                             {"nhwc", L::kNhwc},
                                             {"nChw8c", L::kNChw8c},
                                             {"nChw16c", L::kNChw16c}};
  for (const auto& [text, value] : names) {
    if (name == text) return value;
  }
  throw InvalidArgumentError("FOLDRT_LAYOUTS is '" + name +
                                 "'; expected auto, plain, nhwc, nChw8c or "
                                 "nChw16c",
                             ErrorContext{file, "", ""});
}

void CheckPlannedSizes(const Program& program, const Plan& plan,
                       int64_t limit) {
  // The values the planner added are copies of these, in other layouts.
  for (size_t id = 0; id < program.values.size(); ++id) {
    const PlannedValue& value = plan.values[id];
    if (value.kind == PlannedValue::Kind::kUnset) continue;
    const int64_t count = ShapeNumElements(value.shape);
    if (count <= limit) continue;
    const std::string& name = program.values[id].name;
    ErrorContext context{program.source, "", ""};
    for (const ProgramStep& step : program.steps) {
      if (std::find(step.outputs.begin(), step.outputs.end(),
                    static_cast<int>(id)) != step.outputs.end()) {
        context.node = step.node;
        context.op = step.op;
      }
    }
    throw InvalidArgumentError(
        std::string(value.kind == PlannedValue::Kind::kInput ? "input"
                                                             : "value") +
            " '" + name + "' " + ShapeToString(value.shape) + " would have " +
            std::to_string(count) + " elements, " + ElementLimitText(limit),
        context);
  }
}

}  // namespace

std::string Dimension::ToString() const {
  if (known()) return std::to_string(value);
  return symbol.empty() ? "?" : symbol;
}

std::string ValueInfo::ShapeString() const {
  if (!shape) return "(unknown rank)";
  std::string s = "(";
  for (size_t i = 0; i < shape->size(); ++i) {
    if (i > 0) s += ", ";
    s += (*shape)[i].ToString();
  }
  return s + ")";
}

std::unique_ptr<Session> Session::Load(const std::string& path,
                                       SessionOptions options) {
  CheckOptions(options, path);
  return FromModel(graph::LoadOnnxModel(path, ImportLimitsOf(options)),
                   options);
}

std::unique_ptr<Session> Session::FromBytes(const void* data, size_t size,
                                            SessionOptions options) {
  CheckOptions(options, "<memory>");
  return FromModel(
      graph::ParseOnnxModel(data, size, "<memory>", ImportLimitsOf(options)),
      options);
}

std::unique_ptr<Session> Session::FromModel(graph::Model model,
                                            SessionOptions options) {
  return std::unique_ptr<Session>(new Session(std::move(model), options));
}

Session::~Session() = default;

Session::Session(graph::Model model, SessionOptions options)
    : options_(options), source_(model.source) {
  CheckOptions(options_, source_);
  if (ops::BatchNormImplFromEnv() == ops::BatchNormImpl::kRef) {
    options_.reference_kernels = true;
  }
  if (const char* env = std::getenv("FOLDRT_LAYOUTS")) {
    options_.layouts = ParseLayoutsPolicy(env, source_);
  }
  if (const char* env = std::getenv("FOLDRT_WINOGRAD")) {
    const std::string value = env;
    if (value != "0" && value != "1") {
      throw InvalidArgumentError(
          "FOLDRT_WINOGRAD is '" + value + "'; expected 0 or 1",
          ErrorContext{source_, "", ""});
    }
    options_.winograd = value == "1";
  }
  threads_ = ops::ResolveThreadCount(options_.threads);
  graph::VerifyModel(model);
  CheckInitializers(model.graph, options_.max_tensor_elements, source_);
  if (options_.fold) {
    fold_report_ = graph::FoldBatchNormalization(model);
  } else {
    fold_report_.model = source_;
  }

  CompileOptions compile;
  compile.kernels.reference_kernels = options_.reference_kernels;
  compile.kernels.winograd = options_.winograd;
  compile.kernels.threads = threads_;
  switch (options_.layouts) {
    case SessionOptions::Layouts::kNhwc:
      compile.kernels.conv_layout = ops::Layout::kNhwc;
      break;
    case SessionOptions::Layouts::kNChw8c:
      compile.kernels.conv_layout = ops::Layout::kNChw8c;
      break;
    case SessionOptions::Layouts::kNChw16c:
      compile.kernels.conv_layout = ops::Layout::kNChw16c;
      break;
    default:
      break;
  }
  compile.kernels.batch_norm_impl = options_.bn_kernel;
  compile.threads = threads_;
  compile.max_tensor_elements = options_.max_tensor_elements;
  program_ = CompileProgram(model, compile);

  for (size_t i = 0; i < model.graph.inputs().size(); ++i) {
    const graph::ValueInfo& info = model.graph.inputs()[i];
    inputs_.push_back(
        ValueInfo{info.name, program_->values[program_->input_values[i]].dtype,
                  ToDimensions(info)});
  }
  for (size_t k = 0; k < program_->output_names.size(); ++k) {
    const std::string& name = program_->output_names[k];
    const graph::ValueInfo* declared = nullptr;
    for (const graph::ValueInfo& info : model.graph.outputs()) {
      if (info.name == name) declared = &info;
    }
    outputs_.push_back(ValueInfo{
        name, program_->values[program_->output_values[k]].dtype,
        declared != nullptr ? ToDimensions(*declared) : std::nullopt});
  }
  Logger().info(
      "{}: {} kernels ({} fused activations), {} nodes computed at load, {} "
      "of {} BatchNormalization folded, {} threads{}",
      source_, program_->steps.size(), program_->fused_activations,
      program_->folded_constants,
      fold_report_.batch_norms.size() -
          fold_report_.CountFate(graph::BatchNormFate::kNotFolded),
      fold_report_.batch_norms.size(), threads_,
      options_.reference_kernels ? ", reference kernels" : "");

  // The program holds everything from here on (its constants are copies of
  // the initializers): free the graph before planning rather than when the
  // constructor returns.
  model = graph::Model();

  // A model without symbolic dims has exactly one signature: plan it now,
  // so that shape errors surface at load.
  std::vector<std::vector<int64_t>> fixed_shapes;
  for (const ValueInfo& input : inputs_) {
    if (!input.shape) return;
    std::vector<int64_t> dims;
    for (const Dimension& d : *input.shape) {
      if (!d.known()) return;
      dims.push_back(d.value);
    }
    fixed_shapes.push_back(std::move(dims));
  }
  PlanFor(fixed_shapes);
}

std::shared_ptr<const Plan> Session::PlanFor(
    const std::vector<std::vector<int64_t>>& shapes) const {
  std::vector<int64_t> key;
  for (const std::vector<int64_t>& shape : shapes) {
    key.push_back(static_cast<int64_t>(shape.size()));
    key.insert(key.end(), shape.begin(), shape.end());
  }
  {
    std::lock_guard<std::mutex> lock(plans_mutex_);
    const auto it = plans_.find(key);
    if (it != plans_.end()) return it->second;
  }
  // Planned outside the lock: runs of other signatures need not wait. Two
  // threads may plan the same signature at once; the first insert wins.
  PlanOptions plan_options;
  plan_options.threads = threads_;
  plan_options.blocked_layouts =
      options_.layouts != SessionOptions::Layouts::kPlain;
  std::shared_ptr<const Plan> plan = BuildPlan(*program_, shapes, plan_options);
  CheckPlannedSizes(*program_, *plan, options_.max_tensor_elements);
  std::lock_guard<std::mutex> lock(plans_mutex_);
  if (plans_.size() >= kMaxCachedPlans) plans_.clear();
  return plans_.emplace(std::move(key), std::move(plan)).first->second;
}

void CheckValueName(const std::string& name,
                    const std::vector<ValueInfo>& values,
                    const std::string& role, const ErrorContext& context) {
  std::string names;
  for (const ValueInfo& info : values) {
    if (info.name == name) return;
    names += (names.empty() ? "'" : ", '") + info.name + "'";
  }
  throw InvalidArgumentError("'" + name + "' is not an " + role +
                                 " of the model (its " + role + "s: " + names +
                                 ")",
                             context);
}

std::map<std::string, Tensor> Session::Run(
    const std::map<std::string, Tensor>& inputs) const {
  const ErrorContext context{source_, "", ""};
  for (const auto& [name, tensor] : inputs) {
    CheckValueName(name, inputs_, "input", context);
  }
  std::vector<const Tensor*> ordered;
  std::vector<std::vector<int64_t>> shapes;
  std::map<std::string, std::pair<int64_t, std::string>> symbols;
  for (const ValueInfo& info : inputs_) {
    const auto it = inputs.find(info.name);
    if (it == inputs.end()) {
      throw InvalidArgumentError("input '" + info.name + "' is missing",
                                 context);
    }
    const Tensor& tensor = it->second;
    const std::string declared =
        std::string(DataTypeName(info.dtype)) + " " + info.ShapeString();
    if (tensor.dtype() != info.dtype) {
      throw InvalidArgumentError("input '" + info.name + "' is " +
                                     Describe(tensor) +
                                     ", the model declares " + declared,
                                 context);
    }
    if (info.shape) {
      const std::vector<Dimension>& dims = *info.shape;
      if (dims.size() != tensor.rank()) {
        throw InvalidArgumentError(
            "input '" + info.name + "' has rank " +
                std::to_string(tensor.rank()) + " " + Describe(tensor) +
                ", the model declares rank " + std::to_string(dims.size()) +
                " " + declared,
            context);
      }
      for (size_t d = 0; d < dims.size(); ++d) {
        const int64_t actual = tensor.shape()[d];
        if (dims[d].known() && dims[d].value != actual) {
          throw InvalidArgumentError(
              "input '" + info.name + "' is " + Describe(tensor) +
                  ", the model declares " + declared + " (axis " +
                  std::to_string(d) + " must be " +
                  std::to_string(dims[d].value) + ")",
              context);
        }
        if (dims[d].symbolic()) {
          const auto [seen, inserted] = symbols.emplace(
              dims[d].symbol, std::make_pair(actual, info.name));
          if (!inserted && seen->second.first != actual) {
            throw InvalidArgumentError(
                "input '" + info.name + "' has " + dims[d].symbol + " = " +
                    std::to_string(actual) + " (axis " + std::to_string(d) +
                    "), input '" + seen->second.second + "' has " +
                    dims[d].symbol + " = " +
                    std::to_string(seen->second.first) +
                    "; a symbolic dim takes one size across all inputs",
                context);
          }
        }
      }
    }
    ordered.push_back(&tensor);
    shapes.push_back(tensor.shape());
  }
  const std::shared_ptr<const Plan> plan = PlanFor(shapes);
  return ExecutePlan(*program_, *plan, ordered, threads_);
}

}  // namespace foldrt::runtime
