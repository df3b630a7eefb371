#!/usr/bin/env bash
# Cross-checks `foldrt fold` with ONNX Runtime (CPU, onnxruntime-node).
#
#   tests/tools/ort_fold_check.sh [FOLDRT_BIN] [fold_check.js options]
#
# For every model in tests/data/MANIFEST.json: fold it with FOLDRT_BIN
# (default build/tools/foldrt) into a temp dir, run the original and the
# folded model in ONNX Runtime, compare each with the torch reference and the
# folded with the original (relative L2 <= 1e-5, max|diff| <= 1e-4 * max|ref|),
# check the BatchNormalization count before/after and each BN's fold fate
# against the manifest, print a table. Extra options go to
# tools/ort/fold_check.js (--help lists them: --only, --opt-level, --threads,
# --rtol-l2, --rmax, --work, -v, --model for a single model on random input).
#
# Exit status: 0 all pass; 1 a check failed; 2 usage error; 77 skipped
# (node or onnxruntime-node missing: run tools/ort/setup.sh, or pass --setup
# as the first option to run it here).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"

foldrt="$root/build/tools/foldrt"
if [[ $# -gt 0 && "$1" != -* ]]; then
  foldrt="$1"
  shift
fi
if [[ $# -gt 0 && "$1" == --setup ]]; then
  shift
  "$root/tools/ort/setup.sh"
fi

if ! command -v node >/dev/null 2>&1; then
  echo "SKIP: node not found on PATH (Debian 12: apt-get install -y nodejs npm)" >&2
  exit 77
fi
if ! (cd "$root/tools/ort" && node -e "require('onnxruntime-node')") >/dev/null 2>&1; then
  echo "SKIP: onnxruntime-node is not installed; run tools/ort/setup.sh" >&2
  exit 77
fi
if [[ ! -x "$foldrt" ]]; then
  echo "error: foldrt binary not found or not executable: $foldrt" \
       "(build it, or pass its path as the first argument)" >&2
  exit 2
fi

exec node "$root/tools/ort/fold_check.js" --foldrt "$foldrt" --data "$root/tests/data" "$@"
