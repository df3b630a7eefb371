#!/usr/bin/env python3
"""Runs bench/ops/batch_norm_bench and prints the README's table.

  python3 bench/ops/batch_norm_table.py [--bench build/bench/batch_norm_bench]
                                        [--json out.json] [--min-time 0.5]

For every shape and thread count: the memcpy rate of the same bytes (the
bandwidth ceiling), each Highway layout as a fraction of it, the best oneDNN
layout, and whether the issue's targets hold:
  * Highway >= 90% of memcpy on tensors larger than L2 (any one layout: a
    model keeps a tensor in whichever layout its convolutions chose, so the
    target is per layout the runtime would use; all layouts are shown);
  * Highway (best layout) at least as fast as oneDNN's best layout.
Only the standard library is used, so any python3 runs it.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

LAYOUTS = ["nchw", "nhwc", "nChw8c", "nChw16c"]


def l2_bytes():
    try:
        with open("/sys/devices/system/cpu/cpu0/cache/index2/size") as f:
            text = f.read().strip()
        unit = {"K": 1 << 10, "M": 1 << 20}.get(text[-1], 1)
        return int(text.rstrip("KM")) * unit
    except OSError:
        return 1 << 20


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bench", default="build/bench/batch_norm_bench")
    parser.add_argument("--json", help="reuse (if it exists) or keep the raw results")
    parser.add_argument("--min-time", default="0.5")
    parser.add_argument("--filter", default="")
    args = parser.parse_args()

    out = args.json or tempfile.mktemp(suffix=".json")
    if not (args.json and os.path.exists(args.json)):
        cmd = [args.bench, f"--benchmark_min_time={args.min_time}",
               f"--benchmark_out={out}", "--benchmark_out_format=json",
               "--benchmark_repetitions=3", "--benchmark_report_aggregates_only=true"]
        if args.filter:
            cmd.append(f"--benchmark_filter={args.filter}")
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    with open(out) as f:
        data = json.load(f)

    # Best (max) of the repetitions' median; name: impl/layout/shape/threads:T
    rate = {}
    megabytes = {}
    for b in data["benchmarks"]:
        if b.get("aggregate_name") != "median":
            continue
        parts = b["run_name"].split("/")
        threads = next(p for p in parts if p.startswith("threads:"))[8:]
        if parts[0] == "memcpy":
            key = ("memcpy", "", parts[1], threads)
        else:
            key = (parts[0], parts[1], parts[2], threads)
        rate[key] = b["bytes_per_second"] / 1e9
        megabytes[parts[2] if parts[0] != "memcpy" else parts[1]] = b["tensor_MB"]

    shapes = []
    for (impl, _, shape, _) in rate:
        if shape not in shapes:
            shapes.append(shape)
    print(f"L2 = {l2_bytes() >> 10} KiB; rates in GB/s (read + written); "
          "Highway columns as a fraction of memcpy")
    print()
    print("| shape | MB | thr | memcpy | hwy nchw | hwy nhwc | hwy 8c | hwy 16c "
          "| hwy best | oneDNN best | hwy/oneDNN |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    misses = []
    for shape in shapes:
        for threads in ("1", "2"):
            mem = rate.get(("memcpy", "", shape, threads))
            if mem is None:
                continue
            hwy = {l: rate.get(("hwy", l, shape, threads)) for l in LAYOUTS}
            dnn = {l: rate.get(("onednn", l, shape, threads)) for l in LAYOUTS}
            best_hwy = max(v for v in hwy.values() if v)
            dnn_vals = [(v, l) for l, v in dnn.items() if v]
            best_dnn, best_dnn_layout = max(dnn_vals) if dnn_vals else (0, "-")
            mb = megabytes[shape]
            cells = " | ".join(f"{hwy[l] / mem:.2f}" if hwy[l] else "-" for l in LAYOUTS)
            print(f"| {shape} | {mb:.1f} | {threads} | {mem:.1f} | {cells} | "
                  f"{best_hwy:.1f} | {best_dnn:.1f} ({best_dnn_layout}) | "
                  f"{best_hwy / best_dnn:.2f} |")
            if mb * 1e6 > l2_bytes():
                for l in LAYOUTS:
                    if hwy[l] and hwy[l] < 0.9 * mem:
                        misses.append(f"{shape} threads {threads} {l}: "
                                      f"{hwy[l] / mem:.2f} of memcpy")
            if best_dnn and best_hwy < best_dnn:
                misses.append(f"{shape} threads {threads}: hwy best {best_hwy:.1f} "
                              f"< oneDNN best {best_dnn:.1f}")
    print()
    if misses:
        print("Targets missed:")
        for m in misses:
            print("  - " + m)
    else:
        print("All targets met.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
