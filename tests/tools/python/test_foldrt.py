"""Tests of the foldrt Python module (tools/python/foldrt_module.cc).

CTest runs them with the interpreter the module was built for:

    PYTHONPATH=build/tools/python /usr/bin/python3 tests/tools/python/test_foldrt.py

Models, inputs and torch references come from tests/data (MANIFEST.json).
"""

import gc
import json
import os
import tempfile
import threading
import unittest

import numpy as np

import foldrt

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
DATA = os.path.join(ROOT, "tests", "data")

with open(os.path.join(DATA, "MANIFEST.json")) as f:
    MANIFEST = json.load(f)["models"]
MODELS = {m["name"]: m for m in MANIFEST}


def data_path(file):
    return os.path.join(DATA, file)


def feed_of(model):
    return {
        spec["name"]: np.load(data_path(file))
        for spec, file in zip(model["inputs"], model["input_files"])
    }


def references(model):
    return [np.load(data_path(file)) for file in model["output_files"]]


def assert_close_to_torch(test, got, want, what):
    """The runtime tests' tolerance (tests/runtime/test_models.h)."""
    test.assertEqual(got.dtype, np.float32, what)
    test.assertEqual(got.shape, want.shape, what)
    got64, want64 = got.astype(np.float64), want.astype(np.float64)
    max_ref = np.max(np.abs(want64))
    test.assertGreater(max_ref, 0, what)
    rel_l2 = np.linalg.norm(got64 - want64) / np.linalg.norm(want64)
    max_abs = np.max(np.abs(got64 - want64))
    test.assertLessEqual(rel_l2, 1e-4, what)
    test.assertLessEqual(max_abs, 1e-3 * max_ref, what)


# --- a hand-built ONNX model with an int64 input ---------------------------
# No model in tests/data takes int64, and the onnx package is not a
# dependency, so the ModelProto is written field by field (onnx.proto
# numbers).


def _varint(n):
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _field(number, payload):
    """A length-delimited field (strings, bytes, sub-messages)."""
    if isinstance(payload, str):
        payload = payload.encode()
    return _varint(number << 3 | 2) + _varint(len(payload)) + payload


def _int_field(number, value):
    return _varint(number << 3) + _varint(value)


FLOAT, INT64 = 1, 7


def _value_info(name, elem_type, dims):
    shape = b"".join(
        _field(1, _field(2, d) if isinstance(d, str) else _int_field(1, d))
        for d in dims
    )
    tensor_type = _int_field(1, elem_type) + _field(2, shape)
    return _field(1, name) + _field(2, _field(1, tensor_type))


def _model(node, inputs, outputs):
    """An opset-13 ModelProto of one node; inputs/outputs: ValueInfos."""
    graph = _field(1, node) + _field(2, "graph")
    graph += b"".join(_field(11, v) for v in inputs)
    graph += b"".join(_field(12, v) for v in outputs)
    opset = _field(1, "") + _int_field(2, 13)
    return _int_field(1, 8) + _field(8, opset) + _field(7, graph)


def gather_model():
    """output[n, k, :] = table[ids[n, k], :]: Gather(table (5, 3) float,
    ids (N, 2) int64)."""
    node = (
        _field(1, "table") + _field(1, "ids") + _field(2, "rows")
        + _field(3, "gather") + _field(4, "Gather")
        + _field(5, _field(1, "axis") + _int_field(3, 0) + _int_field(20, 2))
    )
    return _model(node,
                  [_value_info("table", FLOAT, [5, 3]),
                   _value_info("ids", INT64, ["N", 2])],
                  [_value_info("rows", FLOAT, ["N", 2, 3])])


def det_model():
    """Det: a valid ai.onnx op the runtime does not implement."""
    node = (_field(1, "m") + _field(2, "d") + _field(3, "det")
            + _field(4, "Det"))
    return _model(node, [_value_info("m", FLOAT, [3, 3])],
                  [_value_info("d", FLOAT, [])])


