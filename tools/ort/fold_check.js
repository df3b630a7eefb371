#!/usr/bin/env node
// Cross-checks `foldrt fold` against ONNX Runtime.
//
// Manifest mode (default): for every model in tests/data/MANIFEST.json, fold
// it with foldrt, run the original and the folded model in ONNX Runtime (CPU)
// on the stored input, and compare both with the stored torch reference and
// with each other. Also checks the BatchNormalization counts (read from the
// ONNX files themselves) and each BN's fold fate against the manifest.
//
// Model mode (--model M.onnx): fold one model, run original and folded on a
// seeded random input, compare folded with original.
'use strict';

const fs = require('fs');
const os = require('os');
const path = require('path');
const {spawnSync} = require('child_process');
const {readNpy, numel} = require('./lib/npy');
const {compareTensors, fmt} = require('./lib/compare');
const {countOps} = require('./lib/onnx_ops');
const {randomTensor} = require('./lib/random');
const {parseArgs, runMain, UsageError} = require('./lib/args');
const runner = require('./lib/ort_runner');

const REPO = path.resolve(__dirname, '..', '..');

const USAGE = `usage: node tools/ort/fold_check.js --foldrt BIN [options]

  --foldrt BIN        foldrt binary (default build/tools/foldrt)
  --data DIR          test models + MANIFEST.json (default tests/data)
  --only A,B,...      only these manifest models
  --model M.onnx      model mode: fold M.onnx, run original and folded on a
                      seeded random input, compare them (no torch reference)
  --input-shape S     model mode: input shape, e.g. 1,3,224,224 (default: the
                      model's, symbolic dims = 1); NAME=S for several inputs
  --seed S            model mode: PRNG seed (default 0)
  --threads N         ORT intra-op threads (default 1)
  --opt-level L       ORT graph optimization level (default all)
  --rtol-l2 T         relative L2 tolerance (default 1e-5)
  --rmax T            max|diff| / max|ref| tolerance (default 1e-4)
  --work DIR          keep the folded models and reports in DIR
  -v, --verbose       print foldrt's fold table for each model

exit status: 0 all pass, 1 a check failed, 2 usage or setup error`;

const SPEC = {
  'foldrt': 'string', 'data': 'string', 'only': 'string', 'model': 'string',
  'input-shape': 'list', 'seed': 'int', 'threads': 'int', 'opt-level': 'string',
  'rtol-l2': 'number', 'rmax': 'number', 'work': 'string', 'verbose': 'bool', 'help': 'bool',
};

function runFold(foldrt, model, out, report, verbose) {
  const r = spawnSync(foldrt, ['fold', model, '-o', out, '--report', report],
                      {encoding: 'utf8', maxBuffer: 64 << 20});
  if (r.error) throw new Error(`cannot run ${foldrt}: ${r.error.message}`);
  if (verbose) process.stdout.write(r.stdout.replace(/^/gm, '    '));
  if (r.status !== 0) {
    const msg = (r.stderr || r.stdout || '').trim().split('\n').slice(-3).join(' | ');
    return `foldrt fold exited ${r.status === null ? 'by signal ' + r.signal : r.status}: ${msg}`;
  }
  return null;
}

async function runInOrt(model, feeds, opts, what) {
  let session;
  try {
    session = await runner.createSession(model, opts);
  } catch (e) {
    throw new Error(`ORT rejected the ${what} model: ${e.message.trim()}`);
  }
  try {
    return await runner.run(session, feeds);
  } catch (e) {
    throw new Error(`ORT failed to run the ${what} model: ${e.message.trim()}`);
  }
}

// Worst metrics over several outputs.
function worst(list) {
  return list.reduce((a, m) => ({
    relL2: Math.max(a.relL2, m.relL2), rmax: Math.max(a.rmax, m.rmax), ok: a.ok && m.ok,
  }), {relL2: 0, rmax: 0, ok: true});
}

function asTensor(o) {
  return {shape: o.shape, data: o.data};
}

