#!/usr/bin/env node
// Verifies that onnxruntime-node loads, creates a CPU InferenceSession (on
// tests/data/conv2d_bn.onnx when present) and runs it; prints the versions.
'use strict';

const fs = require('fs');
const path = require('path');
const runner = require('./lib/ort_runner');
const {numel} = require('./lib/npy');

async function main() {
  runner.ort();
  console.log(`onnxruntime-node ${runner.ortVersion()} (CPU execution provider)`);
  const model = path.join(__dirname, '..', '..', 'tests', 'data', 'conv2d_bn.onnx');
  if (!fs.existsSync(model)) return;
  const s = await runner.createSession(model);
  const feeds = {};
  s.inputNames.forEach((name, i) => {
    const shape = s.inputMetadata[i].shape.map((d) => (typeof d === 'number' && d > 0 ? d : 1));
    feeds[name] = {shape, data: new Float32Array(numel(shape))};
  });
  const out = await runner.run(s, feeds);
  const o = out[s.outputNames[0]];
  console.log(`CPU session on ${path.relative(process.cwd(), model)}: ok ` +
              `(${s.outputNames[0]}: (${o.shape.join(', ')}) ${o.type})`);
}

main().catch((e) => {
  console.error(`check_install: error: ${e.message}`);
  process.exitCode = 1;
});
