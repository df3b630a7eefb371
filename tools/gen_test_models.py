#!/usr/bin/python3
"""Generate real exported ONNX test models with torch reference outputs for foldrt.

Usage (Debian's system python, which sees apt's python3-torch / python3-onnx):

    /usr/bin/python3 tools/gen_test_models.py --out tests/data

For every model it writes <name>.onnx, <name>.input.npy (float32, batch 3) and
<name>.output.npy (or <name>.output0.npy, <name>.output1.npy, ... for several outputs), plus
one MANIFEST.json describing all of them, including the expected fold fate of every
BatchNormalization node.

Longer than the project's ~600-line guide on purpose: the torch modules and the
table of models with their expected fold fates are one list a reader checks against
tests/data/MANIFEST.json; one file keeps the regeneration a single deterministic run.

How the data is made:
  * Every model is built under a fixed per-model seed (crc32 of its name), put in eval mode,
    and every BatchNorm gets non-trivial statistics (mean ~ N(0, 0.5), var ~ U(0.5, 2),
    gamma ~ +-U(0.5, 1.5) with some negative, beta ~ N(0, 0.3), eps 1e-5 or a chosen value).
  * Export uses training=TrainingMode.PRESERVE and do_constant_folding=False, so torch's own
    eval-mode Conv+BN fusion does not run; the script fails if any BatchNorm is missing from
    the exported graph, or if a BN parameter is not a plain initializer (e.g. the exporter
    merged equal initializers behind Identity nodes).
  * The reference output is computed with a float64 copy of the model on the float64 input,
    then cast to float32.
  * Each model is checked with onnx.checker (full_check) and evaluated by onnx.reference if
    the installed onnx has it; otherwise (onnx < 1.13) by the small float64 numpy evaluator
    in this file, which must agree with the float64 torch reference to ~1e-10.
"""

import argparse
import copy
import importlib
import io
import json
import os
import sys
import zlib

import numpy as np
import onnx
import onnx.numpy_helper
import torch
import torch.nn as nn

BATCH = 3


# ----------------------------------------------------------------------------------------------
# Models
# ----------------------------------------------------------------------------------------------

class MLP(nn.Module):
    def __init__(self, bias):
        super().__init__()
        self.fc1 = nn.Linear(6, 8, bias=bias)
        self.bn = nn.BatchNorm1d(8)
        self.relu = nn.ReLU()
        self.fc2 = nn.Linear(8, 4)

    def forward(self, x):
        return self.fc2(self.relu(self.bn(self.fc1(x))))


class ConvBN(nn.Module):
    """conv -> bn, for any conv flavour."""

    def __init__(self, conv, bn):
        super().__init__()
        self.conv = conv
        self.bn = bn

    def forward(self, x):
        return self.bn(self.conv(x))