function pad(s, n, right = false) {
  s = String(s);
  return right ? s.padStart(n) : s.padEnd(n);
}

function metric(m) {
  return m ? `${fmt(m.rmax)} ${fmt(m.relL2)}` : '-';
}

function printTable(rows) {
  const w = Math.max(5, ...rows.map((r) => r.name.length));
  const head = `${pad('model', w)}  ${pad('BN', 3, true)} ${pad('->', 4)}` +
               `  ${pad('orig vs torch', 17)}  ${pad('folded vs torch', 17)}` +
               `  ${pad('folded vs orig', 17)}  status`;
  const sub = `${pad('', w)}  ${pad('', 8)}  ${pad('rmax    relL2', 17)}` +
              `  ${pad('rmax    relL2', 17)}  ${pad('rmax    relL2', 17)}`;
  console.log(head);
  console.log(sub);
  console.log('-'.repeat(head.length + 4));
  for (const r of rows) {
    const after = r.bnAfter === undefined ? '?' : String(r.bnAfter);
    console.log(`${pad(r.name, w)}  ${pad(r.bnBefore ?? '?', 3, true)} ${pad('-> ' + after, 4)}` +
                `  ${pad(metric(r.o2t), 17)}  ${pad(metric(r.f2t), 17)}  ${pad(metric(r.f2o), 17)}` +
                `  ${r.failures.length ? 'FAIL' : 'ok'}`);
  }
}

async function checkManifestModel(m, ctx) {
  const row = {name: m.name, failures: []};
  const fail = (msg) => row.failures.push(msg);
  const orig = path.join(ctx.data, m.file);
  row.bnBefore = countOps(orig).BatchNormalization || 0;
  if (row.bnBefore !== m.num_batchnorm) {
    fail(`original has ${row.bnBefore} BatchNormalization, MANIFEST says ${m.num_batchnorm}`);
  }
  const folded = path.join(ctx.work, `${m.name}.folded.onnx`);
  const reportFile = path.join(ctx.work, `${m.name}.report.json`);
  const foldErr = runFold(ctx.foldrt, orig, folded, reportFile, ctx.verbose);
  if (foldErr) {
    fail(foldErr);
    return row;
  }
  row.bnAfter = countOps(folded).BatchNormalization || 0;
  const expected = m.batchnorms.filter((b) => b.fold === 'none').length;
  if (row.bnAfter !== expected) {
    fail(`folded model has ${row.bnAfter} BatchNormalization, MANIFEST expects ${expected} to stay`);
  }
  const report = JSON.parse(fs.readFileSync(reportFile, 'utf8'));
  for (const b of m.batchnorms) {
    const rb = (report.batch_norms || []).find((x) => x.node === b.node);
    if (!rb) fail(`fold report has no entry for ${b.node}`);
    else if (rb.fold !== b.fold) fail(`${b.node}: foldrt says '${rb.fold}', MANIFEST says '${b.fold}'`);
  }

  const feeds = {};
  m.inputs.forEach((inp, i) => {
    feeds[inp.name] = readNpy(path.join(ctx.data, m.input_files[i]));
  });
  let origOut;
  let foldOut;
  try {
    origOut = await runInOrt(orig, feeds, ctx.ortOpts, 'original');
  } catch (e) {
    fail(e.message);
  }
  try {
    foldOut = await runInOrt(folded, feeds, ctx.ortOpts, 'folded');
  } catch (e) {
    fail(e.message);
  }
  const o2t = [];
  const f2t = [];
  const f2o = [];
  m.outputs.forEach((out, i) => {
    const ref = readNpy(path.join(ctx.data, m.output_files[i]));
    const check = (outs, what, list, against = ref) => {
      if (!outs) return;
      if (!(out.name in outs)) {
        fail(`${what}: no output '${out.name}' (model outputs: ${Object.keys(outs).join(', ')})`);
        return;
      }
      const c = compareTensors(asTensor(outs[out.name]), against, ctx.tol);
      list.push(c);
      if (!c.ok) fail(`${what} '${out.name}': ${c.why} (max|diff| ${fmt(c.maxDiff)}, max|ref| ${fmt(c.maxRef)})`);
    };
    check(origOut, 'original vs torch', o2t);
    check(foldOut, 'folded vs torch', f2t);
    if (origOut && foldOut && out.name in origOut) {
      check(foldOut, 'folded vs original (ORT)', f2o, asTensor(origOut[out.name]));
    }
  });
  if (o2t.length) row.o2t = worst(o2t);
  if (f2t.length) row.f2t = worst(f2t);
  if (f2o.length) row.f2o = worst(f2o);
  return row;
}

