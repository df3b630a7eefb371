#!/usr/bin/env bash
# Cross-builds foldrt for aarch64 on an x86-64 Debian 12 host and runs the
# tests under user-mode QEMU. Idempotent and non-interactive: a second run
# installs nothing, unpacks nothing and rebuilds only what changed.
#
#   tools/cross_aarch64.sh [test]      deps, build, the CTest suite as tools/dev.sh
#                                      test runs it (default)
#   tools/cross_aarch64.sh kernel-test deps, build, only the Highway kernel tests,
#                                      once per emulated CPU (NEON, SVE, SVE2, ...)
#   tools/cross_aarch64.sh build       deps, build
#   tools/cross_aarch64.sh bench [ARGS] deps, build, batch_norm_bench under QEMU
#                                      (a smoke run: emulated timings are not
#                                      ARM performance, see docs/arm.md)
#
# BUILD_DIR (default build-aarch64), BUILD_TYPE (default Release) and JOBS
# (default nproc) may be set. Run as root (or with sudo available), like
# tools/install_deps.sh. See docs/arm.md.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build_dir="${BUILD_DIR:-$root/build-aarch64}"
build_type="${BUILD_TYPE:-Release}"
jobs="${JOBS:-$(nproc)}"
deps_dir="$build_dir/deps"  # arm64 -dev packages that cannot be installed
toolchain="$root/cmake/aarch64-linux-gnu.toolchain.cmake"
cmd="${1:-test}"
case "$cmd" in
  test | kernel-test | build | bench) ;;
  *)
    echo "usage: tools/cross_aarch64.sh [test|kernel-test|build|bench [ARGS]]" >&2
    exit 2
    ;;
esac
t0=$SECONDS

log() { echo "cross_aarch64: [$((SECONDS - t0))s] $*"; }

# dpkg --add-architecture and apt need root; as in install_deps.sh, sudo is
# used when not root.
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "cross_aarch64: run as root" >&2; exit 1; }
  sudo="sudo"
fi
export DEBIAN_FRONTEND=noninteractive

# Installed by apt, side by side with the amd64 packages (Multi-Arch: same).
# The runtime libraries of the two -dev packages extracted below are here too,
# so the cross-built binaries run from anywhere on this machine.
arm64_packages=(
  libhwy-dev:arm64
  libspdlog-dev:arm64 libfmt-dev:arm64
  libgtest-dev:arm64 libgmock-dev:arm64 libbenchmark-dev:arm64
  libprotobuf-dev:arm64
  libdnnl2:arm64 libonnx1:arm64
)
# Not co-installable with their amd64 twins, so they are unpacked with
# `dpkg -x` into $deps_dir and CMake is pointed at that copy:
# - libdnnl-dev: /usr/include/dnnl_config.h (and oneapi/dnnl/dnnl_config.h)
#   differ between the architectures (amd64 is built with the OpenCL GPU
#   runtime, arm64 without), and dpkg refuses to let Multi-Arch: same packages
#   ship different contents at one path.
# - libonnx-dev: depends on libonnxifi, which ships /usr/lib/libonnxifi.so
#   outside the multiarch directory, so libonnxifi:arm64 and :amd64 collide.
# Their CMake configs check that the libraries they import exist next to them
# (relative to the config's prefix), so the runtime packages are unpacked
# alongside: libdnnl2 (libdnnl.so.2.6), libonnx1 (libonnx.so.1,
# libonnx_proto.so.1) and libonnxifi (libonnxifi_dummy.so, libonnxifi.so).
extract_packages=(libdnnl-dev libdnnl2 libonnx-dev libonnx1 libonnxifi)

# 1. Packages. The arm64 architecture first: without it apt knows no :arm64.
if ! dpkg --print-foreign-architectures | grep -qx arm64; then
  log "adding the arm64 architecture to dpkg"
  $sudo dpkg --add-architecture arm64
  $sudo apt-get update -qq
