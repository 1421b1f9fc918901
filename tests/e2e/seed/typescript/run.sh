#!/usr/bin/env bash
# Runs the seed README's TypeScript example against a live orchestrator.
#   tests/e2e/seed/typescript/run.sh ADDR
# Installs the pinned dependencies (npm ci) when node_modules is missing, compiles with
# tsc, and runs the example from the repository root (the README loads ./proto).
# The exit status is the example's: 0 only when the job ended JOB_STATE_COMPLETED.
set -euo pipefail

if [[ $# -ne 1 ]]; then
  echo "usage: $0 ADDR   (the orchestrator's host:port)" >&2
  exit 2
fi
addr=$1
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../../../.." && pwd)

cd "$here"
if [[ ! -d node_modules ]]; then
  npm ci --no-audit --no-fund >&2
fi
./node_modules/.bin/tsc -p tsconfig.json

cd "$root"
exec node "$here/dist/example.js" "$addr"
