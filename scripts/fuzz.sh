#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, AddressSanitizer + UndefinedBehaviorSanitizer) in a
# build directory of their own and runs each for a bounded time over a scratch copy of its
# seed corpus and past regressions; the repository's corpus is never written to.
# Prints one line per target. Any crash, timeout, OOM or leak input found is copied into
# tests/fuzz/regressions/<target>/ (replayed by `meson test --suite fuzz` once fixed) and
# the script exits 1.
#
# Usage: scripts/fuzz.sh [--seconds N] [--build-dir DIR] [--max-len N] [model|csv|config|grpc]...
#   --seconds N     fuzzing time per target (default 60)
#   --build-dir DIR clang build directory (default build-fuzz)
#   --max-len N     largest input libFuzzer generates (default: 8192 for model, 1024 for csv,
#                   4096 for config and grpc)
#   model, csv, config, grpc  the targets to run (default: all four)
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=60
build_dir=build-fuzz
max_len=""
targets=()
while (($#)); do
  case "$1" in
    --seconds) seconds="$2"; shift 2 ;;
    --build-dir) build_dir="$2"; shift 2 ;;
    --max-len) max_len="$2"; shift 2 ;;
    model | csv | config | grpc) targets+=("$1"); shift ;;
    -h | --help) sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "fuzz: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
((${#targets[@]})) || targets=(model csv config grpc)
[[ "$seconds" =~ ^[1-9][0-9]*$ ]] || { echo "fuzz: --seconds needs a positive integer" >&2; exit 2; }

# Corpus/regressions directory => binary, and the default input size limit of each.
declare -A binary=([model]=fuzz_model_loader [csv]=fuzz_csv_reader [config]=fuzz_config_reader [grpc]=fuzz_grpc_requests)
declare -A default_max_len=([model]=8192 [csv]=1024 [config]=4096 [grpc]=4096)

# 1. Tools: the ordinary build dependencies, plus clang and its libFuzzer runtime.
scripts/install-deps.sh --fuzz

# 2. Configure once. Asserts stay on (debugoptimized: no NDEBUG) so Eigen's bounds checks
# fire too; lundef=false because the sanitizer runtimes resolve symbols at link time.
if [[ ! -f "$build_dir/build.ninja" ]]; then
  CC=clang CXX=clang++ meson setup "$build_dir" \
    -Dfuzz=enabled -Dtests=enabled -Dbuildtype=debugoptimized \
    -Db_sanitize=address,undefined -Db_lundef=false
fi

# 3. Build only the fuzz targets (never the whole project: it is slow under sanitizers).
ninja_targets=()
for t in "${targets[@]}"; do ninja_targets+=("tests/fuzz/${binary[$t]}"); done
ninja -C "$build_dir" -j"$(nproc)" "${ninja_targets[@]}"

# 4. Run each target over a scratch corpus; collect what it finds.
scratch="$(mktemp -d "${TMPDIR:-/tmp}/dim-fuzz.XXXXXX")"
trap 'rm -rf "$scratch"' EXIT
# UBSan only reports by default; halting turns every report into a crash libFuzzer keeps.
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:${UBSAN_OPTIONS:-}"

failed=0
for t in "${targets[@]}"; do
  bin="$build_dir/tests/fuzz/${binary[$t]}"
  corpus="$scratch/$t/corpus"
  artifacts="$scratch/$t/artifacts"
  log="$scratch/$t/fuzz.log"
  mkdir -p "$corpus" "$artifacts"
  for seeds in "tests/fuzz/corpus/$t" "tests/fuzz/regressions/$t"; do
    find "$seeds" -type f ! -name '*.md' -exec cp {} "$corpus/" \;
  done

  status=0
  # The outer timeout only guards against libFuzzer itself failing to stop.
  timeout $((seconds + 120)) "$bin" "$corpus" \
    -max_total_time="$seconds" -timeout=5 -rss_limit_mb=2048 \
    -max_len="${max_len:-${default_max_len[$t]}}" \
    -artifact_prefix="$artifacts/" -print_final_stats=1 >"$log" 2>&1 || status=$?

  runs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)"
  found=()
  for artifact in "$artifacts"/*; do
    [[ -f "$artifact" ]] || continue
    cp "$artifact" "tests/fuzz/regressions/$t/"
    found+=("tests/fuzz/regressions/$t/$(basename "$artifact")")
  done

  if ((${#found[@]})); then
    echo "fuzz ${binary[$t]}: ${runs:-?} runs in ${seconds} s: FOUND ${found[*]}"
    grep -m1 -E 'ERROR: (AddressSanitizer|libFuzzer)|runtime error:' "$log" | sed 's/^/  /' || true
    failed=1
  elif ((status != 0)); then
    echo "fuzz ${binary[$t]}: ${runs:-?} runs: FAILED (exit $status, no artifact); log tail:"
    tail -20 "$log" | sed 's/^/  /'
    failed=1
  else
    echo "fuzz ${binary[$t]}: ${runs:-?} runs in ${seconds} s: ok"
  fi
done
exit "$failed"
