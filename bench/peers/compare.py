#!/usr/bin/python3
"""foldrt against ONNX Runtime and OpenCV dnn: latency, session creation, memory, agreement.

Usage (Debian's python, which sees apt's numpy and python3-opencv):

    /usr/bin/python3 bench/peers/compare.py [MODEL ...] [--batch 1,4] [--threads 1,2]
        [--repeats 3] [--warmup 5] [--iterations 30] [--cache-dir DIR]
        [--foldrt build/tools/foldrt] [--no-ort] [--no-opencv] [--no-fold]
        [--wait-idle SECONDS] [--json FILE] [--markdown FILE]

MODEL is an .onnx file or a torchvision.models name (resnet50, mobilenet_v2, ...), exported
into the cache folder with tools/export_torchvision.py (BatchNormalization kept, random
weights) the first time. Default: the seven models of docs/performance.md.

For every model x batch x threads the three runners get the same seeded input .npy (the
model's input shape, symbolic dims = batch), the same warmup and timed iteration counts and
the same thread count, each in a fresh process:

- foldrt: `foldrt bench --json` (BN folded at load unless --no-fold);
- ONNX Runtime: bench/peers/ort_bench.js (onnxruntime-node from tools/ort, graph
  optimization "all", intraOpNumThreads = threads, interOpNumThreads 1);
- OpenCV dnn: cv2.dnn.readNetFromONNX, OpenCV backend on the CPU, cv2.setNumThreads
  (this script, re-run as `compare.py opencv-worker`); models it cannot load are skipped
  with its reason.

Runs are interleaved (foldrt, ORT, OpenCV, then again, --repeats times) so that a change in
machine load hits all three alike; each figure is the median over the repeats of the
per-process figure (p50 latency: the median of medians). Agreement is max|a - b| / max|b|
of the first output, foldrt against ORT (and OpenCV against ORT), on that same input.

Timings are only meaningful on an otherwise idle machine: the script samples how busy the
CPUs were (/proc/stat, 0.5 s) before each round and prints it; --wait-idle waits up to that
many seconds for the CPUs to drop below 25 % busy before each round. Not part of CI.
"""

import argparse
import json
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEFAULT_MODELS = ["resnet18", "resnet50", "mobilenet_v2", "densenet121", "efficientnet_b0",
                  "shufflenet_v2_x1_0", "vgg11_bn"]
RUNNERS = ["foldrt", "ort", "opencv"]
TIMEOUT_S = 1800


class RunnerError(Exception):
    pass


def percentile(sorted_values, p):
    """numpy.percentile's default (linear between closest ranks), as foldrt bench does."""
    return float(np.percentile(np.asarray(sorted_values, dtype=np.float64), p))


def cpu_busy_fraction(seconds=0.5):
    """Share of all CPUs' time not idle over `seconds` (other processes' load)."""
    def sample():
        with open("/proc/stat") as f:
            fields = [int(v) for v in f.readline().split()[1:]]
        idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
        return sum(fields), idle
    total0, idle0 = sample()
    time.sleep(seconds)
    total1, idle1 = sample()
    total = total1 - total0
    return 0.0 if total <= 0 else 1.0 - (idle1 - idle0) / total


def wait_until_idle(max_wait_s, threshold=0.25):
    busy = cpu_busy_fraction()
    deadline = time.monotonic() + max_wait_s
    while busy > threshold and time.monotonic() < deadline:
        time.sleep(2.0)
        busy = cpu_busy_fraction()
    return busy


def run(cmd, what):
    try:
        proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              timeout=TIMEOUT_S)
    except subprocess.TimeoutExpired:
        raise RunnerError(f"{what}: timed out after {TIMEOUT_S} s")
    if proc.returncode != 0:
        lines = [l for l in proc.stderr.strip().splitlines() if l.strip()]
        raise RunnerError(f"{what}: exit {proc.returncode}: "
                          f"{lines[-1] if lines else proc.stdout.strip()[-300:]}")
    return proc


