#!/usr/bin/python3
"""Writes the bundled default model of `tools/dev.sh demo` (run with Debian's python3).

    /usr/bin/python3 tools/demo/make_model.py

model.onnx         torchvision shufflenet_v2_x0_5 (1.4 M parameters, 56 BatchNorm, 5.7 MB)
                   exported by tools/export_torchvision.py: seeded random init (nothing is
                   downloaded), non-trivial BN statistics, every BN kept in the graph.
model_input.npy    (1, 3, 224, 224) float32, standard normal, seeded.
model_output.npy   (1, 1000) float32: the float64 torch forward of the model on that input.

ShuffleNetV2 is small enough to commit and still a real network: Conv + BN (+ ReLU),
depthwise convs, MaxPool, the channel split (Slice) and shuffle (Reshape, Transpose, Reshape
on shapes computed by Shape/Gather/Div/Cast), Concat, ReduceMean and Gemm.

Deterministic: the same torch / torchvision / onnx versions write byte-identical files.
"""

import os
import sys

import numpy as np

DEMO_DIR = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(DEMO_DIR))
import full_models  # noqa: E402

MODEL = "shufflenet_v2_x0_5"


def main():
    x = full_models.seeded_input(1)
    refs, fp32_errors = full_models.export_with_references(
        MODEL, os.path.join(DEMO_DIR, "model.onnx"), [x])
    np.save(os.path.join(DEMO_DIR, "model_input.npy"), x)
    np.save(os.path.join(DEMO_DIR, "model_output.npy"), refs[0])
    top5 = np.argsort(-refs[0][0], kind="stable")[:5]
    print(f"wrote {DEMO_DIR}/model_input.npy, model_output.npy; reference top-5 classes "
          f"{top5.tolist()}; torch float32 vs the float64 reference: relative L2 "
          f"{fp32_errors[0]:.2e}")


if __name__ == "__main__":
    main()
