#!/bin/sh
# Checks every tests/ml/fixtures/*.json against ONNX Runtime (onnxruntime-node, CPU).
# Installs the pinned onnxruntime-node from package-lock.json on first use (npm ci; the CPU
# build only). Exit status: 0 all fixtures match, 1 some differ, 77 skipped (no node/npm, or
# the install failed, e.g. offline) — 77 is what Meson reports as a skipped test.
set -u
cd "$(dirname "$0")" || exit 1

skip() {
  echo "run_parity.sh: skipped: $*" >&2
  exit 77
}

command -v node >/dev/null 2>&1 || skip "node is not installed"
if [ ! -d node_modules/onnxruntime-node ]; then
  command -v npm >/dev/null 2>&1 || skip "npm is not installed (needed once to install onnxruntime-node)"
  if ! npm ci --no-audit --no-fund --onnxruntime-node-install-cuda=skip >&2; then
    rm -rf node_modules  # a half-done install must not pass for a finished one next time
    skip "npm ci failed (no network or no registry access?)"
  fi
fi
exec node parity.js "$@"
