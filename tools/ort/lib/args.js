// Tiny command-line parser: --flag, --opt VALUE, --opt=VALUE, repeatable
// options collected into arrays, positionals in order.
'use strict';

const fs = require('fs');

class UsageError extends Error {}

// spec: {name: 'string' | 'number' | 'int' | 'list' | 'bool'}
function parseArgs(argv, spec) {
  const opts = {};
  const positional = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') {
      positional.push(...argv.slice(i + 1));
      break;
    }
    if (!a.startsWith('--') || a === '-') {
      if (a.startsWith('-') && a !== '-' && !/^-\d/.test(a)) {
        if (a === '-h') {
          opts.help = true;
          continue;
        }
        throw new UsageError(`unknown option ${a}`);
      }
      positional.push(a);
      continue;
    }
    let name = a.slice(2);
    let value;
    const eq = name.indexOf('=');
    if (eq >= 0) {
      value = name.slice(eq + 1);
      name = name.slice(0, eq);
    }
    const kind = spec[name];
    if (!kind) throw new UsageError(`unknown option --${name}`);
    if (kind === 'bool') {
      if (value !== undefined) throw new UsageError(`--${name} takes no value`);
      opts[name] = true;
      continue;
    }
    if (value === undefined) {
      if (i + 1 >= argv.length) throw new UsageError(`--${name} needs a value`);
      value = argv[++i];
    }
    if (kind === 'list') {
      (opts[name] = opts[name] || []).push(value);
    } else if (kind === 'number' || kind === 'int') {
      const v = Number(value);
      if (value.trim() === '' || !Number.isFinite(v) || (kind === 'int' && !Number.isInteger(v)) || v < 0) {
        throw new UsageError(`--${name}: bad value '${value}'`);
      }
      opts[name] = v;
    } else {
      opts[name] = value;
    }
  }
  return {opts, positional};
}

// 'NAME=FILE' -> [NAME, FILE]; a bare 'FILE' -> [null, FILE].
function splitAssignment(s, what) {
  const eq = s.indexOf('=');
  if (eq === 0) throw new UsageError(`${what} '${s}': empty name`);
  if (eq < 0) return [null, s];
  const file = s.slice(eq + 1);
  if (!file) throw new UsageError(`${what} '${s}': empty file name`);
  return [s.slice(0, eq), file];
}

// For a script that takes exactly one existing MODEL.onnx: {opts, model}, or
// null once --help has printed `usage`.
function parseModelArgs(argv, spec, usage) {
  const {opts, positional} = parseArgs(argv, spec);
  if (opts.help) {
    console.log(usage);
    return null;
  }
  if (positional.length !== 1) throw new UsageError('expected exactly one MODEL.onnx');
  const model = positional[0];
  if (!fs.existsSync(model)) throw new UsageError(`${model}: no such file`);
  return {opts, model};
}

// Runs a script's main(argv), sync or async, as the process: its result is
// the exit status; any error is one line on stderr (a UsageError with a
// pointer to --help) and exit status 2.
function runMain(prog, main) {
  const fail = (e) => {
    if (e instanceof UsageError) console.error(`${prog}: ${e.message} (--help for usage)`);
    else console.error(`${prog}: error: ${e.message}`);
    process.exitCode = 2;
  };
  try {
    Promise.resolve(main(process.argv.slice(2))).then((code) => {
      process.exitCode = code;
    }, fail);
  } catch (e) {
    fail(e);
  }
}

module.exports = {parseArgs, parseModelArgs, runMain, splitAssignment, UsageError};