def resolve_model(spec, cache_dir):
    """An .onnx path as is; a torchvision name exported into the cache once."""
    if spec.endswith(".onnx") or os.path.sep in spec:
        if not os.path.isfile(spec):
            sys.exit(f"compare: {spec}: no such file")
        return os.path.splitext(os.path.basename(spec))[0], os.path.abspath(spec)
    path = os.path.join(cache_dir, f"{spec}.onnx")
    if not os.path.isfile(path):
        print(f"exporting torchvision {spec} -> {path}", file=sys.stderr)
        tmp = path + ".tmp.onnx"
        run(["/usr/bin/python3", os.path.join(ROOT, "tools", "export_torchvision.py"), spec, tmp],
            f"export {spec}")
        os.replace(tmp, path)
    return spec, path


def model_inputs(foldrt, model):
    """[(name, shape with symbolic dims as strings)] from `foldrt inspect --json`."""
    doc = json.loads(run([foldrt, "inspect", model, "--json"], "foldrt inspect").stdout)
    return [(i["name"], i["shape"]) for i in doc["inputs"]]


def make_inputs(inputs, batch, folder, tag):
    """Seeded standard normal float32 .npy per input, symbolic dims = batch."""
    files = []
    for k, (name, shape) in enumerate(inputs):
        if shape is None:
            raise RunnerError(f"input '{name}' declares no shape")
        dims = [d if isinstance(d, int) else batch for d in shape]
        x = np.random.default_rng(k).standard_normal(dims, dtype=np.float32)
        path = os.path.join(folder, f"{tag}.{re.sub(r'[^A-Za-z0-9._-]', '_', name)}.npy")
        np.save(path, x)
        files.append((name, path))
    return files


def run_worker(what, cmd, args, threads, inputs, report):
    """Runs one runtime's bench process (the options all three share, then
    each input as --input NAME=FILE) and returns the JSON report it wrote."""
    cmd = cmd + ["--threads", str(threads), "--warmup", str(args.warmup),
                 "--iterations", str(args.iterations), "--json", report]
    for name, path in inputs:
        cmd += ["--input", f"{name}={path}"]
    run(cmd, what)
    with open(report) as f:
        return json.load(f)


def run_foldrt(args, model, batch, threads, inputs, out_dir, report):
    cmd = [args.foldrt, "bench", model, "--batch", str(batch),
           "--output-dir", out_dir] + (["--no-fold"] if args.no_fold else [])
    return run_worker("foldrt bench", cmd, args, threads, inputs, report)


def run_ort(args, model, batch, threads, inputs, out_dir, report):
    cmd = ["node", os.path.join(ROOT, "bench", "peers", "ort_bench.js"), model,
           "--out-dir", out_dir]
    return run_worker("ort_bench.js", cmd, args, threads, inputs, report)


def run_opencv(args, model, batch, threads, inputs, out_dir, report):
    cmd = [sys.executable, os.path.abspath(__file__), "opencv-worker", model,
           "--out-dir", out_dir]
    return run_worker("OpenCV dnn", cmd, args, threads, inputs, report)


def first_output(report):
    outputs = report.get("outputs") or {}
    if not outputs:
        return None, None
    name = next(iter(outputs))
    return name, np.load(outputs[name])


def max_rel_diff(got, ref):
    """max|got - ref| / max|ref| in double (tools/ort's rmax); None if shapes differ."""
    if got is None or ref is None or got.shape != ref.shape:
        return None
    g = got.astype(np.float64)
    r = ref.astype(np.float64)
    scale = np.max(np.abs(r)) if r.size else 0.0
    diff = np.max(np.abs(g - r)) if r.size else 0.0
    return float(diff / scale) if scale > 0 else float(diff)


