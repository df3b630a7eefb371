// The Python module `foldrt`: foldrt::runtime::Session with the surface of
// onnxruntime.InferenceSession, so code written for ONNX Runtime runs on
// foldrt by changing the constructor, and the offline BN fold of
// `foldrt fold`.
//
//   import foldrt, numpy as np
//   s = foldrt.Session("model.onnx", threads=1)
//   [y] = s.run(None, {s.get_inputs()[0].name: x})
//   report = foldrt.fold("model.onnx", "folded.onnx")
//
// Errors: every foldrt::Error becomes a foldrt.Error (a RuntimeError) with
// the C++ message (file, node and op included). The subclasses also derive
// from the matching built-in exception, so code that expects ONNX Runtime's
// or Python's conventions catches them too:
//   foldrt.InvalidArgumentError(Error, ValueError): bad inputs or options
//   foldrt.FormatError(Error): a malformed or inconsistent model
//   foldrt.UnsupportedError(Error): a valid model foldrt cannot run
//   foldrt.IoError(Error, OSError): a file could not be read or written
// Argument types pybind11 cannot convert raise TypeError.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cstdint>
#include <exception>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "graph/graph.h"
#include "graph/onnx_io.h"
#include "graph/passes/batch_norm_fold.h"
#include "graph/passes/fold_report.h"
#include "core/error.h"
#include "core/tensor.h"
#include "runtime/session.h"

namespace py = pybind11;

