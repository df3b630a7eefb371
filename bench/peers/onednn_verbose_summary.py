#!/usr/bin/python3
"""Where oneDNN's time goes in a foldrt run, from its verbose log.

    ONEDNN_VERBOSE=1 build/tools/foldrt bench MODEL.onnx --warmup 0 --iterations 20 \\
        --threads 1 > log.txt 2>&1
    /usr/bin/python3 bench/peers/onednn_verbose_summary.py log.txt --runs 20

Sums the execution times of the `onednn_verbose,exec` lines (oneDNN 2.x format: operation,
engine, primitive, implementation, prop_kind, memory descriptors, attributes, auxiliary,
problem, time in ms) by what they are:

- each primitive kind with its implementation (brgconv:avx512_core, jit:uni, ref:any, ...);
- reorders split into activation reorders into a primitive's layout (plain -> blocked or
  channels-last: what foldrt's PlainIoPrimitive does before each op), out of it (back to
  plain NCHW after each op), and weight reorders (blocked on the output-channel axis, done
  once per primitive: they belong to the first run);
- ref implementations listed separately, since those are the slow fallbacks.

Prints ms per run (total / --runs) and the share of all oneDNN time, slowest first, then
the largest single activation reorders. Only the standard library.
"""

import argparse
import collections
import re
import sys

# A memory descriptor: "src_f32::blocked:aBcd16b:f0", "dst_f32:p:blocked:Acdb48a:f0" (p:
# padded).
MD = re.compile(r"(\w+?)_(\w+):(\w*):(\w+):([A-Za-z0-9]+):")


def tags(md_field):
    """{'src': 'aBcd16b', 'dst': 'abcd', ...} of a memory-descriptor field."""
    return {arg: tag for arg, _dtype, _flags, _kind, tag in MD.findall(md_field)}


def is_plain(tag):
    """abcd, abc, ab...: dense row-major (ONNX order)."""
    return tag.isalpha() and tag.islower() and tag == "".join(sorted(tag))


def is_weight_layout(tag):
    """Blocked or permuted over axis 0 (output channels): a weight layout."""
    return "A" in tag


def classify(fields):
    kind, impl, md = fields[3], fields[4], fields[6]
    if kind != "reorder":
        return f"{kind} {impl}"
    t = tags(md)
    src, dst = t.get("src", "?"), t.get("dst", "?")
    if is_weight_layout(dst) or is_weight_layout(src):
        return f"reorder weights {impl} (once per primitive)"
    if is_plain(src) and not is_plain(dst):
        return f"reorder activations in, plain -> {dst} ({impl})"
    if is_plain(dst) and not is_plain(src):
        return f"reorder activations out, {src} -> plain ({impl})"
    return f"reorder {src} -> {dst} ({impl})"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("log", help="output of a run with ONEDNN_VERBOSE=1")
    parser.add_argument("--runs", type=int, default=1,
                        help="Session runs in the log (warmup + iterations)")
    parser.add_argument("--top", type=int, default=8, help="largest reorders to list")
    args = parser.parse_args()
    if args.runs < 1:
        parser.error("--runs must be >= 1")

    totals = collections.defaultdict(float)
    counts = collections.Counter()
    reorders = collections.defaultdict(float)
    with open(args.log, errors="replace") as f:
        for line in f:
            if not line.startswith(("onednn_verbose,exec,", "dnnl_verbose,exec,")):
                continue
            fields = line.rstrip("\n").split(",")
            if len(fields) < 11:
                continue
            try:
                ms = float(fields[-1])
            except ValueError:
                continue
            what = classify(fields)
            totals[what] += ms
            counts[what] += 1
            if what.startswith("reorder activations"):
                reorders[(what, fields[-2])] += ms
    total = sum(totals.values())
    if total == 0:
        sys.exit(f"{args.log}: no oneDNN exec lines (was ONEDNN_VERBOSE=1 set?)")
    print(f"oneDNN time: {total / args.runs:.3f} ms per run over {args.runs} runs")
    print(f"  {'ms/run':>9} {'share':>6} {'calls/run':>9}  what")
    for what, ms in sorted(totals.items(), key=lambda kv: -kv[1]):
        print(f"  {ms / args.runs:9.3f} {100 * ms / total:5.1f}% "
              f"{counts[what] / args.runs:9.1f}  {what}")
    act = sum(ms for what, ms in totals.items() if what.startswith("reorder activations"))
    print(f"activation reorders: {act / args.runs:.3f} ms per run, "
          f"{100 * act / total:.1f}% of oneDNN time")
    refs = {w: ms for w, ms in totals.items() if "ref:" in w or "simple" in w}
    for what, ms in sorted(refs.items(), key=lambda kv: -kv[1]):
        print(f"reference / simple implementation: {what}: {ms / args.runs:.3f} ms per run")
    if reorders and args.top > 0:
        print(f"largest activation reorders (ms per run):")
        for (what, shape), ms in sorted(reorders.items(), key=lambda kv: -kv[1])[:args.top]:
            print(f"  {ms / args.runs:9.3f}  {shape}  {what}")


if __name__ == "__main__":
    main()
