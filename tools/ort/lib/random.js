// Seeded, platform-independent random tensors (mulberry32 + Box-Muller).
'use strict';

function mulberry32(seed) {
  let a = seed >>> 0;
  return function next() {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// dist: 'normal' (mean 0, std 1) or 'uniform' ([-1, 1)).
function randomTensor(n, seed, dist = 'normal') {
  const rand = mulberry32(seed);
  const out = new Float32Array(n);
  if (dist === 'uniform') {
    for (let i = 0; i < n; i++) out[i] = 2 * rand() - 1;
  } else if (dist === 'normal') {
    for (let i = 0; i < n; i += 2) {
      const u1 = 1 - rand();  // (0, 1]
      const u2 = rand();
      const r = Math.sqrt(-2 * Math.log(u1));
      out[i] = r * Math.cos(2 * Math.PI * u2);
      if (i + 1 < n) out[i + 1] = r * Math.sin(2 * Math.PI * u2);
    }
  } else {
    throw new Error(`unknown distribution '${dist}' (normal or uniform)`);
  }
  return out;
}

module.exports = {randomTensor};
