#!/usr/bin/env bash
# From a fresh Debian 12 machine: install what is missing, build, and run a real
# collaborative job in local mode: the heart_mlp model on three hospitals' data, each
# site's rows summarised where they are, the summaries pooled.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
export DIM_LOCAL_DB="${DIM_LOCAL_DB:-$PWD/build/quickstart.db}"
set -x
build/src/cli/dim --local submit --pattern collaborative --model heart_mlp \
  --models examples/models \
  --local-node hospital-a=examples/data/hospital_a.csv \
  --local-node hospital-b=examples/data/hospital_b.csv \
  --local-node hospital-c=examples/data/hospital_c.csv
