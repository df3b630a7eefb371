#!/usr/bin/env bash
# One entry point for people and CI:
#   tools/dev.sh demo     install deps, build, run the bundled default job:
#                         fold the bundled ShuffleNetV2 (tools/demo/model.onnx)
#                         and run it, checked against torch's output
#   tools/dev.sh bn-demo  install deps, build, apply one BN to a small tensor
#   tools/dev.sh test     install deps, build, run the test suite (CTest)
#                         without the opt-in full_models label
#   tools/dev.sh build    install deps, build
#   tools/dev.sh asan     ASan + UBSan build (-O1 -g) in build-asan, whole
#                         suite (opt-in labels excluded as in test)
#   tools/dev.sh tsan     TSan build in build-tsan, the Session concurrency
#                         test (8 threads running one Session)
#   tools/dev.sh fuzz     clang libFuzzer build in build-fuzz (ASan + UBSan),
#                         each fuzzer replaying its checked-in corpus once
#                         (tests/fuzz/corpus; no new inputs are searched for)
# BUILD_DIR (default build) and BUILD_TYPE (default Release) may be set.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build_dir="${BUILD_DIR:-$root/build}"
build_type="${BUILD_TYPE:-Release}"
jobs="$(nproc)"

build() {
  "$root/tools/install_deps.sh"
  cmake -S "$root" -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE="$build_type"
  cmake --build "$build_dir" -j "$jobs"
}

# $1: address or thread; $2: build folder; then the targets (none: all).
sanitizer_build() {
  local sanitizer="$1" dir="$2"
  shift 2
  "$root/tools/install_deps.sh"
  cmake -S "$root" -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g" -DFOLDRT_SANITIZE="$sanitizer" \
    -DFOLDRT_BUILD_BENCHMARKS=OFF
  cmake --build "$dir" -j "$jobs" ${1:+--target "$@"}
}

cmd="${1:-}"
case "$cmd" in
  build)
    build
    ;;
  demo)
    build
    demo_out="$build_dir/demo"
    mkdir -p "$demo_out"
    "$build_dir/tools/foldrt" fold "$root/tools/demo/model.onnx" \
      -o "$demo_out/model.folded.onnx" --report "$demo_out/fold_report.json"
    echo "fold report: $demo_out/fold_report.json"
    echo
    # The folded file, so the demo shows the offline fold's output running.
    "$build_dir/tools/foldrt" run "$demo_out/model.folded.onnx" \
      --input "$root/tools/demo/model_input.npy" \
      --expect "$root/tools/demo/model_output.npy"
    ;;
  bn-demo)
    build
    "$build_dir/tools/foldrt" batchnorm \
      --input "$root/tools/demo/input.npy" \
      --params "$root/tools/demo/bn_params.npy" \
      --activation relu
    ;;
  test)
    build
    # ONNX Runtime (npm onnxruntime-node) checks that folded models load in a
    # peer runtime; Debian's nodejs/npm when no node is installed.
    command -v npm >/dev/null || "$root/tools/install_deps.sh" nodejs npm
    "$root/tools/ort/setup.sh"
    # full_models (tests/tools/full_models_check.sh) exports and runs the
    # full-size torchvision models: opt in with ctest -L full_models.
    ctest --test-dir "$build_dir" --output-on-failure -j "$jobs" -LE full_models
    ;;
  asan)
    sanitizer_build address "$root/build-asan"
    # Any ASan, LeakSanitizer or UBSan report fails the test it happens in.
    ASAN_OPTIONS="abort_on_error=1:detect_leaks=1" \
      UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1" \
      ctest --test-dir "$root/build-asan" --output-on-failure -j "$jobs" \
      -LE full_models
    ;;
  tsan)
    sanitizer_build thread "$root/build-tsan" session_concurrency_test
    # Each run also uses 2 OpenMP threads (the test's default); reports
    # from inside the uninstrumented libgomp / oneDNN are suppressed
    # (tests/tsan.supp).
    TSAN_OPTIONS="suppressions=$root/tests/tsan.supp:halt_on_error=1" \
      "$root/build-tsan/tests/session_concurrency_test"
    ;;
  fuzz)
    "$root/tools/install_deps.sh" clang libclang-rt-14-dev libomp-dev
    CC=clang CXX=clang++ cmake -S "$root" -B "$root/build-fuzz" -G Ninja \
      -DCMAKE_BUILD_TYPE=RelWithDebInfo -DFOLDRT_FUZZ=ON
    fuzzers=(onnx_import_fuzzer npy_fuzzer)
    cmake --build "$root/build-fuzz" -j "$jobs" --target "${fuzzers[@]}"
    # -runs=0: run every corpus input once and stop; a crash, leak or UB
    # report exits non-zero.
    for fuzzer in "${fuzzers[@]}"; do
      "$root/build-fuzz/tests/fuzz/$fuzzer" -runs=0 -rss_limit_mb=2048 \
        "$root/tests/fuzz/corpus/$fuzzer"
    done
    ;;
  *)
    echo "usage: tools/dev.sh demo|bn-demo|test|build|asan|tsan|fuzz" >&2
    exit 2
    ;;
esac
