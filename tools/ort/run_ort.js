#!/usr/bin/env node
// Runs an ONNX model in ONNX Runtime (CPU) on float32 .npy inputs.
'use strict';

const fs = require('fs');
const path = require('path');
const {readNpy, writeNpy} = require('./lib/npy');
const {compareTensors, describe} = require('./lib/compare');
const {parseModelArgs, runMain, splitAssignment, UsageError} = require('./lib/args');
const runner = require('./lib/ort_runner');

const USAGE = `usage: node tools/ort/run_ort.js MODEL.onnx --input NAME=FILE.npy ... [options]

  --input NAME=FILE.npy   float32 C-order input (repeat per input; a bare
                          FILE.npy is fine when the model has one input)
  --out-dir DIR           write each output to DIR/<sanitized name>.npy
  --threads N             intra-op threads (default 1; 0 = ORT's default)
  --opt-level L           disabled|basic|extended|layout|all (default all)
  --compare NAME=REF.npy  compare output NAME with REF.npy (a bare REF.npy is
                          fine when the model has one output); prints the
                          relative L2 error and max|diff| / max|ref|
  --rtol-l2 T             fail when relative L2 error > T (default 1e-4)
  --rmax T                fail when max|diff| / max|ref| > T (default 1e-3)

exit status: 0 ok, 1 a comparison exceeded the tolerance, 2 usage or
load/run error (e.g. ORT rejected the model)`;

const SPEC = {
  'input': 'list', 'out-dir': 'string', 'threads': 'int', 'opt-level': 'string',
  'compare': 'list', 'rtol-l2': 'number', 'rmax': 'number', 'help': 'bool',
};

// Output names such as '/layer1/Relu_output_0' or 'out:0' -> safe file names.
function sanitize(name) {
  let s = name.replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^[._]+/, '');
  if (!s) s = 'output';
  return s.slice(0, 200);
}

function outputFileNames(names) {
  const used = new Set();
  const map = {};
  for (const n of names) {
    let base = sanitize(n);
    let candidate = base;
    for (let k = 1; used.has(candidate.toLowerCase()); k++) candidate = `${base}_${k}`;
    used.add(candidate.toLowerCase());
    map[n] = candidate + '.npy';
  }
  return map;
}

function resolveNames(pairs, names, what) {
  const out = {};
  for (const [name, file] of pairs) {
    let n = name;
    if (n === null) {
      if (names.length !== 1) {
        throw new UsageError(`${what} ${file}: the model has ${names.length} ${what}s ` +
                             `[${names.join(', ')}]; use NAME=FILE`);
      }
      n = names[0];
    }
    if (!names.includes(n)) {
      throw new UsageError(`${what} '${n}' is not one of the model's ${what}s [${names.join(', ')}]`);
    }
    if (n in out) throw new UsageError(`${what} '${n}' given twice`);
    out[n] = file;
  }
  return out;
}

async function main(argv) {
  const parsed = parseModelArgs(argv, SPEC, USAGE);
  if (!parsed) return 0;
  const {opts, model} = parsed;
  const tol = {relL2: opts['rtol-l2'] ?? 1e-4, rmax: opts.rmax ?? 1e-3};

  const session = await runner.createSession(model, {
    threads: opts.threads ?? 1, optLevel: opts['opt-level'] || 'all'});
  const inputs = resolveNames((opts.input || []).map((s) => splitAssignment(s, 'input')),
                              session.inputNames, 'input');
  const refs = resolveNames((opts.compare || []).map((s) => splitAssignment(s, 'compare')),
                            session.outputNames, 'output');
  const feeds = {};
  for (const [name, file] of Object.entries(inputs)) {
    feeds[name] = readNpy(file);
    console.log(`input  ${name}: (${feeds[name].shape.join(', ')}) float32 <- ${file}`);
  }

  const t0 = process.hrtime.bigint();
  const outputs = await runner.run(session, feeds);
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;

  const files = outputFileNames(session.outputNames);
  if (opts['out-dir']) fs.mkdirSync(opts['out-dir'], {recursive: true});
  for (const name of session.outputNames) {
    const o = outputs[name];
    let where = '';
    if (opts['out-dir']) {
      if (o.type !== 'float32') {
        throw new Error(`output ${name} is ${o.type}; only float32 outputs can be written as .npy`);
      }
      const f = path.join(opts['out-dir'], files[name]);
      writeNpy(f, o.shape, o.data);
      where = ` -> ${f}`;
    }
    console.log(`output ${name}: (${o.shape.join(', ')}) ${o.type}${where}`);
  }
  console.log(`ran in ${ms.toFixed(1)} ms (onnxruntime-node ${runner.ortVersion()}, CPU, ` +
              `opt-level ${opts['opt-level'] || 'all'}, threads ${opts.threads ?? 1})`);

  let failed = 0;
  for (const [name, file] of Object.entries(refs)) {
    const o = outputs[name];
    if (o.type !== 'float32') throw new Error(`output ${name} is ${o.type}, can only compare float32`);
    const m = compareTensors({shape: o.shape, data: o.data}, readNpy(file), tol);
    console.log(`compare ${name} vs ${file}: ${describe(m)} ${m.ok ? 'ok' : 'FAIL: ' + m.why}`);
    if (!m.ok) failed++;
  }
  if (failed) {
    console.log(`${failed} comparison(s) beyond tolerance (rel_l2 <= ${tol.relL2}, rmax <= ${tol.rmax})`);
    return 1;
  }
  return 0;
}

if (require.main === module) runMain('run_ort', main);

module.exports = {sanitize, outputFileNames};
