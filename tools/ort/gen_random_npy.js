#!/usr/bin/env node
// Writes a seeded random float32 tensor as .npy (same bytes on every machine).
'use strict';

const {writeNpy, numel} = require('./lib/npy');
const {randomTensor} = require('./lib/random');
const {parseArgs, runMain, UsageError} = require('./lib/args');

const USAGE = `usage: node tools/ort/gen_random_npy.js --shape 1,3,224,224 -o X.npy [--seed S] [--dist normal|uniform]

  --shape D0,D1,...   tensor shape
  --seed S            PRNG seed (default 0)
  --dist D            normal (mean 0, std 1; default) or uniform in [-1, 1)
  -o, --output FILE   the .npy to write`;

function parseShape(s) {
  const dims = s.split(',').map((d) => d.trim());
  if (dims.some((d) => !/^\d+$/.test(d))) throw new UsageError(`bad --shape '${s}'`);
  return dims.map(Number);
}

function main(argv) {
  const args = argv.map((a) => (a === '-o' ? '--output' : a));
  const {opts, positional} = parseArgs(args, {
    'shape': 'string', 'seed': 'int', 'dist': 'string', 'output': 'string', 'help': 'bool'});
  if (opts.help) {
    console.log(USAGE);
    return 0;
  }
  if (positional.length) throw new UsageError(`unexpected argument ${positional[0]}`);
  if (!opts.shape || !opts.output) throw new UsageError('--shape and -o are required');
  const shape = parseShape(opts.shape);
  writeNpy(opts.output, shape, randomTensor(numel(shape), opts.seed ?? 0, opts.dist || 'normal'));
  console.log(`wrote ${opts.output}: (${shape.join(', ')}) float32, ${opts.dist || 'normal'}, seed ${opts.seed ?? 0}`);
  return 0;
}

if (require.main === module) runMain('gen_random_npy', main);

module.exports = {parseShape};
