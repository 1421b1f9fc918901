#!/bin/sh
# Checks the systemd units of dist/systemd with systemd-analyze: `verify` (syntax, every key
# known, ExecStart executable) on copies whose ExecStart runs the built dim (DIM_BIN), the
# daemon template as an instance, and `security`, so that their hardening stays in place.
# A warning about a unit fails the test as an error does. Exit 77 (skipped) without
# systemd-analyze (Debian package systemd).
set -eu

: "${DIM_BIN:?DIM_BIN: the built dim}"
: "${DIM_SOURCE_ROOT:?DIM_SOURCE_ROOT: the source tree}"
# The highest exposure `systemd-analyze security` may give a unit: 2.0 on its scale of 0
# (best) to 10, written in tenths for --threshold. The units are at 1.2.
max_exposure=2.0
threshold=20

if ! command -v systemd-analyze >/dev/null 2>&1; then
  echo "SKIP: systemd-analyze not found (install the Debian package systemd)"
  exit 77
fi

units="$DIM_SOURCE_ROOT/dist/systemd"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
status=0
fail() {
  echo "FAIL: $*"
  status=1
}

for unit in dim-orchestrator.service dim-daemon@.service; do
  [ -f "$units/$unit" ] || { fail "$units/$unit is missing"; continue; }
  grep -q '^ExecStart=/usr/bin/dim ' "$units/$unit" || fail "$unit: ExecStart does not run /usr/bin/dim"
  sed "s|^ExecStart=/usr/bin/dim |ExecStart=$DIM_BIN |" "$units/$unit" >"$tmp/$unit"
done

# The daemon's template is checked as the instance of a node.
checked="$tmp/dim-orchestrator.service $tmp/dim-daemon@hospital-a.service"
echo "systemd-analyze verify $checked"
# shellcheck disable=SC2086
if ! systemd-analyze verify --man=no $checked >"$tmp/verify.log" 2>&1; then
  fail "systemd-analyze verify exited with an error"
fi
cat "$tmp/verify.log"
# Unknown keys and values that do not parse are only warnings to systemd: an error here.
if grep -q 'dim-orchestrator\|dim-daemon@' "$tmp/verify.log"; then
  fail "systemd-analyze verify reported problems with the units (above)"
fi

for unit in $checked; do
  if systemd-analyze security --offline=yes --threshold="$threshold" "$unit" >"$tmp/security.log" 2>&1; then
    grep 'Overall exposure level' "$tmp/security.log" || true
  else
    grep '✗' "$tmp/security.log" || true
    grep 'Overall exposure level' "$tmp/security.log" || cat "$tmp/security.log"
    fail "$(basename "$unit"): exposure above $max_exposure (systemd-analyze security)"
  fi
done

[ "$status" -eq 0 ] && echo "OK: the units verify, each at an exposure of at most $max_exposure"
exit "$status"
