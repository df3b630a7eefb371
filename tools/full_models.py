#!/usr/bin/python3
"""Export torchvision models with BN kept, plus seeded inputs and float64 torch references.

Usage (Debian's system python, which sees apt's python3-torch / torchvision / onnx):

    /usr/bin/python3 tools/full_models.py --out DIR [--batches 1,3] resnet18 resnet50 ...

For each MODEL it writes DIR/MODEL.onnx (exactly what tools/export_torchvision.py writes:
seeded random init, non-trivial BN statistics, TrainingMode.PRESERVE), and for each batch
size B DIR/MODEL.bB.input.npy (float32, (B, 3, 224, 224), standard normal, seeded) and
DIR/MODEL.bB.output.npy (the eval-mode forward of a float64 copy of the model on the float64
input, cast to float32, as tools/gen_test_models.py computes its references). The batch-1
input is the first image of every larger batch.

The reference comes from a torch model rebuilt with export_torchvision's seeds; the script
fails unless every parameter and BN buffer of that model equals the initializer of the same
name in the exported file, so the reference is of the file's weights, not of a lookalike.

A model whose files are present with a stamp matching this script, export_torchvision.py,
torch, torchvision and the batch sizes is skipped (tests/tools/full_models_check.sh caches
under the build folder). tools/demo/make_model.py uses the same functions.
"""

import argparse
import copy
import hashlib
import os
import subprocess
import sys
import time

import numpy as np
import onnx
import onnx.numpy_helper
import torch
import torch.nn as nn
import torchvision

TOOLS_DIR = os.path.dirname(os.path.abspath(__file__))
EXPORTER = os.path.join(TOOLS_DIR, "export_torchvision.py")
sys.path.insert(0, TOOLS_DIR)
import export_torchvision  # noqa: E402

# export_torchvision.py's default seed and image size: the model rebuilt here must be the
# one it exported.
EXPORT_SEED = 0
IMAGE_SIZE = 224
INPUT_SEED = 2026


def fail(message):
    sys.exit("full_models: " + message)


def export(name, path):
    """Runs tools/export_torchvision.py (atomically: a temp file, then a rename)."""
    tmp = path + ".tmp"
    subprocess.run([sys.executable, EXPORTER, name, tmp], check=True)
    os.replace(tmp, path)


def rebuilt_model(name):
    """The torch model export_torchvision.py exports, in eval mode."""
    torch.manual_seed(EXPORT_SEED)
    generator = torch.Generator().manual_seed(EXPORT_SEED)
    model = export_torchvision.build(name)
    export_torchvision.randomize_batch_norms(model, generator)
    return model.eval()


def check_same_weights(name, model, onnx_path):
    graph = onnx.load(onnx_path).graph
    initializers = {init.name: init for init in graph.initializer}
    # The exporter stores equal initializers once (e.g. EfficientNet's zero SE biases) and
    # gives the other names through Identity nodes.
    for node in graph.node:
        if node.op_type == "Identity" and node.input[0] in initializers:
            initializers[node.output[0]] = initializers[node.input[0]]
    for key, value in model.state_dict().items():
        if key.endswith("num_batches_tracked"):
            continue  # not a weight: torch does not export it
        if key not in initializers:
            fail(f"{name}: {key} has no initializer of that name in {onnx_path}")
        exported = onnx.numpy_helper.to_array(initializers[key])
        if not np.array_equal(exported, value.numpy()):
            fail(f"{name}: {key} differs between the rebuilt model and {onnx_path}; "
                 "export_torchvision.py's initialization changed without this script")


def seeded_input(batch):
    rng = np.random.default_rng(INPUT_SEED)
    return rng.standard_normal((batch, 3, IMAGE_SIZE, IMAGE_SIZE)).astype(np.float32)


def float64_reference(model, x):
    """Forward of a float64 copy of `model` on float64 `x`, cast to float32."""
    m64 = copy.deepcopy(model).double().eval()
    for module in m64.modules():
        if isinstance(module, nn.modules.batchnorm._BatchNorm):
            # ONNX stores epsilon as float32: compute what the exported graph says.
            module.eps = float(np.float32(module.eps))
    with torch.no_grad():
        y64 = m64(torch.from_numpy(x).double()).numpy()
        y32 = model(torch.from_numpy(x)).numpy()
    ref = np.ascontiguousarray(y64.astype(np.float32))
    # How far torch's own float32 forward is from the reference: the scale of rounding
    # error any float32 runtime should land near.
    rel_l2 = float(np.linalg.norm(y32.astype(np.float64) - y64) / np.linalg.norm(y64))
    return ref, rel_l2


def export_with_references(name, onnx_path, inputs):
    """Exports `name` to onnx_path; returns (reference outputs, torch fp32 rel L2s)."""
    export(name, onnx_path)
    model = rebuilt_model(name)
    check_same_weights(name, model, onnx_path)
    results = [float64_reference(model, x) for x in inputs]
    return [r[0] for r in results], [r[1] for r in results]


def stamp_of(name, batches):
    digest = hashlib.sha256()
    for path in (os.path.abspath(__file__), EXPORTER):
        with open(path, "rb") as f:
            digest.update(f.read())
    digest.update(f"{name} {batches} {torch.__version__} {torchvision.__version__} "
                  f"{onnx.__version__} {np.__version__}".encode())
    return digest.hexdigest()


def prepare(name, out_dir, batches):
    paths = [os.path.join(out_dir, name + ".onnx")]
    for b in batches:
        paths += [os.path.join(out_dir, f"{name}.b{b}.input.npy"),
                  os.path.join(out_dir, f"{name}.b{b}.output.npy")]
    stamp_path = os.path.join(out_dir, name + ".stamp")
    stamp = stamp_of(name, batches)
    if all(os.path.exists(p) for p in paths) and os.path.exists(stamp_path):
        with open(stamp_path) as f:
            if f.read().strip() == stamp:
                print(f"{name}: cached in {out_dir}")
                return
    if os.path.exists(stamp_path):
        os.remove(stamp_path)
    start = time.monotonic()
    largest = seeded_input(max(batches))
    inputs = [np.ascontiguousarray(largest[:b]) for b in batches]
    refs, fp32_errors = export_with_references(name, paths[0], inputs)
    for i, b in enumerate(batches):
        np.save(paths[1 + 2 * i], inputs[i])
        np.save(paths[2 + 2 * i], refs[i])
    with open(stamp_path, "w") as f:
        f.write(stamp + "\n")
    print(f"{name}: exported with references for batch {', '.join(map(str, batches))} in "
          f"{time.monotonic() - start:.1f} s (torch float32 vs float64 reference: relative L2 "
          + ", ".join(f"{e:.2e}" for e in fp32_errors) + ")")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("models", nargs="+", help="torchvision.models constructors")
    parser.add_argument("--out", required=True, help="folder for the files (created)")
    parser.add_argument("--batches", default="1,3", help="comma-separated batch sizes")
    args = parser.parse_args()
    batches = sorted({int(b) for b in args.batches.split(",")})
    if not batches or batches[0] < 1:
        fail(f"bad --batches '{args.batches}'")
    os.makedirs(args.out, exist_ok=True)
    for name in args.models:
        prepare(name, args.out, batches)


if __name__ == "__main__":
    main()
