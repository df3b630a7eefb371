// Minimal .npy reader/writer for float32 C-order tensors.
//
// Reads format versions 1.0, 2.0 and 3.0 (v1/v2 headers are latin1, v3 utf8);
// only dtype '<f4' (little-endian float32) with fortran_order False is
// accepted, anything else is a clear error. Writes version 1.0 (2.0 when the
// header does not fit in 65535 bytes), header padded to a multiple of 64.
'use strict';

const fs = require('fs');
const os = require('os');

const MAGIC = Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]);  // \x93NUMPY

class NpyError extends Error {}

function checkHostEndianness() {
  if (os.endianness() !== 'LE') {
    throw new NpyError('big-endian hosts are not supported');
  }
}

function numel(shape) {
  return shape.reduce((a, b) => a * b, 1);
}

// Parses a numpy header dict such as
//   {'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }
function parseHeader(text, where) {
  const descr = /['"]descr['"]\s*:\s*['"]([^'"]*)['"]/.exec(text);
  const fortran = /['"]fortran_order['"]\s*:\s*(True|False)/.exec(text);
  const shape = /['"]shape['"]\s*:\s*\(([^)]*)\)/.exec(text);
  if (!descr || !fortran || !shape) {
    throw new NpyError(`${where}: malformed .npy header: ${JSON.stringify(text.trim())}`);
  }
  if (descr[1] !== '<f4') {
    throw new NpyError(`${where}: dtype '${descr[1]}' is not supported, only float32 '<f4' ` +
                       '(convert with numpy: x.astype("<f4"))');
  }
  if (fortran[1] !== 'False') {
    throw new NpyError(`${where}: fortran_order True is not supported, only C order ` +
                       '(convert with numpy: np.ascontiguousarray(x))');
  }
  const dims = shape[1].split(',').map((s) => s.trim()).filter((s) => s.length > 0).map((s) => {
    if (!/^\d+$/.test(s)) throw new NpyError(`${where}: bad dimension '${s}' in shape`);
    const v = Number(s);
    if (!Number.isSafeInteger(v)) throw new NpyError(`${where}: dimension ${s} too large`);
    return v;
  });
  return dims;
}

// Returns {shape: number[], data: Float32Array}.
function readNpy(file) {
  checkHostEndianness();
  const buf = fs.readFileSync(file);
  if (buf.length < 10 || !buf.subarray(0, 6).equals(MAGIC)) {
    throw new NpyError(`${file}: not a .npy file (bad magic)`);
  }
  const major = buf[6];
  const minor = buf[7];
  let headerLen;
  let headerStart;
  if (major === 1) {
    headerLen = buf.readUInt16LE(8);
    headerStart = 10;
  } else if (major === 2 || major === 3) {
    if (buf.length < 12) throw new NpyError(`${file}: truncated .npy header`);
    headerLen = buf.readUInt32LE(8);
    headerStart = 12;
  } else {
    throw new NpyError(`${file}: unsupported .npy format version ${major}.${minor} (1, 2, 3 supported)`);
  }
  const dataStart = headerStart + headerLen;
  if (dataStart > buf.length) throw new NpyError(`${file}: truncated .npy header`);
  const header = buf.subarray(headerStart, dataStart).toString(major === 3 ? 'utf8' : 'latin1');
  const shape = parseHeader(header, file);
  const n = numel(shape);
  const bytes = buf.length - dataStart;
  if (bytes !== n * 4) {
    throw new NpyError(`${file}: shape (${shape.join(', ')}) needs ${n * 4} data bytes, file has ${bytes}`);
  }
  // Copy into a fresh (aligned) Float32Array; the Buffer's offset may not be.
  const data = new Float32Array(n);
  new Uint8Array(data.buffer).set(buf.subarray(dataStart));
  return {shape, data};
}

function shapeTuple(shape) {
  if (shape.length === 0) return '()';
  if (shape.length === 1) return `(${shape[0]},)`;
  return `(${shape.join(', ')})`;
}

// Writes a float32 C-order tensor. data: Float32Array (or array-like of numbers).
function writeNpy(file, shape, data) {
  checkHostEndianness();
  const n = numel(shape);
  if (data.length !== n) {
    throw new NpyError(`${file}: shape (${shape.join(', ')}) has ${n} elements, data has ${data.length}`);
  }
  const f32 = data instanceof Float32Array ? data : Float32Array.from(data);
  let dict = `{'descr': '<f4', 'fortran_order': False, 'shape': ${shapeTuple(shape)}, }`;
  let major = 1;
  let prefix = 10;
  let total = prefix + dict.length + 1;
  let padded = Math.ceil(total / 64) * 64;
  if (padded - prefix > 0xffff) {
    major = 2;
    prefix = 12;
    total = prefix + dict.length + 1;
    padded = Math.ceil(total / 64) * 64;
  }
  const header = dict + ' '.repeat(padded - total) + '\n';
  const head = Buffer.alloc(prefix);
  MAGIC.copy(head, 0);
  head[6] = major;
  head[7] = 0;
  if (major === 1) head.writeUInt16LE(header.length, 8);
  else head.writeUInt32LE(header.length, 8);
  const body = Buffer.from(f32.buffer, f32.byteOffset, f32.byteLength);
  fs.writeFileSync(file, Buffer.concat([head, Buffer.from(header, 'latin1'), body]));
}

module.exports = {readNpy, writeNpy, NpyError, numel};
