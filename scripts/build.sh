#!/usr/bin/env bash
# Configures (once) and builds dim into build/. Extra arguments go to `meson setup`.
# Dependencies come from the system's packages only (--wrap-mode=nofallback): a missing
# one is an error naming it, not a download; `--wrap-mode=default` lets Meson build the
# wraps of subprojects/ instead.
set -euo pipefail
cd "$(dirname "$0")/.."
# The CUDA toolkit's usual home is not on PATH; meson finds nvcc there too, but a PATH
# entry also lets nvcc find its own tools.
if [[ -x /usr/local/cuda/bin/nvcc ]]; then
  export PATH="$PATH:/usr/local/cuda/bin"
fi
if [[ ! -f build/build.ninja ]]; then
  meson setup build --wrap-mode=nofallback "$@"
fi
ninja -C build
