// Tiny command-line parser: --flag, --opt VALUE, --opt=VALUE, repeatable
// options collected into arrays, positionals in order.
'use strict';

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

module.exports = {parseArgs, splitAssignment, UsageError};
