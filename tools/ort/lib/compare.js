// Error metrics between a computed tensor and a reference (both float arrays),
// accumulated in double.
//
//   rel_l2 = ||got - ref||_2 / ||ref||_2
//   rmax   = max|got - ref| / max|ref|
//
// When the reference is all zeros the denominators are taken as 1 (absolute
// errors). A NaN in one tensor where the other has a number counts as a
// mismatch (both metrics become Infinity); NaN against NaN and equal
// infinities match.
'use strict';

function sameShape(a, b) {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

function compareArrays(got, ref) {
  if (got.length !== ref.length) {
    throw new Error(`length mismatch: ${got.length} vs ${ref.length}`);
  }
  let sumD2 = 0;
  let sumR2 = 0;
  let maxDiff = 0;
  let maxRef = 0;
  let argmax = -1;
  let nanMismatch = 0;
  for (let i = 0; i < ref.length; i++) {
    const g = got[i];
    const r = ref[i];
    if (Number.isNaN(g) || Number.isNaN(r)) {
      if (!(Number.isNaN(g) && Number.isNaN(r))) nanMismatch++;
      continue;
    }
    if (!Number.isFinite(g) || !Number.isFinite(r)) {
      if (g !== r) nanMismatch++;
      continue;
    }
    const d = g - r;
    const ad = Math.abs(d);
    sumD2 += d * d;
    sumR2 += r * r;
    if (ad > maxDiff) {
      maxDiff = ad;
      argmax = i;
    }
    const ar = Math.abs(r);
    if (ar > maxRef) maxRef = ar;
  }
  const refNorm = Math.sqrt(sumR2);
  let relL2 = Math.sqrt(sumD2) / (refNorm > 0 ? refNorm : 1);
  let rmax = maxDiff / (maxRef > 0 ? maxRef : 1);
  if (nanMismatch > 0) {
    relL2 = Infinity;
    rmax = Infinity;
  }
  return {relL2, rmax, maxDiff, maxRef, argmax, nanMismatch, count: ref.length};
}

// got/ref: {shape, data}. Returns metrics plus ok / why.
function compareTensors(got, ref, tol) {
  if (!sameShape(got.shape, ref.shape)) {
    return {ok: false, why: `shape (${got.shape.join(', ')}) != reference (${ref.shape.join(', ')})`,
            relL2: Infinity, rmax: Infinity};
  }
  const m = compareArrays(got.data, ref.data);
  const reasons = [];
  if (m.nanMismatch > 0) reasons.push(`${m.nanMismatch} NaN/Inf mismatches`);
  if (!(m.relL2 <= tol.relL2)) reasons.push(`rel_l2 ${fmt(m.relL2)} > ${tol.relL2}`);
  if (!(m.rmax <= tol.rmax)) reasons.push(`rmax ${fmt(m.rmax)} > ${tol.rmax}`);
  return Object.assign(m, {ok: reasons.length === 0, why: reasons.join(', ')});
}

function fmt(x) {
  if (x === Infinity) return 'inf';
  if (Number.isNaN(x)) return 'nan';
  return x.toExponential(2);
}

function describe(m) {
  if (m.maxDiff === undefined) return m.why;
  return `rel_l2=${fmt(m.relL2)} rmax=${fmt(m.rmax)} ` +
         `(max|diff|=${fmt(m.maxDiff)} max|ref|=${fmt(m.maxRef)})`;
}

module.exports = {compareArrays, compareTensors, sameShape, fmt, describe};
