#!/usr/bin/env node
// Compares two float32 .npy tensors: relative L2 error and max|diff|/max|ref|.
'use strict';

const {readNpy} = require('./lib/npy');
const {compareTensors, describe} = require('./lib/compare');
const {parseArgs, runMain, UsageError} = require('./lib/args');

const USAGE = `usage: node tools/ort/compare_npy.js GOT.npy REF.npy [--rtol-l2 T] [--rmax T]

  prints rel_l2 = ||got - ref|| / ||ref|| and rmax = max|got - ref| / max|ref|
  --rtol-l2 T   fail when rel_l2 > T (default 1e-4)
  --rmax T      fail when rmax > T (default 1e-3)

exit status: 0 within tolerance, 1 beyond it, 2 usage or read error`;

function main(argv) {
  const {opts, positional} = parseArgs(argv, {'rtol-l2': 'number', 'rmax': 'number', 'help': 'bool'});
  if (opts.help) {
    console.log(USAGE);
    return 0;
  }
  if (positional.length !== 2) throw new UsageError('expected GOT.npy and REF.npy');
  const tol = {relL2: opts['rtol-l2'] ?? 1e-4, rmax: opts.rmax ?? 1e-3};
  const m = compareTensors(readNpy(positional[0]), readNpy(positional[1]), tol);
  console.log(`${positional[0]} vs ${positional[1]}: ${describe(m)} ${m.ok ? 'ok' : 'FAIL: ' + m.why}`);
  return m.ok ? 0 : 1;
}

if (require.main === module) runMain('compare_npy', main);
