#!/usr/bin/env bash
# Opt-in whole-model check (ctest -L full_models; tools/dev.sh test and CI
# leave it out: it exports ~800 MB of models and takes minutes).
#
# For each full-size torchvision model: export it with every BN kept and
# non-trivial BN statistics, with float64 torch references for a seeded
# input at batch 1 and 3 (tools/full_models.py, cached in CACHE_DIR), then
# `foldrt run` it folded and --no-fold, on 1 and 2 threads, at both batch
# sizes, each checked with --expect (relative L2 <= 1e-4 and
# max|diff| <= 1e-3 * max|ref|). Prints one line per run and a summary.
#
#   tests/tools/full_models_check.sh FOLDRT CACHE_DIR
#
# FOLDRT_PYTHON: the python with torch, torchvision, onnx, numpy (default
# Debian's /usr/bin/python3; exit 77 = skipped without them).
# FOLDRT_FULL_MODELS: space-separated models instead of the default list.
set -euo pipefail

if [[ $# -ne 2 ]]; then
  echo "usage: $0 FOLDRT CACHE_DIR" >&2
  exit 2
fi
foldrt="$1"
cache="$2"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
python="${FOLDRT_PYTHON:-/usr/bin/python3}"
read -r -a models <<<"${FOLDRT_FULL_MODELS:-resnet18 resnet50 mobilenet_v2 \
densenet121 efficientnet_b0 shufflenet_v2_x1_0 vgg11_bn}"

if ! "$python" -c 'import torch, torchvision, onnx, numpy' 2>/dev/null; then
  echo "skipped: $python cannot import torch, torchvision, onnx and numpy"
  exit 77
fi
mkdir -p "$cache"

now() { date +%s.%N; }
seconds_since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

failed=0
summary=()
for model in "${models[@]}"; do
  start="$(now)"
  if ! "$python" "$root/tools/full_models.py" --out "$cache" --batches 1,3 \
    "$model"; then
    summary+=("$(printf '%-20s FAIL  export failed' "$model")")
    failed=$((failed + 1))
    continue
  fi
  echo "$model: export + references $(seconds_since "$start") s"
  passed=0
  total=0
  run_ms=()
  for batch in 1 3; do
    for mode in fold no-fold; do
      for threads in 1 2; do
        log="$cache/$model.b$batch.$mode.t$threads.log"
        args=(run "$cache/$model.onnx"
          --input "$cache/$model.b$batch.input.npy"
          --expect "$cache/$model.b$batch.output.npy"
          --threads "$threads")
        [[ "$mode" == no-fold ]] && args+=(--no-fold)
        total=$((total + 1))
        t0="$(now)"
        if "$foldrt" "${args[@]}" >"$log" 2>&1; then
          verdict=pass
          passed=$((passed + 1))
        else
          verdict=FAIL
        fi
        # "ran in X ms" is Session::Run alone (the first run: it plans the
        # shapes and builds the primitives); the process time adds load,
        # fold and weight packing.
        ran="$(sed -n 's/^ran in \([0-9.]*\) ms.*/\1/p' "$log")"
        run_ms+=("${ran:-?}")
        printf '%-20s batch %d %-7s threads %d: %s  run %8s ms  process %5s s  %s\n' \
          "$model" "$batch" "$mode" "$threads" "$verdict" "${ran:-?}" \
          "$(seconds_since "$t0")" \
          "$(grep -E '^expect ' "$log" | sed 's/^expect [^:]*: //' || true)"
        if [[ "$verdict" == FAIL ]]; then
          sed 's/^/    | /' "$log" | tail -n 5
        fi
      done
    done
  done
  if [[ $passed -eq $total ]]; then
    verdict=pass
  else
    verdict=FAIL
    failed=$((failed + 1))
  fi
  summary+=("$(printf '%-20s %-5s %d/%d runs  %5s s  run ms (b1 fold t1/t2, no-fold t1/t2; b3 ...): %s' \
    "$model" "$verdict" "$passed" "$total" "$(seconds_since "$start")" \
    "${run_ms[*]}")")
done

echo
echo "summary (logs in $cache):"
printf '  %s\n' "${summary[@]}"
if [[ $failed -gt 0 ]]; then
  echo "$failed of ${#models[@]} models failed"
  exit 1
fi
echo "all ${#models[@]} models passed"
