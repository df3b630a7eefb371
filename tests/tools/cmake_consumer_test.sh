#!/usr/bin/env bash
# The installed package works for a user: `cmake --install` of this build
# into a fresh prefix, then tests/tools/cmake_consumer (find_package(foldrt),
# foldrt::runtime) configured, built and run against that prefix alone, the
# installed CLI run, and the installed Python module imported (when built).
#
#   cmake_consumer_test.sh BUILD_DIR SOURCE_DIR CMAKE CXX_COMPILER [PYTHON]
#
# PYTHON is the interpreter the module was built for; empty or absent when
# the module was not built.
set -euo pipefail
build_dir="$1"
source_dir="$2"
cmake="$3"
cxx="$4"
python="${5:-}"
data="$source_dir/tests/data"

work="$(mktemp -d "${TMPDIR:-/tmp}/foldrt-install.XXXXXX")"
trap 'rm -rf "$work"' EXIT
prefix="$work/prefix"

fail() {
  echo "cmake_consumer_test: $*" >&2
  exit 1
}

"$cmake" --install "$build_dir" --prefix "$prefix"

# Relocatable: nothing installed may point back into the source or build
# tree (a consumer must work after both are deleted).
if grep -rIl -e "$source_dir/" -e "$build_dir" "$prefix/lib/cmake" "$prefix/include"; then
  fail "installed files above name the source or build tree"
fi

generator=()
if command -v ninja >/dev/null; then generator=(-G Ninja); fi
"$cmake" -S "$source_dir/tests/tools/cmake_consumer" -B "$work/consumer" \
  "${generator[@]}" -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_CXX_COMPILER="$cxx" -DCMAKE_PREFIX_PATH="$prefix" |
  tee "$work/configure.log"
grep -qF "from $prefix/lib/cmake/foldrt" "$work/configure.log" ||
  fail "find_package(foldrt) did not take the package in $prefix"
"$cmake" --build "$work/consumer" -j 2

# The original model folds its one BN at load; the model the installed CLI
# folded has none left; both give torch's output.
out="$("$work/consumer/consumer" "$data/conv2d_bn.onnx" \
  "$data/conv2d_bn.input.npy" "$data/conv2d_bn.output.npy")"
echo "$out"
grep -qx "folded 1 of 1 BatchNormalization" <<<"$out" ||
  fail "expected the model's one BatchNormalization folded at load"

"$prefix/bin/foldrt" fold "$data/conv2d_bn.onnx" -o "$work/folded.onnx"
out="$("$work/consumer/consumer" "$work/folded.onnx" \
  "$data/conv2d_bn.input.npy" "$data/conv2d_bn.output.npy")"
echo "$out"
grep -qx "folded 0 of 0 BatchNormalization" <<<"$out" ||
  fail "the installed foldrt fold left a BatchNormalization behind"

if [ -n "$python" ]; then
  module="$(find "$prefix/lib" -name 'foldrt.*.so' -path '*-packages/*')"
  [ -n "$module" ] || fail "the Python module was built but not installed"
  PYTHONPATH="$(dirname "$module")" "$python" - "$prefix" "$data" <<'EOF'
import os, sys
import numpy as np
import foldrt
prefix, data = sys.argv[1:]
assert foldrt.__file__.startswith(prefix + os.sep), foldrt.__file__
session = foldrt.Session(os.path.join(data, "conv2d_bn.onnx"))
x = np.load(os.path.join(data, "conv2d_bn.input.npy"))
want = np.load(os.path.join(data, "conv2d_bn.output.npy"))
[got] = session.run(None, {session.get_inputs()[0].name: x})
np.testing.assert_allclose(got, want, rtol=1e-3, atol=1e-4)
print("installed Python module:", foldrt.__file__)
EOF
fi
echo "cmake_consumer_test: OK"