class SessionTest(unittest.TestCase):
    def test_every_model_matches_torch_folded_and_unfolded(self):
        for model in MANIFEST:
            for fold in (True, False):
                with self.subTest(model=model["name"], fold=fold):
                    session = foldrt.Session(
                        data_path(model["file"]), threads=1, fold=fold)
                    outputs = session.run(None, feed_of(model))
                    want = references(model)
                    self.assertEqual(len(outputs), len(want))
                    for k, (got, ref) in enumerate(zip(outputs, want)):
                        assert_close_to_torch(
                            self, got, ref, f"{model['name']} output {k}")

    def test_inputs_and_outputs_describe_the_model(self):
        for model in MANIFEST:
            with self.subTest(model=model["name"]):
                session = foldrt.Session(data_path(model["file"]))
                for args, specs in ((session.get_inputs(), model["inputs"]),
                                    (session.get_outputs(), model["outputs"])):
                    self.assertEqual([a.name for a in args],
                                     [s["name"] for s in specs])
                    self.assertEqual([a.shape for a in args],
                                     [s["shape"] for s in specs])
                    self.assertEqual([a.type for a in args],
                                     ["tensor(float)"] * len(specs))
        arg = foldrt.Session(data_path("conv2d_bn.onnx")).get_inputs()[0]
        self.assertIsInstance(arg.shape[0], str)
        self.assertIsInstance(arg.shape[1], int)
        self.assertEqual(
            repr(arg),
            f"NodeArg(name='input', type='tensor(float)', shape={arg.shape!r})")

    def test_output_names_choose_and_order_the_outputs(self):
        model = MODELS["conv_bn_two_outputs"]
        session = foldrt.Session(data_path(model["file"]))
        out0, out1 = references(model)
        feed = feed_of(model)

        [only] = session.run(["output1"], feed)
        assert_close_to_torch(self, only, out1, "output1 alone")
        second, first = session.run(["output1", "output0"], feed)
        assert_close_to_torch(self, second, out1, "output1 first")
        assert_close_to_torch(self, first, out0, "output0 second")
        # Asked twice: equal values, separate arrays.
        a, b = session.run(["output0", "output0"], feed)
        np.testing.assert_array_equal(a, b)
        a[...] = 0
        self.assertFalse(np.array_equal(a, b))

    def test_outputs_are_owned_writable_arrays(self):
        model = MODELS["resnet_basic_block"]
        session = foldrt.Session(data_path(model["file"]))
        [first] = session.run(None, feed_of(model))
        self.assertTrue(first.flags.c_contiguous)
        self.assertTrue(first.flags.writeable)
        first[...] = -1.0
        [second] = session.run(None, feed_of(model))
        assert_close_to_torch(self, second, references(model)[0], "rerun")
        # The arrays outlive the session that made them.
        del session
        gc.collect()
        assert_close_to_torch(self, second, references(model)[0], "after del")

    def test_input_layouts_and_python_lists(self):
        model = MODELS["conv2d_bn"]
        session = foldrt.Session(data_path(model["file"]))
        x = feed_of(model)["input"]
        [want] = session.run(None, {"input": x})
        # A Fortran-ordered copy, a strided view, a read-only array and a
        # nested list all hold the same values.
        fortran = np.asfortranarray(x)
        strided = np.repeat(x, 2, axis=-1)[..., ::2]
        self.assertFalse(strided.flags.c_contiguous)
        read_only = x.copy()
        read_only.setflags(write=False)
        for name, value in (("fortran", fortran), ("strided", strided),
                            ("read-only", read_only), ("list", x.tolist())):
            with self.subTest(name):
                [got] = session.run(None, {"input": value})
                np.testing.assert_array_equal(got, want)

    def test_bad_inputs_raise_value_errors(self):
        model = MODELS["conv2d_bn"]
        path = data_path(model["file"])
        session = foldrt.Session(path)
        x = feed_of(model)["input"]
        cases = {
            "float64": ({"input": x.astype(np.float64)},
                        "dtype float64, the model declares tensor(float)"),
            "int64 for float": ({"input": x.astype(np.int64)}, "dtype int64"),
            "missing": ({}, "input 'input' is missing"),
            "unknown": ({"input": x, "bogus": x},
                        "'bogus' is not an input of the model"),
            "rank": ({"input": x[0]}, "has rank 3"),
            "fixed dim": ({"input": x[:, :1]}, "axis 1 must be"),
        }
        for name, (feed, message) in cases.items():
            with self.subTest(name):
                with self.assertRaises(foldrt.InvalidArgumentError) as caught:
                    session.run(None, feed)
                self.assertIsInstance(caught.exception, ValueError)
                self.assertIsInstance(caught.exception, foldrt.Error)
                self.assertIn(message, str(caught.exception))
                # The message names the model, as the C++ one does.
                self.assertIn(path, str(caught.exception))
        with self.assertRaisesRegex(ValueError,
                                    "'nope' is not an output of the model"):
            session.run(["nope"], {"input": x})
        with self.assertRaises(TypeError):
            session.run("output", {"input": x})
        with self.assertRaises(TypeError):
            session.run(None, {"input": x, 3: x})

    def test_bad_models_and_options_raise(self):
        with self.assertRaises(foldrt.IoError) as caught:
            foldrt.Session(os.path.join(DATA, "no_such_model.onnx"))
        self.assertIsInstance(caught.exception, OSError)
        self.assertIn("no_such_model.onnx", str(caught.exception))
        with self.assertRaises(foldrt.FormatError) as caught:
            foldrt.Session(b"this is not an ONNX model")
        self.assertIsInstance(caught.exception, foldrt.Error)
        self.assertIsInstance(caught.exception, RuntimeError)
        with self.assertRaises(foldrt.UnsupportedError) as caught:
            foldrt.Session(det_model())
        self.assertIn("'det' (Det)", str(caught.exception))
        self.assertNotIsInstance(caught.exception, ValueError)
        with self.assertRaisesRegex(ValueError, "threads is -2"):
            foldrt.Session(data_path("conv2d_bn.onnx"), threads=-2)
        with self.assertRaises(TypeError):
            foldrt.Session(42)

    def test_path_like_and_bytes_load_the_same_model(self):
        import pathlib
        model = MODELS["mobilenetv2_inverted_residual"]
        path = data_path(model["file"])
        with open(path, "rb") as f:
            content = f.read()
        for source in (pathlib.Path(path), content):
            with self.subTest(type(source).__name__):
                session = foldrt.Session(source, threads=2)
                self.assertEqual(session.threads, 2)
                [got] = session.run(None, feed_of(model))
                assert_close_to_torch(self, got, references(model)[0],
                                      type(source).__name__)

    def test_int64_input(self):
        session = foldrt.Session(gather_model(), threads=1)
        self.assertEqual([(a.name, a.type, a.shape) for a in session.get_inputs()],
                         [("table", "tensor(float)", [5, 3]),
                          ("ids", "tensor(int64)", ["N", 2])])
        table = np.arange(15, dtype=np.float32).reshape(5, 3)
        ids = np.array([[4, 0], [1, 1], [3, 2]], dtype=np.int64)
        [rows] = session.run(["rows"], {"table": table, "ids": ids})
        np.testing.assert_array_equal(rows, table[ids])
        # A list takes the declared dtype; an int32 array is refused.
        [rows] = session.run(None, {"table": table, "ids": [[2, 2]]})
        np.testing.assert_array_equal(rows, table[[[2, 2]]])
        with self.assertRaisesRegex(ValueError, "dtype int32.*tensor\\(int64\\)"):
            session.run(None, {"table": table, "ids": ids.astype(np.int32)})
        # Floats never become indices by truncation.
        with self.assertRaisesRegex(ValueError, "dtype float64"):
            session.run(None, {"table": table, "ids": [[1.5, 0.0]]})
        # Raised inside Run, with the GIL released.
        with self.assertRaisesRegex(ValueError, "index 7"):
            session.run(None, {"table": table, "ids": np.array([[7, 0]])})

    def test_concurrent_runs_from_threads(self):
        model = MODELS["efficientnet_mbconv_se"]
        session = foldrt.Session(data_path(model["file"]), threads=1)
        feed, want = feed_of(model), references(model)[0]
        [expected] = session.run(None, feed)
        results, errors = [], []

        def work():
            try:
                for _ in range(5):
                    results.append(session.run(None, feed)[0])
            except Exception as e:  # reported below
                errors.append(e)

        threads = [threading.Thread(target=work) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual(errors, [])
        self.assertEqual(len(results), 20)
        for got in results:
            np.testing.assert_array_equal(got, expected)
        assert_close_to_torch(self, expected, want, "threads")

    def test_fold_report_of_a_session(self):
        model = MODELS["densenet_dense_block"]
        report = foldrt.Session(data_path(model["file"])).fold_report
        self.assertEqual([b["fold"] for b in report["batch_norms"]],
                         [b["fold"] for b in model["batchnorms"]])
        unfolded = foldrt.Session(data_path(model["file"]), fold=False)
        self.assertEqual(unfolded.fold_report["batch_norms"], [])


class FoldTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.addCleanup(self.tmp.cleanup)

    def test_fold_reports_the_manifest_fates_and_writes_a_loadable_model(self):
        for model in MANIFEST:
            with self.subTest(model=model["name"]):
                dst = os.path.join(self.tmp.name, model["file"])
                report = foldrt.fold(data_path(model["file"]), dst)
                self.assertIsInstance(report, dict)
                self.assertEqual(report["model"], data_path(model["file"]))
                self.assertTrue(report["forward_folding"])
                self.assertEqual(
                    [(b["node"], b["fold"]) for b in report["batch_norms"]],
                    [(b["node"], b["fold"]) for b in model["batchnorms"]])
                folded = sum(b["fold"] != "none" for b in model["batchnorms"])
                summary = report["summary"]
                self.assertEqual(summary["batch_norms"],
                                 len(model["batchnorms"]))
                self.assertEqual(
                    summary["folded_backward"] + summary["folded_forward"],
                    folded)
                for record in report["batch_norms"]:
                    if record["fold"] == "none":
                        self.assertIsNone(record["target"])
                    else:
                        self.assertEqual(record["target"]["op"],
                                         record["fold"].split(":")[1])

                # The folded file has only the BNs that stayed, and runs
                # (without folding again) to torch's result.
                session = foldrt.Session(dst, threads=1, fold=False)
                again = foldrt.Session(dst).fold_report
                self.assertEqual(again["summary"]["batch_norms"],
                                 len(model["batchnorms"]) - folded)
                outputs = session.run(None, feed_of(model))
                for k, (got, ref) in enumerate(zip(outputs,
                                                   references(model))):
                    assert_close_to_torch(self, got, ref,
                                          f"folded {model['name']} {k}")

    def test_forward_false_keeps_forward_folds(self):
        for name in ("bn_conv", "bn_linear"):
            with self.subTest(name):
                model = MODELS[name]
                self.assertTrue(model["batchnorms"][0]["fold"]
                                .startswith("forward:"))
                dst = os.path.join(self.tmp.name, name + ".onnx")
                report = foldrt.fold(data_path(model["file"]), dst,
                                     forward=False)
                self.assertFalse(report["forward_folding"])
                [record] = report["batch_norms"]
                self.assertEqual(record["fold"], "none")
                self.assertEqual(record["forward"]["reason"],
                                 "forward_disabled")
                [got] = foldrt.Session(dst).run(None, feed_of(model))
                assert_close_to_torch(self, got, references(model)[0], name)

    def test_dst_none_writes_nothing(self):
        report = foldrt.fold(data_path("conv2d_bn.onnx"), None)
        self.assertEqual(report["summary"]["folded_backward"], 1)
        self.assertEqual(os.listdir(self.tmp.name), [])

    def test_fold_errors(self):
        dst = os.path.join(self.tmp.name, "out.onnx")
        with self.assertRaises(foldrt.IoError):
            foldrt.fold(os.path.join(self.tmp.name, "missing.onnx"), dst)
        garbage = os.path.join(self.tmp.name, "garbage.onnx")
        with open(garbage, "wb") as f:
            f.write(b"\x08\x07 not a model")
        with self.assertRaises(foldrt.FormatError):
            foldrt.fold(garbage, dst)
        with self.assertRaises(foldrt.IoError):
            foldrt.fold(data_path("conv2d_bn.onnx"),
                        os.path.join(self.tmp.name, "no", "dir", "out.onnx"))
        # Nothing half-written is left behind.
        self.assertEqual(sorted(os.listdir(self.tmp.name)), ["garbage.onnx"])


if __name__ == "__main__":
    unittest.main()