def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def benchmark(args, name, model, batch, threads, work):
    """Interleaved repeats of the three runners on one configuration."""
    inputs = make_inputs(model_inputs(args.foldrt, model), batch, work, f"{name}.b{batch}")
    runners = [r for r in RUNNERS if not (r == "ort" and args.no_ort)
               and not (r == "opencv" and args.no_opencv)]
    funcs = {"foldrt": run_foldrt, "ort": run_ort, "opencv": run_opencv}
    reports = {r: [] for r in runners}
    errors = {}
    busy = []
    for rep in range(args.repeats):
        busy.append(wait_until_idle(args.wait_idle) if args.wait_idle > 0
                    else cpu_busy_fraction())
        for r in runners:
            if r in errors:
                continue
            out_dir = os.path.join(work, f"{name}.b{batch}.t{threads}.{r}.{rep}")
            report = out_dir + ".json"
            try:
                reports[r].append(funcs[r](args, model, batch, threads, inputs, out_dir,
                                           report))
            except RunnerError as e:
                errors[r] = str(e)
            print(f"  {name} batch {batch} threads {threads} round {rep + 1}/{args.repeats} "
                  f"{r}: " + (f"p50 {reports[r][-1]['latency_ms']['p50']:.3f} ms"
                              if r not in errors else f"FAILED {errors[r]}"),
                  file=sys.stderr)

    row = {"model": name, "path": model, "batch": batch, "threads": threads,
           "repeats": args.repeats, "warmup": args.warmup, "iterations": args.iterations,
           "cpu_busy_before_rounds": busy, "errors": errors}
    for r in runners:
        rs = reports[r]
        row[r] = None if not rs else {
            "p50_ms": median([x["latency_ms"]["p50"] for x in rs]),
            "p50_ms_per_round": [x["latency_ms"]["p50"] for x in rs],
            "p90_ms": median([x["latency_ms"]["p90"] for x in rs]),
            "p99_ms": median([x["latency_ms"]["p99"] for x in rs]),
            "min_ms": median([x["latency_ms"]["min"] for x in rs]),
            "throughput_samples_per_s": median([x["throughput_samples_per_s"] for x in rs]),
            "session_create_ms": median([x["session_create_ms"] for x in rs]),
            "first_run_ms": median([x["first_run_ms"] for x in rs]),
            "rss_after_load_mb": median([x["rss_after_load_mb"] for x in rs]),
            "peak_rss_mb": median([x["peak_rss_mb"] for x in rs]),
        }
    ref = first_output(reports["ort"][0])[1] if reports.get("ort") else None
    if reports.get("foldrt") and reports.get("ort"):
        # Every output both wrote, matched by name; the worst one.
        got = reports["foldrt"][0].get("outputs") or {}
        want = reports["ort"][0].get("outputs") or {}
        diffs = [max_rel_diff(np.load(got[n]), np.load(want[n])) for n in want if n in got]
        row["foldrt_vs_ort_max_rel_diff"] = (None if not diffs or None in diffs
                                             else max(diffs))
    if reports.get("opencv") and ref is not None:
        row["opencv_vs_ort_max_rel_diff"] = max_rel_diff(first_output(reports["opencv"][0])[1],
                                                         ref)
    return row


def fmt(v, spec=".2f"):
    return "–" if v is None else format(v, spec)


def fmt_ms(v):
    """Three significant digits below 100 ms, tenths above."""
    if v is None:
        return "–"
    return format(v, ".1f") if v >= 100 else format(float(format(v, ".3g")), "g")


def ratio(a, b):
    return None if a is None or b is None or b == 0 else a / b