fi
# install_deps.sh installs the native toolchain (cmake, ninja) and foldrt's
# amd64 dependencies (the native build and CI need them anyway) plus the
# packages named here, running apt only when something is missing.
"$root/tools/install_deps.sh" g++-aarch64-linux-gnu qemu-user \
  "${arm64_packages[@]}"

# 2. The extracted -dev packages, at exactly the installed runtime version
#    (headers and library must match). Redone only when a version changes.
specs=()
for p in "${extract_packages[@]}"; do
  # Each pinned to the version of its installed runtime twin.
  case "$p" in
    libdnnl*) twin=libdnnl2:arm64 ;;
    *) twin=libonnx1:arm64 ;;
  esac
  specs+=("$p:arm64=$(dpkg-query -W -f='${Version}' "$twin")")
done
if [ "$(cat "$deps_dir/.versions" 2>/dev/null || true)" != "${specs[*]}" ]; then
  log "unpacking ${specs[*]} into $deps_dir"
  rm -rf "$deps_dir"
  mkdir -p "$deps_dir/debs"
  # As root, apt-get download fetches as the unprivileged _apt user, which
  # must be able to write here (otherwise it warns and falls back to root).
  if [ "$(id -u)" -eq 0 ]; then chown _apt "$deps_dir/debs"; fi
  (cd "$deps_dir/debs" && apt-get download -qq "${specs[@]}")
  for deb in "$deps_dir"/debs/*.deb; do
    dpkg -x "$deb" "$deps_dir"
  done
  echo -n "${specs[*]}" >"$deps_dir/.versions"
fi

# 3. Configure and build.
log "configuring $build_dir"
cmake -S "$root" -B "$build_dir" -G Ninja \
  -DCMAKE_TOOLCHAIN_FILE="$toolchain" \
  -DCMAKE_BUILD_TYPE="$build_type" \
  -Ddnnl_DIR="$deps_dir/usr/lib/aarch64-linux-gnu/cmake/dnnl" \
  -DONNX_DIR="$deps_dir/usr/lib/aarch64-linux-gnu/cmake/ONNX"
log "building with $jobs jobs"
cmake --build "$build_dir" -j "$jobs"

# 4. Nothing of the host architecture may leak in: no x86-64 library or
#    header in the configuration, the link lines or any object's headers, and
#    oneDNN's headers from the arm64 copy (the amd64 dnnl_config.h in
#    /usr/include differs).
deps_list="$(ninja -C "$build_dir" -t deps)"
leaks="$(
  grep -H 'x86_64-linux-gnu' "$build_dir/CMakeCache.txt" "$build_dir/build.ninja" || true
  grep -E 'x86_64-linux-gnu|^ +/usr/include/(oneapi/dnnl/)?dnnl' <<<"$deps_list" || true
)"
if [ -n "$leaks" ]; then
  echo "cross_aarch64: host (x86-64) files in the aarch64 build:" >&2
  sort -u <<<"$leaks" | head -20 >&2
  exit 1
fi
if ! grep -F "$deps_dir/usr/include/oneapi/dnnl/dnnl_config.h" <<<"$deps_list" >/dev/null; then
  echo "cross_aarch64: oneDNN's arm64 dnnl_config.h was not used" >&2
  exit 1
fi
log "build done; no host files used"

# 5. Run. CTest runs every test binary (and GoogleTest's test discovery)
#    under qemu-aarch64 (CMAKE_CROSSCOMPILING_EMULATOR in the toolchain file).
ctest_args=(--test-dir "$build_dir" --output-on-failure -j "$jobs")
case "$cmd" in
  build) ;;
  test)
    # As tools/dev.sh test: without the opt-in full_models label.
    ctest "${ctest_args[@]}" -LE full_models
    ;;
  kernel-test)
    # Only the Highway kernel tests, once per emulated CPU (label qemu_cpu,
    # tests/CMakeLists.txt).
    ctest "${ctest_args[@]}" -L qemu_cpu
    ;;
  bench)
    shift
    qemu-aarch64 "$build_dir/bench/batch_norm_bench" "$@"
    ;;
esac
log "done"