namespace foldrt::python {
namespace {

// The exception types, created when the module is imported. The module is
// never unloaded (CPython does not unload extension modules), so these
// references live as long as the interpreter.
struct ExceptionTypes {
  PyObject* error = nullptr;
  PyObject* invalid_argument = nullptr;
  PyObject* format = nullptr;
  PyObject* unsupported = nullptr;
  PyObject* io = nullptr;
};
ExceptionTypes exception_types;

PyObject* AddExceptionType(py::module_& module, const char* name,
                           const py::tuple& bases, const char* doc) {
  const std::string qualified = std::string("foldrt.") + name;
  PyObject* type =
      PyErr_NewExceptionWithDoc(qualified.c_str(), doc, bases.ptr(), nullptr);
  if (type == nullptr) throw py::error_already_set();
  module.add_object(name, py::handle(type));
  return type;
}

void RegisterExceptions(py::module_& module) {
  ExceptionTypes& t = exception_types;
  t.error = AddExceptionType(module, "Error",
                             py::make_tuple(py::handle(PyExc_RuntimeError)),
                             "Base of every error foldrt raises.");
  const py::handle error(t.error);
  t.invalid_argument = AddExceptionType(
      module, "InvalidArgumentError",
      py::make_tuple(error, py::handle(PyExc_ValueError)),
      "Arguments that can never work: a missing or unknown input, a wrong "
      "dtype or shape, a bad option.");
  t.format = AddExceptionType(module, "FormatError", py::make_tuple(error),
                              "A malformed or inconsistent model file.");
  t.unsupported = AddExceptionType(
      module, "UnsupportedError", py::make_tuple(error),
      "A valid model using something foldrt does not implement.");
  t.io = AddExceptionType(module, "IoError",
                          py::make_tuple(error, py::handle(PyExc_OSError)),
                          "Reading or writing a file failed.");
  py::register_exception_translator([](std::exception_ptr thrown) {
    try {
      if (thrown) std::rethrow_exception(thrown);
    } catch (const InvalidArgumentError& e) {
      PyErr_SetString(exception_types.invalid_argument, e.what());
    } catch (const FormatError& e) {
      PyErr_SetString(exception_types.format, e.what());
    } catch (const UnsupportedError& e) {
      PyErr_SetString(exception_types.unsupported, e.what());
    } catch (const IoError& e) {
      PyErr_SetString(exception_types.io, e.what());
    } catch (const Error& e) {
      PyErr_SetString(exception_types.error, e.what());
    }
  });
}

// ONNX's type strings, as onnxruntime's NodeArg.type shows them.
const char* OnnxTypeName(DataType dtype) {
  return dtype == DataType::kInt64 ? "tensor(int64)" : "tensor(float)";
}

py::dtype NumpyDtype(DataType dtype) {
  return dtype == DataType::kInt64 ? py::dtype::of<int64_t>()
                                   : py::dtype::of<float>();
}

// onnxruntime.NodeArg's fields: shape is a list of ints (fixed dims),
// strings (symbolic dims) and None (unknown dims), or None when the model
// does not declare the rank.
struct NodeArg {
  std::string name;
  py::object shape;
  std::string type;
};

NodeArg ToNodeArg(const runtime::ValueInfo& info) {
  NodeArg arg{info.name, py::none(), OnnxTypeName(info.dtype)};
  if (info.shape) {
    py::list dims;
    for (const runtime::Dimension& dim : *info.shape) {
      if (dim.known()) {
        dims.append(dim.value);
      } else if (dim.symbolic()) {
        dims.append(dim.symbol);
      } else {
        dims.append(py::none());
      }
    }
    arg.shape = std::move(dims);
  }
  return arg;
}

py::list ToNodeArgs(const std::vector<runtime::ValueInfo>& infos) {
  py::list args;
  for (const runtime::ValueInfo& info : infos) args.append(ToNodeArg(info));
  return args;
}

py::object ReportToDict(const graph::FoldReport& report) {
  return py::module_::import("json").attr("loads")(
      graph::FoldReportToJson(report));
}

std::string PathArgument(const py::handle& path) {
  py::module_ os = py::module_::import("os");
  return os.attr("fsdecode")(os.attr("fspath")(path)).cast<std::string>();
}

std::unique_ptr<runtime::Session> NewSession(const py::object& model,
                                             int threads, bool fold) {
  runtime::SessionOptions options;
  options.threads = threads;
  options.fold = fold;
  if (py::isinstance<py::bytes>(model)) {
    // The bytes object is immutable and `model` keeps it alive, so its
    // buffer stays valid without the GIL.
    char* data = nullptr;
    Py_ssize_t size = 0;
    if (PyBytes_AsStringAndSize(model.ptr(), &data, &size) != 0) {
      throw py::error_already_set();
    }
    py::gil_scoped_release release;
    return runtime::Session::FromBytes(data, static_cast<size_t>(size),
                                       options);
  }
  const std::string path = PathArgument(model);
  py::gil_scoped_release release;
  return runtime::Session::Load(path, options);
}

// A float32 or int64 ndarray, C-contiguous and aligned, that a Tensor can
// view without copying. An ndarray of another dtype is refused rather than
// cast, as onnxruntime does: a silent float64 -> float32 cast hides a
// precision loss the caller did not ask for. Python lists and scalars have
// no dtype of their own and take the declared one, within their kind
// (floats never become int64 by truncation).
py::array InputArray(const py::handle& value, const std::string& name,
                     DataType declared, const std::string& model) {
  py::module_ numpy = py::module_::import("numpy");
  const py::dtype want = NumpyDtype(declared);
  py::array array;
  if (py::isinstance<py::array>(value)) {
    array = py::reinterpret_borrow<py::array>(value);
  } else {
    array = numpy.attr("asarray")(value);
    if (numpy.attr("can_cast")(array.dtype(), want, "same_kind").cast<bool>()) {
      array = array.attr("astype")(want);
    }
  }
  if (!array.dtype().equal(want)) {
    const std::string got =
        py::str(py::handle(array.dtype())).cast<std::string>();
    const std::string wanted = py::str(py::handle(want)).cast<std::string>();
    throw InvalidArgumentError(
        "input '" + name + "' has dtype " + got + ", the model declares " +
            OnnxTypeName(declared) + " (numpy " + wanted +
            "); convert it, e.g. x.astype(numpy." + wanted + ")",
        ErrorContext{model, "", ""});
  }
  // "C": C-contiguous, "A": aligned; a copy only when the array is not.
  return numpy.attr("require")(array, py::none(), "CA");
}

// Takes ownership of `tensor`'s storage: the array keeps a Tensor (which
// shares the storage) in a capsule, so no bytes are copied.
py::array ToNumpy(Tensor tensor) {
  auto* held = new Tensor(std::move(tensor));
  py::capsule owner(held, [](void* p) { delete static_cast<Tensor*>(p); });
  const std::vector<py::ssize_t> shape(held->shape().begin(),
                                       held->shape().end());
  return py::array(NumpyDtype(held->dtype()), shape, {}, held->raw_data(),
                   owner);
}

py::list RunSession(const runtime::Session& session,
                    const py::object& output_names, const py::dict& feed) {
  const ErrorContext context{session.source(), "", ""};
  std::vector<std::string> names;
  if (output_names.is_none()) {
    for (const runtime::ValueInfo& info : session.outputs()) {
      names.push_back(info.name);
    }
  } else {
    if (py::isinstance<py::str>(output_names)) {
      throw py::type_error(
          "output_names must be a list of output names or None, not a str");
    }
    for (const py::handle& item : output_names) {
      if (!py::isinstance<py::str>(item)) {
        throw py::type_error("output_names must hold str, not " +
                             py::repr(item).cast<std::string>());
      }
      const std::string name = py::cast<std::string>(item);
      runtime::CheckValueName(name, session.outputs(), "output", context);
      names.push_back(name);
    }
  }

  // The arrays stay referenced here until Run returns: the tensors are
  // views of their memory.
  std::vector<py::array> arrays;
  std::map<std::string, Tensor> inputs;
  for (const auto& [key, value] : feed) {
    if (!py::isinstance<py::str>(key)) {
      throw py::type_error("input_feed keys must be input names (str), not " +
                           py::repr(key).cast<std::string>());
    }
    const std::string name = py::cast<std::string>(key);
    const runtime::ValueInfo* declared = nullptr;
    for (const runtime::ValueInfo& info : session.inputs()) {
      if (info.name == name) declared = &info;
    }
    if (declared == nullptr) {
      // Session::Run names the unknown input and lists the real ones.
      inputs.emplace(name, Tensor());
      continue;
    }
    py::array array =
        InputArray(value, name, declared->dtype, session.source());
    const std::vector<int64_t> shape(array.shape(),
                                     array.shape() + array.ndim());
    inputs.emplace(name,
                   Tensor::ConstView(declared->dtype, shape, array.data()));
    arrays.push_back(std::move(array));
  }

  std::map<std::string, Tensor> outputs;
  {
    py::gil_scoped_release release;
    outputs = session.Run(inputs);
  }

  // One array per requested name; a name asked for twice, or two outputs
  // sharing one buffer, get separate copies so that writing into one array
  // never changes another.
  py::list result;
  std::set<const void*> handed_out;
  for (const std::string& name : names) {
    Tensor tensor = outputs.at(name);
    if (!tensor.owns_data() || !handed_out.insert(tensor.raw_data()).second) {
      tensor = tensor.Clone();
      handed_out.insert(tensor.raw_data());
    }
    result.append(ToNumpy(std::move(tensor)));
  }
  return result;
}

py::object Fold(const py::object& src, const py::object& dst, bool forward) {
  const std::string src_path = PathArgument(src);
  const std::string dst_path = dst.is_none() ? "" : PathArgument(dst);
  graph::FoldReport report;
  {
    py::gil_scoped_release release;
    graph::Model model = graph::LoadOnnxModel(src_path);
    graph::FoldOptions options;
    options.forward = forward;
    report = graph::FoldBatchNormalization(model, options);
    // Atomic (a temporary file renamed into place), so dst may be src.
    if (!dst_path.empty()) graph::SaveOnnxModel(model, dst_path);
  }
  return ReportToDict(report);
}

}  // namespace

void DefineModule(py::module_& module) {
  module.doc() =
      "foldrt: CPU inference for ONNX models with BatchNormalization folded "
      "into the neighbouring Conv / ConvTranspose / Gemm / MatMul.\n\n"
      "Session mirrors onnxruntime.InferenceSession (get_inputs, "
      "get_outputs, run); fold() is `foldrt fold`.";
  module.attr("__version__") = FOLDRT_VERSION;
  RegisterExceptions(module);

  py::class_<NodeArg>(module, "NodeArg",
                      "A model input or output, as onnxruntime.NodeArg.")
      .def_readonly("name", &NodeArg::name)
      .def_readonly("shape", &NodeArg::shape,
                    "Dims: int (fixed), str (symbolic, e.g. 'N'), None "
                    "(unknown); None when the rank is unknown.")
      .def_readonly("type", &NodeArg::type,
                    "'tensor(float)' or 'tensor(int64)'.")
      .def("__repr__", [](const NodeArg& arg) {
        return "NodeArg(name=" +
               py::repr(py::str(arg.name)).cast<std::string>() + ", type='" +
               arg.type +
               "', shape=" + py::repr(arg.shape).cast<std::string>() + ")";
      });

  py::class_<runtime::Session>(module, "Session", R"doc(
A loaded model, ready to run: Session(model, threads=0, fold=True).

model: a path (str or os.PathLike) to an .onnx file, or its bytes.
threads: threads each run uses; 0 = every core.
fold: fold BatchNormalization into neighbouring ops at load, as foldrt.fold
  does (the report is Session.fold_report); False runs every BN standalone.

Immutable once loaded; run() releases the GIL and may be called from
several threads at once.)doc")
      .def(py::init(&NewSession), py::arg("model"), py::arg("threads") = 0,
           py::arg("fold") = true)
      .def(
          "get_inputs",
          [](const runtime::Session& s) { return ToNodeArgs(s.inputs()); },
          "The inputs run() expects (list of NodeArg), in the model's order.")
      .def(
          "get_outputs",
          [](const runtime::Session& s) { return ToNodeArgs(s.outputs()); },
          "The model's outputs (list of NodeArg), in the model's order.")
      .def("run", &RunSession, py::arg("output_names"), py::arg("input_feed"),
           R"doc(
Runs the model: run(output_names, input_feed) -> list of numpy arrays.

output_names: the outputs to return, in that order; None = all, in the
  model's order.
input_feed: {input name: array} with every input. An ndarray must have the
  declared dtype (float32 for tensor(float), int64 for tensor(int64)); other
  dtypes raise InvalidArgumentError (a ValueError) instead of being cast.
  Non-contiguous arrays are copied; lists take the declared dtype (floats
  never become int64).)doc")
      .def_property_readonly(
          "fold_report",
          [](const runtime::Session& s) {
            return ReportToDict(s.fold_report());
          },
          "Where each BatchNormalization went at load (as foldrt.fold "
          "returns it); no batch_norms when fold=False.")
      .def_property_readonly("threads", &runtime::Session::threads,
                             "The thread count run() uses.");

  module.def("fold", &Fold, py::arg("src"), py::arg("dst"),
             py::arg("forward") = true, R"doc(
Folds every BatchNormalization of the model at src that can be folded
exactly and writes the result to dst (atomically; dst may be src, None
writes nothing). forward=False folds only into the preceding op. Returns
the fold report as a dict, the JSON of `foldrt fold --report`: "summary",
and per BN its "node", "fold" ("backward:Conv", "forward:Gemm", "none"),
"target" and the reasons it stayed.)doc");
}

}  // namespace foldrt::python

PYBIND11_MODULE(foldrt, module) { foldrt::python::DefineModule(module); }
