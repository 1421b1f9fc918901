#!/usr/bin/env bash
# Configures (once) and builds dim into build/. Extra arguments go to `meson setup`.
set -euo pipefail
cd "$(dirname "$0")/.."
# The CUDA toolkit's usual home is not on PATH; meson finds nvcc there too, but a PATH
# entry also lets nvcc find its own tools.
if [[ -x /usr/local/cuda/bin/nvcc ]]; then
  export PATH="$PATH:/usr/local/cuda/bin"
fi
if [[ ! -f build/build.ninja ]]; then
  meson setup build "$@"
fi
ninja -C build
