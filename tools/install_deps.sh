#!/usr/bin/env bash
# Installs foldrt's build and test dependencies from Debian 12's packages.
# Idempotent and non-interactive: does nothing when everything is present.
# Run as root (or with sudo available).
set -euo pipefail

# Checked from an empty Debian 12 root (tools/fresh_root.sh, which is what
# .ci/run runs): every package the build and the tests use must be named
# here or by the script that needs it, since --no-install-recommends (below)
# brings no Recommends along.
packages=(
  build-essential cmake ninja-build pkg-config
  libdnnl-dev         # oneDNN 2.6 (OpenMP build)
  # oneDNN's CMake config (dnnl-config.cmake) looks for OpenCL, the runtime
  # of its GPU engine; Debian has the loader only as a Recommends.
  ocl-icd-opencl-dev
  libhwy-dev          # Highway 1.0.3
  libspdlog-dev libfmt-dev
  libonnx-dev libprotobuf-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  libcli11-dev        # CLI11 2.1 (header-only): foldrt's command line (tools/foldrt)
  nlohmann-json3-dev  # nlohmann/json 3.11 (header-only): the JSON reports
  pybind11-dev python3-dev python3-numpy  # the Python module (tools/python)
  time                # GNU time: the README's peak-memory command (readme_commands)
)
packages+=("$@")  # extra packages a caller needs (e.g. the model generator)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
    missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install_deps: all ${#packages[@]} packages present"
  exit 0
fi

sudo=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "install_deps: run as root" >&2; exit 1; }
  sudo="sudo"
fi
echo "install_deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" </dev/null