class ConvReluBN(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(4, 8, 3, padding=1)
        self.relu = nn.ReLU()
        self.bn = nn.BatchNorm2d(8)

    def forward(self, x):
        return self.bn(self.relu(self.conv(x)))


class PreactBNReluConv(nn.Module):
    def __init__(self):
        super().__init__()
        self.bn = nn.BatchNorm2d(4)
        self.relu = nn.ReLU()
        self.conv = nn.Conv2d(4, 6, 3, padding=1)

    def forward(self, x):
        return self.conv(self.relu(self.bn(x)))


class BNConv(nn.Module):
    def __init__(self, padding):
        super().__init__()
        self.bn = nn.BatchNorm2d(4)
        self.conv = nn.Conv2d(4, 6, 3, padding=padding)

    def forward(self, x):
        return self.conv(self.bn(x))


class BNLinear(nn.Module):
    def __init__(self):
        super().__init__()
        self.bn = nn.BatchNorm1d(8, eps=1e-4)
        self.fc = nn.Linear(8, 5)

    def forward(self, x):
        return self.fc(self.bn(x))


class ConvTwoConsumers(nn.Module):
    """conv output feeds the BN and, a second time, the residual Add."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(4, 8, 3, padding=1)
        self.bn = nn.BatchNorm2d(8)
        self.relu = nn.ReLU()

    def forward(self, x):
        y = self.conv(x)
        return self.relu(self.bn(y)) + y


class ConvBNTwoOutputs(nn.Module):
    """conv output is both a graph output and the BN's input."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(4, 8, 3, padding=1)
        self.bn = nn.BatchNorm2d(8)

    def forward(self, x):
        y = self.conv(x)
        return y, self.bn(y)


class ResNetBasicBlock(nn.Module):
    def __init__(self, c=8):
        super().__init__()
        self.conv1 = nn.Conv2d(c, c, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(c)
        self.relu = nn.ReLU()
        self.conv2 = nn.Conv2d(c, c, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(c, eps=1e-3)

    def forward(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + x)


class ResNetBottleneckDownsample(nn.Module):
    """torchvision v1.5 style: stride on the 3x3 conv, 1x1 conv+BN projection shortcut."""

    def __init__(self, cin=8, width=4, cout=16, stride=2):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, width, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.conv2 = nn.Conv2d(width, width, 3, stride=stride, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(width)
        self.conv3 = nn.Conv2d(width, cout, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(cout)
        self.relu = nn.ReLU()
        self.downsample = nn.Sequential(
            nn.Conv2d(cin, cout, 1, stride=stride, bias=False), nn.BatchNorm2d(cout, eps=1e-3))

    def forward(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        return self.relu(out + self.downsample(x))


class MobileNetV2InvertedResidual(nn.Module):
    def __init__(self, c=8, expand=2):
        super().__init__()
        h = c * expand
        self.expand_conv = nn.Conv2d(c, h, 1, bias=False)
        self.expand_bn = nn.BatchNorm2d(h)
        self.dw_conv = nn.Conv2d(h, h, 3, padding=1, groups=h, bias=False)
        self.dw_bn = nn.BatchNorm2d(h)
        self.project_conv = nn.Conv2d(h, c, 1, bias=False)
        self.project_bn = nn.BatchNorm2d(c)
        self.act = nn.ReLU6()

    def forward(self, x):
        out = self.act(self.expand_bn(self.expand_conv(x)))
        out = self.act(self.dw_bn(self.dw_conv(out)))
        out = self.project_bn(self.project_conv(out))
        return x + out


class DenseLayer(nn.Module):
    """torchvision _DenseLayer: BN-ReLU-Conv1x1-BN-ReLU-Conv3x3 on the concat of all features."""

    def __init__(self, cin, growth=4, bn_size=2):
        super().__init__()
        self.norm1 = nn.BatchNorm2d(cin)
        self.relu1 = nn.ReLU()
        self.conv1 = nn.Conv2d(cin, bn_size * growth, 1, bias=False)
        self.norm2 = nn.BatchNorm2d(bn_size * growth)
        self.relu2 = nn.ReLU()
        self.conv2 = nn.Conv2d(bn_size * growth, growth, 3, padding=1, bias=False)

    def forward(self, features):
        x = torch.cat(features, 1)
        return self.conv2(self.relu2(self.norm2(self.conv1(self.relu1(self.norm1(x))))))


class DenseNetDenseBlock(nn.Module):
    def __init__(self, cin=4, growth=4):
        super().__init__()
        self.layer1 = DenseLayer(cin, growth)
        self.layer2 = DenseLayer(cin + growth, growth)

    def forward(self, x):
        features = [x]
        features.append(self.layer1(features))
        features.append(self.layer2(features))
        return torch.cat(features, 1)


class EfficientNetMBConvSE(nn.Module):
    def __init__(self, c=8, expand=2, se=4):
        super().__init__()
        h = c * expand
        self.expand_conv = nn.Conv2d(c, h, 1, bias=False)
        self.expand_bn = nn.BatchNorm2d(h, eps=1e-3)
        self.dw_conv = nn.Conv2d(h, h, 3, padding=1, groups=h, bias=False)
        self.dw_bn = nn.BatchNorm2d(h, eps=1e-3)
        self.se_pool = nn.AdaptiveAvgPool2d(1)
        self.se_reduce = nn.Conv2d(h, se, 1)
        self.se_expand = nn.Conv2d(se, h, 1)
        self.project_conv = nn.Conv2d(h, c, 1, bias=False)
        self.project_bn = nn.BatchNorm2d(c, eps=1e-3)
        self.silu = nn.SiLU()

    def forward(self, x):
        out = self.silu(self.expand_bn(self.expand_conv(x)))
        out = self.silu(self.dw_bn(self.dw_conv(out)))
        s = torch.sigmoid(self.se_expand(self.silu(self.se_reduce(self.se_pool(out)))))
        out = out * s
        out = self.project_bn(self.project_conv(out))
        return out + x


# Fold-fate vocabulary (the "fold" field of each BN in the manifest):
#   backward:<Op>  fold into the preceding <Op>'s weights/bias
#   forward:<Op>   fold into the following <Op> (exact)
#   none           no exact fold; the BN runs standalone ("fate" says why)
BACK_CONV = ("backward:Conv", "backward into Conv")

MODELS = [
    dict(name="mlp_bn1d", opset=9, initializers_as_inputs=True, input=(6,),
         build=lambda: MLP(bias=True),
         fates={"bn": ("backward:Gemm",
                       "backward into Gemm (transB=1, with bias C); the opset-9 export lists "
                       "initializers as graph inputs")}),
    dict(name="mlp_bn1d_nobias", opset=13, input=(6,),
         build=lambda: MLP(bias=False),
         fates={"bn": ("backward:MatMul",
                       "backward into MatMul (no bias: add one); the exporter writes the weight "
                       "as Transpose(initializer), so that Transpose must be constant-folded "
                       "first")}),
    dict(name="conv1d_bn", opset=13, input=(4, 16),
         build=lambda: ConvBN(nn.Conv1d(4, 6, 3, padding=1), nn.BatchNorm1d(6)),
         fates={"bn": ("backward:Conv", "backward into Conv (1-D)")}),
    dict(name="conv2d_bn", opset=13, input=(4, 10, 10),
         build=lambda: ConvBN(nn.Conv2d(4, 8, 3, padding=1), nn.BatchNorm2d(8, eps=1e-3)),
         fates={"bn": ("backward:Conv", "backward into Conv (with bias)")}),
    dict(name="conv2d_bn_nobias", opset=9, input=(4, 10, 10),
         build=lambda: ConvBN(nn.Conv2d(4, 8, 3, stride=2, padding=1, bias=False),
                              nn.BatchNorm2d(8)),
         fates={"bn": ("backward:Conv", "backward into Conv (no bias: bias' = b)")}),
    dict(name="conv2d_groups_bn", opset=11, input=(8, 10, 10),
         build=lambda: ConvBN(nn.Conv2d(8, 12, 3, padding=2, dilation=2, groups=2),
                              nn.BatchNorm2d(12)),
         fates={"bn": ("backward:Conv", "backward into Conv (group=2)")}),
    dict(name="conv2d_depthwise_bn", opset=13, input=(8, 10, 10),
         build=lambda: ConvBN(nn.Conv2d(8, 8, 3, padding=1, groups=8), nn.BatchNorm2d(8)),
         fates={"bn": ("backward:Conv", "backward into Conv (depthwise, group=8)")}),
    dict(name="convtranspose2d_bn", opset=13, input=(4, 8, 8),
         build=lambda: ConvBN(nn.ConvTranspose2d(4, 6, 3), nn.BatchNorm2d(6)),
         fates={"bn": ("backward:ConvTranspose", "backward into ConvTranspose (group=1)")}),
    dict(name="convtranspose2d_groups_bn", opset=11, input=(8, 8, 8),
         build=lambda: ConvBN(nn.ConvTranspose2d(8, 6, 3, stride=2, padding=1,
                                                 output_padding=1, groups=2),
                              nn.BatchNorm2d(6)),
         fates={"bn": ("backward:ConvTranspose",
                       "backward into ConvTranspose (group=2, stride 2: W is [8, 3, 3, 3], out "
                       "channel o = g*3 + j)")}),
    dict(name="conv3d_bn", opset=13, input=(3, 8, 8, 8),
         build=lambda: ConvBN(nn.Conv3d(3, 4, 3, padding=1), nn.BatchNorm3d(4, eps=1e-3)),
         fates={"bn": ("backward:Conv", "backward into Conv (3-D)")}),
    dict(name="conv_relu_bn", opset=13, input=(4, 8, 8),
         build=ConvReluBN,
         fates={"bn": ("none", "not foldable: ReLU between Conv and BN; BN output is the graph "
                               "output (no following linear op)")}),
    dict(name="preact_bn_relu_conv", opset=13, input=(4, 8, 8),
         build=PreactBNReluConv,
         fates={"bn": ("none", "not foldable: producer is the graph input; ReLU between BN and "
                               "the following Conv")}),
    dict(name="bn_conv", opset=13, input=(4, 10, 10),
         build=lambda: BNConv(padding=0),
         fates={"bn": ("forward:Conv", "forward into Conv (no padding: exact); producer is the "
                                       "graph input")}),
    dict(name="bn_conv_padded", opset=13, input=(4, 10, 10),
         build=lambda: BNConv(padding=1),
         fates={"bn": ("none", "not foldable exactly: forward fold into Conv with padding=1 "
                               "changes border outputs (only with border correction); producer "
                               "is the graph input")}),
    dict(name="bn_linear", opset=15, input=(8,),
         build=BNLinear,
         fates={"bn": ("forward:Gemm", "forward into Gemm (exact); producer is the graph input")}),
    dict(name="conv_two_consumers", opset=13, input=(4, 8, 8),
         build=ConvTwoConsumers,
         fates={"bn": ("none", "not foldable: producer Conv output has 2 consumers (BN and Add); "
                               "ReLU after BN")}),
    dict(name="conv_bn_two_outputs", opset=13, input=(4, 8, 8),
         build=ConvBNTwoOutputs,
         fates={"bn": ("none", "not foldable: producer Conv output is also a graph output "
                               "(output0); BN output is output1")}),
    dict(name="resnet_basic_block", opset=13, input=(8, 8, 8),
         build=ResNetBasicBlock,
         fates={"bn1": BACK_CONV, "bn2": BACK_CONV}),
    dict(name="resnet_bottleneck_downsample", opset=13, input=(8, 12, 12),
         build=ResNetBottleneckDownsample,
         fates={"bn1": BACK_CONV, "bn2": ("backward:Conv", "backward into Conv (stride 2)"),
                "bn3": BACK_CONV,
                "downsample.1": ("backward:Conv",
                                 "backward into Conv (1x1 stride-2 shortcut)")}),
    dict(name="mobilenetv2_inverted_residual", opset=11, input=(8, 8, 8),
         build=MobileNetV2InvertedResidual,
         fates={"expand_bn": ("backward:Conv", "backward into Conv (1x1 expand); Clip(0,6) after"),
                "dw_bn": ("backward:Conv", "backward into Conv (depthwise 3x3, group=16); "
                                           "Clip(0,6) after"),
                "project_bn": ("backward:Conv", "backward into Conv (1x1 project)")}),
    dict(name="densenet_dense_block", opset=13, input=(4, 8, 8),
         build=DenseNetDenseBlock,
         fates={"layer1.norm1": ("none", "not foldable: producer is the graph input (through a "
                                         "1-input Concat if exported); ReLU between BN and the "
                                         "following Conv"),
                "layer1.norm2": ("backward:Conv", "backward into Conv (1x1)"),
                "layer2.norm1": ("none", "not foldable: producer is Concat (graph input + conv "
                                         "output); ReLU between BN and the following Conv"),
                "layer2.norm2": ("backward:Conv", "backward into Conv (1x1)")}),
    dict(name="efficientnet_mbconv_se", opset=17, input=(8, 8, 8),
         build=EfficientNetMBConvSE,
         fates={"expand_bn": ("backward:Conv", "backward into Conv (1x1 expand); SiLU after"),
                "dw_bn": ("backward:Conv", "backward into Conv (depthwise 3x3, group=16); SiLU "
                                           "after"),
                "project_bn": ("backward:Conv", "backward into Conv (1x1 project)")}),
]


# ----------------------------------------------------------------------------------------------
# Helpers
# ----------------------------------------------------------------------------------------------

def seed_of(name):
    return zlib.crc32(name.encode()) & 0x7FFFFFFF


def randomize_bn(model, rng):
    """Non-trivial inference statistics for every BatchNorm (fresh ones are 0/1/1/0)."""
    with torch.no_grad():
        for _, m in sorted(model.named_modules(), key=lambda kv: kv[0]):
            if isinstance(m, nn.modules.batchnorm._BatchNorm):
                c = m.num_features
                mean = rng.normal(0.0, 0.5, c)
                var = rng.uniform(0.5, 2.0, c)
                gamma = rng.uniform(0.5, 1.5, c)
                neg = rng.random(c) < 0.25
                neg[rng.integers(c)] = True  # at least one negative gamma per BN
                gamma[neg] *= -1.0
                beta = rng.normal(0.0, 0.3, c)
                m.running_mean.copy_(torch.from_numpy(mean))
                m.running_var.copy_(torch.from_numpy(var))
                m.weight.copy_(torch.from_numpy(gamma))
                m.bias.copy_(torch.from_numpy(beta))
                # ONNX stores epsilon as a float32 attribute: use exactly that value in torch
                # too, so the float64 reference computes what the exported graph says.
                m.eps = float(np.float32(m.eps))


def export(model, x, spec, n_out):
    in_names = ["input"]
    out_names = ["output"] if n_out == 1 else ["output%d" % i for i in range(n_out)]
    dyn = {n: {0: "N"} for n in in_names + out_names}
    f = io.BytesIO()
    torch.onnx.export(
        model, (x,), f,
        opset_version=spec["opset"],
        training=torch.onnx.TrainingMode.PRESERVE,
        do_constant_folding=False,
        keep_initializers_as_inputs=spec.get("initializers_as_inputs", False),
        input_names=in_names, output_names=out_names, dynamic_axes=dyn)
    return f.getvalue()


def dims_of(value_info):
    out = []
    for d in value_info.type.tensor_type.shape.dim:
        out.append(d.dim_param if d.HasField("dim_param") else int(d.dim_value))
    return out


def derive_fold(g, bn):
    """Mechanical fold category from the exported graph, to cross-check the written fates."""
    producers = {o: n for n in g.node for o in n.output}
    consumers = {}
    for n in g.node:
        for i in n.input:
            consumers.setdefault(i, []).append(n)
    graph_outs = {o.name for o in g.output}
    x = bn.input[0]
    p = producers.get(x)
    if (p is not None and p.op_type in ("Conv", "ConvTranspose", "Gemm", "MatMul")
            and len(consumers.get(x, [])) == 1 and x not in graph_outs):
        return "backward:" + p.op_type
    y = bn.output[0]
    cons = consumers.get(y, [])
    if len(cons) == 1 and y not in graph_outs:
        c = cons[0]
        a = _attrs(c)
        if c.op_type == "Conv" and not any(a.get("pads", [])):
            return "forward:Conv"
        if c.op_type == "Gemm" and not a.get("transA", 0):
            return "forward:Gemm"
    return "none"


def fail(name, msg):
    raise SystemExit("gen_test_models: %s: %s" % (name, msg))


# ----------------------------------------------------------------------------------------------
# Minimal float64 ONNX evaluator (fallback when onnx.reference is not available)
# ----------------------------------------------------------------------------------------------

def _attrs(node):
    return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}


def _bcast_c(v, ndim):
    return v.reshape((1, -1) + (1,) * (ndim - 2))


def _conv(x, w, b, a):
    nd = x.ndim - 2
    if a.get("auto_pad", b"NOTSET") not in (b"NOTSET", "NOTSET"):
        raise NotImplementedError("auto_pad")
    k = w.shape[2:]
    strides = a.get("strides", [1] * nd)
    dil = a.get("dilations", [1] * nd)
    pads = a.get("pads", [0] * (2 * nd))
    g = a.get("group", 1)
    xp = np.pad(x, [(0, 0), (0, 0)] + [(pads[i], pads[i + nd]) for i in range(nd)])
    osz = [(xp.shape[2 + i] - dil[i] * (k[i] - 1) - 1) // strides[i] + 1 for i in range(nd)]
    n, c = x.shape[:2]
    cout = w.shape[0]
    cig, cog = c // g, cout // g
    y = np.zeros((n, cout) + tuple(osz))
    for kk in np.ndindex(*k):
        sl = tuple(slice(kk[i] * dil[i], kk[i] * dil[i] + strides[i] * (osz[i] - 1) + 1,
                         strides[i]) for i in range(nd))
        patch = xp[(slice(None), slice(None)) + sl]
        for gi in range(g):
            y[:, gi * cog:(gi + 1) * cog] += np.einsum(
                "nc...,oc->no...", patch[:, gi * cig:(gi + 1) * cig],
                w[(slice(gi * cog, (gi + 1) * cog), slice(None)) + kk])
    if b is not None:
        y += _bcast_c(b, y.ndim)
    return y


def _conv_transpose(x, w, b, a):
    nd = x.ndim - 2
    if "output_shape" in a or a.get("auto_pad", b"NOTSET") not in (b"NOTSET", "NOTSET"):
        raise NotImplementedError("ConvTranspose output_shape/auto_pad")
    k = w.shape[2:]
    strides = a.get("strides", [1] * nd)
    dil = a.get("dilations", [1] * nd)
    pads = a.get("pads", [0] * (2 * nd))
    opad = a.get("output_padding", [0] * nd)
    g = a.get("group", 1)
    n, cin = x.shape[:2]
    cig, cog = cin // g, w.shape[1]
    isz = x.shape[2:]
    full = [strides[i] * (isz[i] - 1) + dil[i] * (k[i] - 1) + 1 + opad[i] for i in range(nd)]
    y = np.zeros((n, cog * g) + tuple(full))
    for kk in np.ndindex(*k):
        sl = tuple(slice(kk[i] * dil[i], kk[i] * dil[i] + strides[i] * (isz[i] - 1) + 1,
                         strides[i]) for i in range(nd))
        for gi in range(g):
            y[(slice(None), slice(gi * cog, (gi + 1) * cog)) + sl] += np.einsum(
                "nc...,co->no...", x[:, gi * cig:(gi + 1) * cig],
                w[(slice(gi * cig, (gi + 1) * cig), slice(None)) + kk])
    crop = tuple(slice(pads[i], full[i] - pads[i + nd]) for i in range(nd))
    y = y[(slice(None), slice(None)) + crop]
    if b is not None:
        y = y + _bcast_c(b, y.ndim)
    return y


def eval_onnx_f64(model, feeds):
    env = {}
    for init in model.graph.initializer:
        env[init.name] = onnx.numpy_helper.to_array(init).astype(np.float64)
    env.update({k: v.astype(np.float64) for k, v in feeds.items()})
    opset = max(o.version for o in model.opset_import if o.domain in ("", "ai.onnx"))
    for node in model.graph.node:
        a = _attrs(node)
        ins = [env[i] if i else None for i in node.input]
        t = node.op_type
        if t == "Conv":
            out = _conv(ins[0], ins[1], ins[2] if len(ins) > 2 else None, a)
        elif t == "ConvTranspose":
            out = _conv_transpose(ins[0], ins[1], ins[2] if len(ins) > 2 else None, a)
        elif t == "BatchNormalization":
            if a.get("training_mode", 0) != 0 or len(node.output) != 1:
                raise ValueError("BatchNormalization not in inference mode: " + node.name)
            x, s, bb, m, v = ins
            nd = x.ndim
            out = ((x - _bcast_c(m, nd)) / np.sqrt(_bcast_c(v, nd) + a.get("epsilon", 1e-5))
                   * _bcast_c(s, nd) + _bcast_c(bb, nd))
        elif t == "Gemm":
            A = ins[0].T if a.get("transA", 0) else ins[0]
            B = ins[1].T if a.get("transB", 0) else ins[1]
            out = a.get("alpha", 1.0) * (A @ B)
            if len(ins) > 2 and ins[2] is not None:
                out = out + a.get("beta", 1.0) * ins[2]
        elif t == "MatMul":
            out = ins[0] @ ins[1]
        elif t == "Transpose":
            out = np.transpose(ins[0], a.get("perm"))
        elif t == "Relu":
            out = np.maximum(ins[0], 0.0)
        elif t == "Sigmoid":
            out = 1.0 / (1.0 + np.exp(-ins[0]))
        elif t == "Clip":
            if opset < 11:
                lo, hi = a.get("min", -np.inf), a.get("max", np.inf)
            else:
                lo = ins[1] if len(ins) > 1 and ins[1] is not None else -np.inf
                hi = ins[2] if len(ins) > 2 and ins[2] is not None else np.inf
            out = np.clip(ins[0], lo, hi)
        elif t == "Add":
            out = ins[0] + ins[1]
        elif t == "Mul":
            out = ins[0] * ins[1]
        elif t == "Concat":
            out = np.concatenate(ins, axis=a["axis"])
        elif t == "GlobalAveragePool":
            out = ins[0].mean(axis=tuple(range(2, ins[0].ndim)), keepdims=True)
        elif t == "Constant":
            out = onnx.numpy_helper.to_array(a["value"]).astype(np.float64)
        elif t == "Identity":
            out = ins[0]
        else:
            raise NotImplementedError("numpy evaluator: op " + t)
        if len(node.output) != 1:
            raise NotImplementedError("multi-output node " + t)
        env[node.output[0]] = out
    return [env[o.name] for o in model.graph.output]


# ----------------------------------------------------------------------------------------------
# Main
# ----------------------------------------------------------------------------------------------

def build_one(spec, out_dir, have_ref):
    name = spec["name"]
    seed = seed_of(name)
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    model = spec["build"]()
    randomize_bn(model, rng)
    model.eval()

    x32 = rng.standard_normal((BATCH,) + tuple(spec["input"])).astype(np.float32)
    xt = torch.from_numpy(x32)

    # float64 reference from a float64 copy of the model
    m64 = copy.deepcopy(model).double().eval()
    with torch.no_grad():
        y64 = m64(xt.double())
        y32 = model(xt)
    y64 = list(y64) if isinstance(y64, (tuple, list)) else [y64]
    y32 = list(y32) if isinstance(y32, (tuple, list)) else [y32]
    y64 = [t.numpy() for t in y64]
    y32 = [t.numpy() for t in y32]
    yref = [np.ascontiguousarray(t.astype(np.float32)) for t in y64]
    fp32_vs_ref = max(float(np.max(np.abs(a - b)) / max(1e-30, float(np.max(np.abs(b)))))
                      for a, b in zip(y32, yref))

    data = export(model, xt, spec, len(yref))
    om = onnx.load_from_string(data)
    onnx.checker.check_model(om, full_check=True)
    g = om.graph
    inits = {i.name for i in g.initializer}
    produced = {o for n in g.node for o in n.output}

    # every BN must have survived, with plain initializer parameters
    bn_modules = [n for n, m in model.named_modules()
                  if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    bn_nodes = [n for n in g.node if n.op_type == "BatchNormalization"]
    if len(bn_nodes) != len(bn_modules):
        fail(name, "%d BatchNorm modules but %d BatchNormalization nodes in the export"
             % (len(bn_modules), len(bn_nodes)))
    if set(spec["fates"]) != set(bn_modules):
        fail(name, "fates %s != BN modules %s" % (sorted(spec["fates"]), sorted(bn_modules)))
    bns = []
    for n in bn_nodes:
        for p in n.input[1:]:
            if p not in inits or p in produced:
                fail(name, "BN %s parameter %s is not a plain initializer" % (n.name, p))
        module = n.input[1][:-len(".weight")]
        if not n.input[1].endswith(".weight") or module not in spec["fates"]:
            fail(name, "cannot map BN node %s (scale %s) to a module" % (n.name, n.input[1]))
        a = _attrs(n)
        if a.get("training_mode", 0) != 0 or len(n.output) != 1:
            fail(name, "BN %s exported in training mode" % n.name)
        fold, fate = spec["fates"][module]
        if derive_fold(g, n) != fold:
            fail(name, "BN %s: written fold %s but the graph says %s"
                 % (n.name, fold, derive_fold(g, n)))
        bns.append(dict(node=n.name, module=module,
                        channels=int(model.get_submodule(module).num_features),
                        epsilon=float(np.float32(a.get("epsilon", 1e-5))),
                        fold=fold, fate=fate))

    # independent check of the exported graph against the torch reference
    in_name = [i.name for i in g.input if i.name not in inits][0]
    if have_ref:
        from onnx.reference import ReferenceEvaluator
        got = ReferenceEvaluator(om).run(None, {in_name: x32})
        err = max(float(np.max(np.abs(o - r)) / max(1e-30, float(np.max(np.abs(r)))))
                  for o, r in zip(got, yref))
        if err > 1e-5:
            fail(name, "onnx.reference disagrees with torch: max rel err %.3g" % err)
        check = ("onnx.reference", err)
    else:
        got = eval_onnx_f64(om, {in_name: x32})
        err = max(float(np.max(np.abs(o - r)) / max(1e-30, float(np.max(np.abs(r)))))
                  for o, r in zip(got, y64))
        if err > 1e-10:
            fail(name, "numpy f64 evaluator disagrees with torch f64: max rel err %.3g" % err)
        err32 = max(float(np.max(np.abs(o.astype(np.float32) - r)) /
                          max(1e-30, float(np.max(np.abs(r))))) for o, r in zip(got, yref))
        if err32 > 1e-5:
            fail(name, "numpy evaluator vs float32 reference: max rel err %.3g" % err32)
        check = ("numpy-f64-evaluator", err)

    # write files
    with open(os.path.join(out_dir, name + ".onnx"), "wb") as f:
        f.write(data)
    np.save(os.path.join(out_dir, name + ".input.npy"), np.ascontiguousarray(x32))
    out_files = []
    for i, y in enumerate(yref):
        fn = name + (".output.npy" if len(yref) == 1 else ".output%d.npy" % i)
        np.save(os.path.join(out_dir, fn), y)
        out_files.append(fn)

    op_counts = {}
    for n in g.node:
        op_counts[n.op_type] = op_counts.get(n.op_type, 0) + 1
    entry = dict(
        name=name, file=name + ".onnx", opset=spec["opset"],
        initializers_as_inputs=bool(spec.get("initializers_as_inputs", False)),
        seed=seed,
        inputs=[dict(name=i.name, shape=dims_of(i), dtype="float32")
                for i in g.input if i.name not in inits],
        input_files=[name + ".input.npy"],
        input_shapes_in_files=[list(x32.shape)],
        outputs=[dict(name=o.name, shape=dims_of(o), dtype="float32") for o in g.output],
        output_files=out_files,
        output_shapes_in_files=[list(y.shape) for y in yref],
        ops=dict(sorted(op_counts.items())),
        num_batchnorm=len(bn_nodes),
        batchnorms=bns,
    )
    return entry, check, fp32_vs_ref


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", required=True, help="output folder (e.g. tests/data)")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)

    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    try:
        importlib.import_module("onnx.reference")  # onnx >= 1.13
        have_ref = True
    except ImportError:
        have_ref = False
        print("note: onnx %s has no onnx.reference; checking with the float64 numpy evaluator"
              % onnx.__version__, file=sys.stderr)

    entries = []
    for spec in MODELS:
        entry, (how, err), e32 = build_one(spec, args.out, have_ref)
        entries.append(entry)
        print("%-32s opset %-2d BN %d  %s rel err %.2g  (torch fp32 vs f64 ref %.2g)"
              % (spec["name"], spec["opset"], entry["num_batchnorm"], how, err, e32))

    manifest = dict(
        generator="tools/gen_test_models.py",
        torch_version=torch.__version__, onnx_version=onnx.__version__,
        numpy_version=np.__version__,
        batch=BATCH,
        reference="torch eval() forward of a float64 copy of the model on the float64 input, "
                  "cast to float32",
        checked_with="onnx.reference" if have_ref else "float64 numpy evaluator in "
                     "tools/gen_test_models.py (onnx.reference not available)",
        fold_vocabulary={"backward:<Op>": "fold into the preceding <Op>",
                         "forward:<Op>": "fold into the following <Op> (exact)",
                         "none": "no exact fold; BN runs standalone, 'fate' gives the reason"},
        models=entries,
    )
    with open(os.path.join(args.out, "MANIFEST.json"), "w") as f:
        json.dump(manifest, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
