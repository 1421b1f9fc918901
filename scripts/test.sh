#!/usr/bin/env bash
# From a fresh Debian 12 machine: install what is missing, build, run the whole test suite
# (unit tests and end-to-end tests that start real dim processes on loopback).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh --test
scripts/build.sh
meson test -C build --print-errorlogs --num-processes "$(nproc)" "$@"