async function manifestMode(ctx, only) {
  const manifest = JSON.parse(fs.readFileSync(path.join(ctx.data, 'MANIFEST.json'), 'utf8'));
  let models = manifest.models;
  if (only) {
    const names = only.split(',').map((s) => s.trim()).filter(Boolean);
    const unknown = names.filter((n) => !models.some((m) => m.name === n));
    if (unknown.length) throw new UsageError(`not in the manifest: ${unknown.join(', ')}`);
    models = models.filter((m) => names.includes(m.name));
  }
  const rows = [];
  for (const m of models) {
    if (ctx.verbose) console.log(`== ${m.name}`);
    let row;
    try {
      row = await checkManifestModel(m, ctx);
    } catch (e) {
      row = {name: m.name, failures: [`error: ${e.message}`]};
    }
    rows.push(row);
  }
  printTable(rows);
  return rows;
}

function parseInputShapes(list) {
  const shapes = {};
  for (const s of list || []) {
    const eq = s.lastIndexOf('=');
    const name = eq >= 0 ? s.slice(0, eq) : '';
    const dims = (eq >= 0 ? s.slice(eq + 1) : s).split(',').map((d) => d.trim());
    if (dims.some((d) => !/^\d+$/.test(d))) throw new UsageError(`bad --input-shape '${s}'`);
    shapes[name] = dims.map(Number);
  }
  return shapes;
}

async function modelMode(ctx, model, opts) {
  const name = path.basename(model).replace(/\.onnx$/, '');
  const row = {name, failures: []};
  const fail = (msg) => row.failures.push(msg);
  row.bnBefore = countOps(model).BatchNormalization || 0;
  const folded = path.join(ctx.work, `${name}.folded.onnx`);
  const reportFile = path.join(ctx.work, `${name}.report.json`);
  const t0 = Date.now();
  const foldErr = runFold(ctx.foldrt, model, folded, reportFile, ctx.verbose);
  console.log(`foldrt fold: ${((Date.now() - t0) / 1000).toFixed(2)} s`);
  if (foldErr) {
    fail(foldErr);
  } else {
    row.bnAfter = countOps(folded).BatchNormalization || 0;
    const report = JSON.parse(fs.readFileSync(reportFile, 'utf8'));
    if (report.summary && row.bnAfter !== report.summary.not_folded) {
      fail(`folded model has ${row.bnAfter} BatchNormalization, foldrt's report says ` +
           `${report.summary.not_folded} stay`);
    }
    const shapes = parseInputShapes(opts['input-shape']);
    const session = await runner.createSession(model, ctx.ortOpts);
    const feeds = {};
    session.inputNames.forEach((inName, i) => {
      const meta = (session.inputMetadata || [])[i] || {};
      if (meta.type && meta.type !== 'float32') {
        throw new Error(`input ${inName} is ${meta.type}; only float32 inputs are supported`);
      }
      let shape = shapes[inName] || (session.inputNames.length === 1 ? shapes[''] : undefined);
      if (!shape) {
        if (!meta.shape) throw new UsageError(`give --input-shape for ${inName}`);
        shape = meta.shape.map((d) => (typeof d === 'number' && d > 0 ? d : 1));
      }
      const seed = (opts.seed ?? 0) + i;
      feeds[inName] = {shape, data: randomTensor(numel(shape), seed)};
      console.log(`input ${inName}: (${shape.join(', ')}) float32, normal, seed ${seed}`);
    });
    // Loads and runs one model in ORT; undefined (and a failure) if it cannot.
    const timedRun = async (file, label) => {
      try {
        const start = Date.now();
        const out = await runInOrt(file, feeds, ctx.ortOpts, label);
        console.log(`ORT ${(label + ':').padEnd(9)} load + run ` +
                    `${((Date.now() - start) / 1000).toFixed(2)} s`);
        return out;
      } catch (e) {
        fail(e.message);
        return undefined;
      }
    };
    const origOut = await timedRun(model, 'original');
    const foldOut = await timedRun(folded, 'folded');
    if (origOut && foldOut) {
      const list = [];
      for (const [outName, o] of Object.entries(origOut)) {
        const c = compareTensors(asTensor(foldOut[outName]), asTensor(o), ctx.tol);
        list.push(c);
        console.log(`output ${outName} (${o.shape.join(', ')}): folded vs original ` +
                    `rel_l2=${fmt(c.relL2)} rmax=${fmt(c.rmax)} max|diff|=${fmt(c.maxDiff)} ` +
                    `max|ref|=${fmt(c.maxRef)}`);
        if (!c.ok) fail(`folded vs original '${outName}': ${c.why}`);
      }
      row.f2o = worst(list);
    }
  }
  printTable([row]);
  return [row];
}

