#!/usr/bin/env node
// ONNX Runtime's side of bench/peers/compare.py: times one model the way
// `foldrt bench` does (session creation, first run, latency percentiles over
// timed runs after warmup runs, resident memory) and writes the same JSON
// fields, plus the last run's outputs as .npy for the agreement check.
//
// The session is ORT's default CPU one, fully optimized (graph optimization
// level "all"), intraOpNumThreads = --threads, interOpNumThreads 1,
// sequential execution: what a user of onnxruntime-node gets by default,
// with the thread count pinned to the one foldrt gets.
'use strict';

const fs = require('fs');
const path = require('path');

const ortTools = path.join(__dirname, '..', '..', 'tools', 'ort');
const {readNpy, writeNpy} = require(path.join(ortTools, 'lib', 'npy'));
const {parseModelArgs, runMain, splitAssignment, UsageError} =
    require(path.join(ortTools, 'lib', 'args'));
const runner = require(path.join(ortTools, 'lib', 'ort_runner'));
const {outputFileNames} = require(path.join(ortTools, 'run_ort'));

const USAGE = `usage: node bench/peers/ort_bench.js MODEL.onnx --input [NAME=]X.npy ... [options]

  --input NAME=X.npy   float32 input (a bare X.npy for a one-input model)
  --threads N          intra-op threads (default 1)
  --warmup N           untimed runs first (default 5)
  --iterations N       timed runs (default 50)
  --json FILE          write the figures as JSON (else printed)
  --out-dir DIR        write the last run's outputs as DIR/<name>.npy
  --profile PREFIX     ORT's own profiler on (PREFIX_<date>.json) and its
                       per-op-type kernel time in the report; slows the
                       runs down, so use it for the breakdown, not timing

exit status: 0 ok, 2 usage or load/run error`;

const SPEC = {
  'input': 'list', 'threads': 'int', 'warmup': 'int', 'iterations': 'int',
  'json': 'string', 'out-dir': 'string', 'profile': 'string', 'help': 'bool',
};

// numpy.percentile's default: linear between the closest ranks (as foldrt
// bench computes it).
function percentile(sorted, p) {
  const rank = p / 100 * (sorted.length - 1);
  const lo = Math.floor(rank);
  const hi = Math.min(lo + 1, sorted.length - 1);
  return sorted[lo] + (rank - lo) * (sorted[hi] - sorted[lo]);
}

// Kernel time per op type ("FusedConv", "Add", ...) from ORT's profile file:
// the "Node" events named <node>_kernel_time, averaged over `runs`.
function summarizeOrtProfile(file, runs) {
  const events = JSON.parse(fs.readFileSync(file, 'utf8'));
  const ops = new Map();
  let totalUs = 0;
  for (const e of events) {
    if (e.cat !== 'Node' || !String(e.name).endsWith('_kernel_time')) continue;
    const op = (e.args && e.args.op_name) || '?';
    const entry = ops.get(op) || {op, nodes: new Set(), us: 0};
    entry.nodes.add(e.name);
    entry.us += e.dur;
    ops.set(op, entry);
    totalUs += e.dur;
  }
  return {
    file,
    runs,
    kernel_ms_per_run: totalUs / 1e3 / runs,
    ops: [...ops.values()].sort((a, b) => b.us - a.us).map((o) => ({
      op: o.op, nodes: o.nodes.size, ms_per_run: o.us / 1e3 / runs})),
  };
}

function nowMs() {
  return Number(process.hrtime.bigint()) / 1e6;
}

// Linux reports maxRSS in KiB.
function peakRssMb() {
  return process.resourceUsage().maxRSS * 1024 / 1e6;
}

