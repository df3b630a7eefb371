// Thin wrapper over onnxruntime-node: CPU execution provider only.
'use strict';

const path = require('path');

let ortModule = null;

function ort() {
  if (ortModule) return ortModule;
  try {
    ortModule = require('onnxruntime-node');
  } catch (e) {
    const setup = path.join(__dirname, '..', 'setup.sh');
    const err = new Error(`cannot load onnxruntime-node (${e.message.split('\n')[0]}); ` +
                          `install it with ${setup}`);
    err.code = 'ORT_MISSING';
    throw err;
  }
  return ortModule;
}

function ortVersion() {
  const v = ort().env.versions || {};
  return v.node || v.common || 'unknown';
}

const OPT_LEVELS = ['disabled', 'basic', 'extended', 'layout', 'all'];

function logLevel() {
  const v = process.env.FOLDRT_ORT_LOG_LEVEL;
  return v !== undefined && /^[0-4]$/.test(v) ? Number(v) : 3;
}

// options: {threads (intra-op, 0 = ORT default), optLevel}
async function createSession(model, options = {}) {
  const threads = options.threads === undefined ? 1 : options.threads;
  const optLevel = options.optLevel || 'all';
  if (!OPT_LEVELS.includes(optLevel)) {
    throw new Error(`bad optimization level '${optLevel}' (one of ${OPT_LEVELS.join(', ')})`);
  }
  return ort().InferenceSession.create(model, {
    executionProviders: ['cpu'],
    graphOptimizationLevel: optLevel,
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    // 3 = errors only: hides warnings such as "Initializer X appears in graph
    // inputs" (opset-9 exports); FOLDRT_ORT_LOG_LEVEL=0..4 overrides.
    logSeverityLevel: logLevel(),
  });
}

// feeds: {name: {shape, data: Float32Array}}; returns {name: {shape, data, type}}.
async function run(session, feeds) {
  const missing = session.inputNames.filter((n) => !(n in feeds));
  const unknown = Object.keys(feeds).filter((n) => !session.inputNames.includes(n));
  if (missing.length || unknown.length) {
    throw new Error(`model inputs are [${session.inputNames.join(', ')}]` +
                    (missing.length ? `; missing: [${missing.join(', ')}]` : '') +
                    (unknown.length ? `; unknown: [${unknown.join(', ')}]` : ''));
  }
  const T = ort().Tensor;
  const ortFeeds = {};
  for (const [name, t] of Object.entries(feeds)) {
    ortFeeds[name] = new T('float32', t.data, t.shape);
  }
  const results = await session.run(ortFeeds);
  const out = {};
  for (const name of session.outputNames) {
    const r = results[name];
    out[name] = {shape: Array.from(r.dims), data: r.data, type: r.type};
  }
  return out;
}

module.exports = {ort, ortVersion, createSession, run, OPT_LEVELS};