async function main(argv) {
  const args = argv.map((a) => (a === '-v' ? '--verbose' : a));
  const {opts, positional} = parseArgs(args, SPEC);
  if (opts.help) {
    console.log(USAGE);
    return 0;
  }
  if (positional.length) throw new UsageError(`unexpected argument ${positional[0]}`);
  const foldrt = path.resolve(opts.foldrt || path.join(REPO, 'build', 'tools', 'foldrt'));
  if (!fs.existsSync(foldrt)) throw new UsageError(`foldrt binary not found: ${foldrt}`);
  runner.ort();  // fail early (exit 2) when onnxruntime-node is missing

  const keep = Boolean(opts.work);
  const work = keep ? path.resolve(opts.work) : fs.mkdtempSync(path.join(os.tmpdir(), 'ort_fold_check-'));
  fs.mkdirSync(work, {recursive: true});
  const ctx = {
    foldrt,
    data: path.resolve(opts.data || path.join(REPO, 'tests', 'data')),
    work,
    verbose: Boolean(opts.verbose),
    tol: {relL2: opts['rtol-l2'] ?? 1e-5, rmax: opts.rmax ?? 1e-4},
    ortOpts: {threads: opts.threads ?? 1, optLevel: opts['opt-level'] || 'all'},
  };
  console.log(`foldrt: ${foldrt}`);
  console.log(`onnxruntime-node ${runner.ortVersion()} (CPU EP), opt-level ${ctx.ortOpts.optLevel}, ` +
              `threads ${ctx.ortOpts.threads}; tolerance rel_l2 <= ${ctx.tol.relL2}, ` +
              `max|diff| <= ${ctx.tol.rmax} * max|ref|`);
  let rows = null;
  try {
    rows = opts.model ? await modelMode(ctx, path.resolve(opts.model), opts)
                      : await manifestMode(ctx, opts.only);
  } finally {
    // The temp dir is kept when something failed, for a look at the models.
    if (!keep && rows && rows.every((r) => r.failures.length === 0)) {
      fs.rmSync(work, {recursive: true, force: true});
    }
  }
  const failed = rows.filter((r) => r.failures.length);
  for (const r of failed) {
    for (const f of r.failures) console.log(`FAIL ${r.name}: ${f}`);
  }
  const kept = keep || failed.length;
  console.log(`${rows.length - failed.length}/${rows.length} models pass` +
              (kept ? ` (folded models and fold reports kept in ${work})` : ''));
  return failed.length ? 1 : 0;
}

if (require.main === module) runMain('fold_check', main);
