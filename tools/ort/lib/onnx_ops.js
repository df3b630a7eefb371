// Counts node op types in an ONNX model by walking the protobuf wire format
// directly (no ONNX library needed): ModelProto.graph (7) -> GraphProto.node
// (1) -> NodeProto.op_type (4), recursing into subgraphs held by attributes
// (NodeProto.attribute (5) -> AttributeProto.g (6) / graphs (11)).
'use strict';

const fs = require('fs');

function readVarint(buf, pos) {
  let result = 0;
  let mul = 1;
  for (;;) {
    if (pos >= buf.length) throw new Error('truncated varint');
    const b = buf[pos++];
    result += (b & 0x7f) * mul;
    if ((b & 0x80) === 0) break;
    mul *= 128;
    if (mul > 2 ** 63) throw new Error('varint too long');
  }
  return [result, pos];
}

// Calls fn(fieldNumber, wireType, value) for each field; value is a Buffer
// slice for length-delimited fields, a number for varints, null otherwise.
function forEachField(buf, fn) {
  let pos = 0;
  while (pos < buf.length) {
    let key;
    [key, pos] = readVarint(buf, pos);
    const field = Math.floor(key / 8);
    const wire = key % 8;
    if (wire === 0) {
      let v;
      [v, pos] = readVarint(buf, pos);
      fn(field, wire, v);
    } else if (wire === 1) {
      pos += 8;
      fn(field, wire, null);
    } else if (wire === 2) {
      let len;
      [len, pos] = readVarint(buf, pos);
      if (pos + len > buf.length) throw new Error('truncated length-delimited field');
      fn(field, wire, buf.subarray(pos, pos + len));
      pos += len;
    } else if (wire === 5) {
      pos += 4;
      fn(field, wire, null);
    } else {
      throw new Error(`unsupported protobuf wire type ${wire}`);
    }
  }
  if (pos !== buf.length) throw new Error('truncated protobuf message');
}

function countGraph(graph, counts) {
  forEachField(graph, (f, w, v) => {
    if (f !== 1 || w !== 2) return;  // GraphProto.node
    forEachField(v, (nf, nw, nv) => {
      if (nf === 4 && nw === 2) {  // NodeProto.op_type
        const op = nv.toString('utf8');
        counts[op] = (counts[op] || 0) + 1;
      } else if (nf === 5 && nw === 2) {  // NodeProto.attribute
        forEachField(nv, (af, aw, av) => {
          if ((af === 6 || af === 11) && aw === 2) countGraph(av, counts);
        });
      }
    });
  });
}

// Returns {opType: count} over the main graph and its subgraphs.
function countOps(file) {
  const buf = fs.readFileSync(file);
  const counts = {};
  let graphs = 0;
  forEachField(buf, (f, w, v) => {
    if (f === 7 && w === 2) {
      graphs++;
      countGraph(v, counts);
    }
  });
  if (graphs === 0) throw new Error(`${file}: no graph found (not an ONNX model?)`);
  return counts;
}

module.exports = {countOps};