def markdown(rows):
    def get(row, runner, key):
        return (row.get(runner) or {}).get(key)
    lines = [
        "| model | batch | threads | foldrt p50 ms | ORT p50 ms | foldrt/ORT | OpenCV p50 ms "
        "| foldrt/OpenCV | create ms foldrt / ORT / OpenCV | peak RSS MB foldrt / ORT / OpenCV "
        "| max rel diff vs ORT: foldrt / OpenCV |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    notes = {}  # (model, runner, error) -> configurations
    for row in rows:
        f, o, c = (get(row, r, "p50_ms") for r in RUNNERS)
        create = " / ".join(fmt(get(row, r, "session_create_ms"), ".0f") for r in RUNNERS)
        rss = " / ".join(fmt(get(row, r, "peak_rss_mb"), ".0f") for r in RUNNERS)
        lines.append(
            f"| {row['model']} | {row['batch']} | {row['threads']} | {fmt_ms(f)} | {fmt_ms(o)} "
            f"| {fmt(ratio(f, o))} | {fmt_ms(c)} | {fmt(ratio(f, c))} | {create} | {rss} "
            f"| {fmt(row.get('foldrt_vs_ort_max_rel_diff'), '.1e')} / "
            f"{fmt(row.get('opencv_vs_ort_max_rel_diff'), '.1e')} |")
        for runner, error in row["errors"].items():
            notes.setdefault((row["model"], runner, error), []).append(
                f"batch {row['batch']} threads {row['threads']}")
    busy = [b for row in rows for b in row["cpu_busy_before_rounds"]]
    if busy:
        lines.append("")
        lines.append(f"CPU busy before rounds (other processes): median "
                     f"{100 * statistics.median(busy):.0f} %, max {100 * max(busy):.0f} %.")
    if notes:
        lines.append("")
        lines.append("Skipped or failed:")
        for (model, runner, error), configs in notes.items():
            lines.append(f"- {model}, {runner} ({', '.join(configs)}): {error}")
    return "\n".join(lines) + "\n"


# ------------------------------------------------------------------ OpenCV worker

def opencv_reason(error):
    """OpenCV's multi-line message as one line: the failing node and the check."""
    text = " ".join(l.lstrip("> ").strip() for l in str(error).splitlines() if l.strip())
    node = re.search(r"Node \[([^\]]+)\]:\(onnx_node!([^)]*)\)", text)
    check = re.search(r"\(expected: '([^']*)'\), where\s+'([^']*)' is (\S+)", text)
    if node and check:
        return (f"{node.group(1)} node {node.group(2)}: expected {check.group(1)}, "
                f"but {check.group(2)} is {check.group(3)}")
    shown = re.search(r"error: \([^)]*\) (.*)", text)
    return (shown.group(1) if shown else text)[:300]


def opencv_worker(argv):
    import cv2

    parser = argparse.ArgumentParser(prog="compare.py opencv-worker")
    parser.add_argument("model")
    parser.add_argument("--input", action="append", default=[], help="NAME=X.npy")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--iterations", type=int, default=50)
    parser.add_argument("--json", required=True)
    parser.add_argument("--out-dir")
    a = parser.parse_args(argv)

    def rss_mb():
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6

    cv2.setNumThreads(a.threads)
    feeds = []
    for spec in a.input:
        name, _, path = spec.partition("=")
        feeds.append((name, np.ascontiguousarray(np.load(path), dtype=np.float32)))
    rss_before = rss_mb()
    t0 = time.perf_counter()
    try:
        net = cv2.dnn.readNetFromONNX(a.model)
    except cv2.error as e:
        sys.exit(f"cannot load the model: {opencv_reason(e)}")
    create_ms = 1e3 * (time.perf_counter() - t0)
    net.setPreferableBackend(cv2.dnn.DNN_BACKEND_OPENCV)
    net.setPreferableTarget(cv2.dnn.DNN_TARGET_CPU)
    rss_after_load = rss_mb()
    out_names = net.getUnconnectedOutLayersNames()

    def forward():
        for name, x in feeds:
            net.setInput(x, name)
        return net.forward(out_names)

    first_ms = None
    outs = None
    try:
        for i in range(a.warmup):
            s = time.perf_counter()
            outs = forward()
            if i == 0:
                first_ms = 1e3 * (time.perf_counter() - s)
        latencies = []
        for _ in range(a.iterations):
            s = time.perf_counter()
            outs = forward()
            latencies.append(1e3 * (time.perf_counter() - s))
    except cv2.error as e:
        sys.exit(f"cannot run the model: {opencv_reason(e)}")
    if first_ms is None:
        first_ms = latencies[0]
    s = sorted(latencies)
    batch = feeds[0][1].shape[0] if feeds and feeds[0][1].ndim else 1
    report = {
        "runtime": f"OpenCV {cv2.__version__} dnn (DNN_BACKEND_OPENCV, CPU)",
        "model": a.model, "batch": int(batch), "threads": a.threads, "warmup": a.warmup,
        "iterations": a.iterations, "session_create_ms": create_ms, "first_run_ms": first_ms,
        "latency_ms": {"min": s[0], "p50": percentile(s, 50), "p90": percentile(s, 90),
                       "p99": percentile(s, 99), "mean": sum(s) / len(s), "max": s[-1]},
        "latencies_ms": latencies,
        "throughput_samples_per_s": batch * len(s) / (sum(s) / 1e3),
        "rss_before_load_mb": rss_before, "rss_after_load_mb": rss_after_load,
        "rss_after_runs_mb": rss_mb(),
        # Linux: KiB.
        "peak_rss_mb": max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 1e6,
                           rss_mb()),
    }
    if a.out_dir:
        os.makedirs(a.out_dir, exist_ok=True)
        report["outputs"] = {}
        for k, (name, out) in enumerate(zip(out_names, outs)):
            path = os.path.join(a.out_dir, f"output{k}.npy")
            np.save(path, np.asarray(out, dtype=np.float32))
            report["outputs"][name] = path
    with open(a.json, "w") as f:
        json.dump(report, f, indent=1)


