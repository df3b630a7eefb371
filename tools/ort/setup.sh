#!/usr/bin/env bash
# Installs onnxruntime-node (pinned in package.json / package-lock.json) into
# tools/ort/node_modules. Idempotent: does nothing when the pinned version is
# already installed and loads (--force reinstalls). Only the npm registry is
# contacted: ONNXRUNTIME_NODE_INSTALL=skip and --ignore-scripts keep the
# package's postinstall from fetching anything (the CPU binaries are inside
# the npm tarball).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here"

force=0
case "${1:-}" in
  --force) force=1 ;;
  "") ;;
  -h|--help) echo "usage: tools/ort/setup.sh [--force]"; exit 0 ;;
  *) echo "setup.sh: unknown argument '$1' (usage: tools/ort/setup.sh [--force])" >&2; exit 2 ;;
esac

for tool in node npm; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "setup.sh: error: '$tool' not found on PATH; install Node.js >= 16 with npm" \
         "(Debian 12: apt-get install -y nodejs npm)" >&2
    exit 1
  fi
done

pinned="$(node -p "require('./package.json').dependencies['onnxruntime-node']")"

check() {
  node -e "
    const v = require('onnxruntime-node/package.json').version;
    if (v !== process.argv[1]) { console.error('installed ' + v + ', pinned ' + process.argv[1]); process.exit(1); }
    require('onnxruntime-node');
  " "$pinned" >/dev/null 2>&1
}

if [[ $force -eq 0 ]] && check; then
  echo "onnxruntime-node $pinned already installed in $here/node_modules"
else
  export ONNXRUNTIME_NODE_INSTALL=skip CI=true npm_config_yes=true
  npm_flags=(--ignore-scripts --no-audit --no-fund --no-progress --loglevel=error)
  if [[ -f package-lock.json ]]; then
    npm ci "${npm_flags[@]}"
  else
    npm install "${npm_flags[@]}"
  fi
fi

# Smoke test: the CPU backend loads and creates a session.
node "$here/check_install.js"
