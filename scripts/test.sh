#!/usr/bin/env bash
# From a fresh Debian 12 machine: install what is missing, build, run the whole test suite
# (unit tests and end-to-end tests that start real dim processes on loopback).
# Extra arguments go to `meson test` (e.g. a test name, or --suite e2e).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh --test
scripts/build.sh
status=0
meson test -C build --print-errorlogs --num-processes "$(nproc)" "$@" || status=$?
# One closing line that any CI reads: "N passed, N failed".
/usr/bin/python3 - build/meson-logs/testlog.json <<'PY'
import json, sys
results = [json.loads(line)["result"] for line in open(sys.argv[1]) if line.strip()]
passed = sum(r in ("OK", "EXPECTEDFAIL") for r in results)
skipped = sum(r == "SKIP" for r in results)
print(f"tests: {passed} passed, {len(results) - passed - skipped} failed, {skipped} skipped")
PY
exit "$status"