# ------------------------------------------------------------------ main

def main():
    if len(sys.argv) > 1 and sys.argv[1] == "opencv-worker":
        return opencv_worker(sys.argv[2:])
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("models", nargs="*", default=DEFAULT_MODELS)
    parser.add_argument("--batch", default="1,4", help="comma-separated batch sizes")
    parser.add_argument("--threads", default="1,2", help="comma-separated thread counts")
    parser.add_argument("--repeats", type=int, default=3, help="interleaved rounds")
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--iterations", type=int, default=30)
    parser.add_argument("--cache-dir", default=os.path.join(tempfile.gettempdir(),
                                                            "foldrt_peer_models"))
    parser.add_argument("--foldrt", default=os.path.join(ROOT, "build", "tools", "foldrt"))
    parser.add_argument("--no-ort", action="store_true")
    parser.add_argument("--no-opencv", action="store_true")
    parser.add_argument("--no-fold", action="store_true", help="foldrt bench --no-fold")
    parser.add_argument("--wait-idle", type=float, default=0.0, metavar="SECONDS")
    parser.add_argument("--json", help="write every figure (all rounds) as JSON")
    parser.add_argument("--markdown", help="also write the table to this file")
    args = parser.parse_args()
    if args.repeats < 1 or args.iterations < 1 or args.warmup < 0:
        parser.error("--repeats and --iterations must be >= 1, --warmup >= 0")
    if not os.access(args.foldrt, os.X_OK):
        parser.error(f"{args.foldrt} is not an executable (build foldrt, or pass --foldrt)")
    batches = [int(b) for b in args.batch.split(",")]
    threads = [int(t) for t in args.threads.split(",")]
    os.makedirs(args.cache_dir, exist_ok=True)

    rows = []
    with tempfile.TemporaryDirectory(prefix="foldrt_peers_") as work:
        for spec in args.models:
            name, model = resolve_model(spec, args.cache_dir)
            for b in batches:
                for t in threads:
                    try:
                        rows.append(benchmark(args, name, model, b, t, work))
                    except RunnerError as e:
                        print(f"compare: {name} batch {b} threads {t}: {e}", file=sys.stderr)
    table = markdown(rows)
    print(table, end="")
    if args.markdown:
        with open(args.markdown, "w") as f:
            f.write(table)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"load_average": os.getloadavg(), "rows": rows}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
