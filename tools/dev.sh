#!/usr/bin/env bash
# One entry point for people and CI:
#   tools/dev.sh demo   install deps, build, run the bundled default job
#   tools/dev.sh test   install deps, build, run the whole test suite (CTest)
#   tools/dev.sh build  install deps, build
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

cmd="${1:-}"
case "$cmd" in
  build)
    build
    ;;
  demo)
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
    ctest --test-dir "$build_dir" --output-on-failure -j "$jobs"
    ;;
  *)
    echo "usage: tools/dev.sh demo|test|build" >&2
    exit 2
    ;;
esac
