#!/usr/bin/python3
"""Export a torchvision model to ONNX with its BatchNormalization nodes kept.

Usage (Debian's system python, which sees apt's python3-torch / torchvision / onnx):

    /usr/bin/python3 tools/export_torchvision.py resnet50 /tmp/resnet50_bn.onnx

The weights are a seeded random initialization (nothing is downloaded), and every BatchNorm
gets non-trivial statistics like tools/gen_test_models.py gives its models, so a fold that
mixes up channels changes the outputs. The export keeps the BNs: eval mode,
training=TrainingMode.PRESERVE and do_constant_folding=False (torch's own eval-mode fusion
would otherwise fold them). The script fails if the exported graph has fewer
BatchNormalization nodes than the model has BatchNorm modules.

bench/graph/fold_bench.cc reads the file this writes (FOLDRT_BENCH_MODEL).
"""

import argparse
import sys

import onnx
import torch
import torch.nn as nn
import torchvision


def randomize_batch_norms(model, generator):
    for module in model.modules():
        if isinstance(module, nn.modules.batchnorm._BatchNorm):
            c = module.num_features
            with torch.no_grad():
                sign = torch.where(torch.rand(c, generator=generator) < 0.2, -1.0, 1.0)
                module.weight.copy_(sign * (0.5 + torch.rand(c, generator=generator)))
                module.bias.copy_(0.3 * torch.randn(c, generator=generator))
                module.running_mean.copy_(0.5 * torch.randn(c, generator=generator))
                module.running_var.copy_(0.5 + 1.5 * torch.rand(c, generator=generator))


def build(name):
    constructor = getattr(torchvision.models, name, None)
    if constructor is None:
        sys.exit(f"export_torchvision: torchvision.models has no '{name}'")
    try:
        return constructor(weights=None)
    except TypeError:  # torchvision before 0.13
        return constructor(pretrained=False)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", help="torchvision.models constructor, e.g. resnet50")
    parser.add_argument("output", help="the .onnx file to write")
    parser.add_argument("--opset", type=int, default=13)
    parser.add_argument("--image-size", type=int, default=224)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    torch.manual_seed(args.seed)
    generator = torch.Generator().manual_seed(args.seed)
    model = build(args.model)
    randomize_batch_norms(model, generator)
    model.eval()
    expected = sum(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in model.modules())

    x = torch.randn(1, 3, args.image_size, args.image_size, generator=generator)
    torch.onnx.export(
        model, x, args.output,
        opset_version=args.opset,
        training=torch.onnx.TrainingMode.PRESERVE,
        do_constant_folding=False,
        input_names=["input"],
        output_names=["output"],
        dynamic_axes={"input": {0: "N"}, "output": {0: "N"}},
    )
    exported = onnx.load(args.output)
    onnx.checker.check_model(exported)
    found = sum(node.op_type == "BatchNormalization" for node in exported.graph.node)
    if found < expected:
        sys.exit(f"export_torchvision: {args.model} has {expected} BatchNorm modules but the "
                 f"export kept {found} BatchNormalization nodes")
    print(f"wrote {args.output}: {len(exported.graph.node)} nodes, {found} BatchNormalization, "
          f"{exported.ByteSize() / 1e6:.1f} MB")


if __name__ == "__main__":
    main()