async function main(argv) {
  const parsed = parseModelArgs(argv, SPEC, USAGE);
  if (!parsed) return 0;
  const {opts, model} = parsed;
  const threads = opts.threads ?? 1;
  const warmup = opts.warmup ?? 5;
  const iterations = opts.iterations ?? 50;
  if (threads < 1) throw new UsageError('--threads must be at least 1');
  if (iterations < 1) throw new UsageError('--iterations must be at least 1');

  const ort = runner.ort();
  const rssBeforeLoad = process.memoryUsage().rss / 1e6;
  const t0 = nowMs();
  let session;
  if (opts.profile) {
    // ort_runner's options plus the profiler.
    session = await ort.InferenceSession.create(model, {
      executionProviders: ['cpu'], graphOptimizationLevel: 'all',
      intraOpNumThreads: threads, interOpNumThreads: 1, executionMode: 'sequential',
      logSeverityLevel: 3, enableProfiling: true, profileFilePrefix: opts.profile,
    });
  } else {
    session = await runner.createSession(model, {threads, optLevel: 'all'});
  }
  const createMs = nowMs() - t0;
  const rssAfterLoad = process.memoryUsage().rss / 1e6;

  const files = {};
  for (const spec of opts.input || []) {
    let [name, file] = splitAssignment(spec, 'input');
    if (name === null) {
      if (session.inputNames.length !== 1) {
        throw new UsageError(`the model has inputs [${session.inputNames.join(', ')}]; ` +
                             'use --input NAME=X.npy');
      }
      name = session.inputNames[0];
    }
    files[name] = file;
  }
  const feeds = {};
  const inputs = [];
  for (const name of session.inputNames) {
    if (!(name in files)) throw new UsageError(`no --input for '${name}'`);
    const t = readNpy(files[name]);
    // Built once: the timed loop measures session.run only.
    feeds[name] = new ort.Tensor('float32', t.data, t.shape);
    inputs.push({name, shape: t.shape, source: `from ${files[name]}`});
  }
  const batch = inputs.length && inputs[0].shape.length ? inputs[0].shape[0] : 1;

  let firstRunMs = -1;
  let results = null;
  for (let i = 0; i < warmup; i++) {
    const s = nowMs();
    results = await session.run(feeds);
    if (i === 0) firstRunMs = nowMs() - s;
  }
  const latencies = [];
  for (let i = 0; i < iterations; i++) {
    const s = nowMs();
    results = await session.run(feeds);
    latencies.push(nowMs() - s);
  }
  if (firstRunMs < 0) firstRunMs = latencies[0];
  const rssAfterRuns = process.memoryUsage().rss / 1e6;

  const sorted = [...latencies].sort((a, b) => a - b);
  const total = latencies.reduce((a, b) => a + b, 0);
  const report = {
    runtime: `onnxruntime-node ${runner.ortVersion()}`,
    model,
    batch,
    threads,
    warmup,
    iterations,
    inputs,
    session_create_ms: createMs,
    first_run_ms: firstRunMs,
    latency_ms: {
      min: sorted[0], p50: percentile(sorted, 50), p90: percentile(sorted, 90),
      p99: percentile(sorted, 99), mean: total / latencies.length,
      max: sorted[sorted.length - 1],
    },
    latencies_ms: latencies,
    throughput_samples_per_s: batch * iterations / (total / 1e3),
    rss_before_load_mb: rssBeforeLoad,
    rss_after_load_mb: rssAfterLoad,
    rss_after_runs_mb: rssAfterRuns,
    peak_rss_mb: peakRssMb(),
  };
  if (opts.profile) {
    session.endProfiling();
    const dir = path.dirname(path.resolve(opts.profile));
    const base = path.basename(opts.profile);
    const files = fs.readdirSync(dir).filter((f) => f.startsWith(base) && f.endsWith('.json'))
        .map((f) => path.join(dir, f))
        .sort((a, b) => fs.statSync(b).mtimeMs - fs.statSync(a).mtimeMs);
    if (!files.length) throw new Error(`ORT wrote no profile next to ${opts.profile}`);
    report.profile = summarizeOrtProfile(files[0], warmup + iterations);
  }
  if (opts['out-dir']) {
    fs.mkdirSync(opts['out-dir'], {recursive: true});
    const names = outputFileNames(session.outputNames);
    report.outputs = {};
    for (const name of session.outputNames) {
      const r = results[name];
      if (r.type !== 'float32') continue;
      const file = path.join(opts['out-dir'], names[name]);
      writeNpy(file, Array.from(r.dims), r.data);
      report.outputs[name] = file;
    }
  }
  const text = JSON.stringify(report, null, 2) + '\n';
  if (opts.json) fs.writeFileSync(opts.json, text);
  else process.stdout.write(text);
  return 0;
}

runMain('ort_bench', main);
