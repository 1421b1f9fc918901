#!/usr/bin/env bash
# Installs the Debian 12 packages dim needs to build, run and test. Idempotent: installs
# only what is missing, and runs apt-get update only then. Run as root (or with sudo).
set -euo pipefail

BUILD_PACKAGES=(
  meson ninja-build pkg-config g++
  protobuf-compiler libprotobuf-dev libgrpc++-dev protobuf-compiler-grpc libabsl-dev
  libcli11-dev libspdlog-dev libfmt-dev nlohmann-json3-dev libeigen3-dev
  libsqlite3-dev libssl-dev libonnx-dev libgtest-dev libgmock-dev
  prometheus-cpp-dev libtomlplusplus-dev
)
# The end-to-end tests: an independent numpy reference, the protocol README's Python
# example (grpcio) and its TypeScript example (node + npm), and the openssl command line
# (certificates made the way a site's IT makes them).
# A real Prometheus server and promtool scrape and check the services' metrics.
TEST_PACKAGES=(python3 python3-numpy python3-onnx python3-grpcio python3-protobuf openssl
  prometheus)
# systemd-analyze checks the units of dist/systemd (tests/dist).
TEST_PACKAGES+=(systemd)
# The libFuzzer targets (scripts/fuzz.sh): clang and its fuzzer/sanitizer runtimes.
FUZZ_PACKAGES=(clang libclang-rt-14-dev)

want=("${BUILD_PACKAGES[@]}")
if [[ "${1:-}" == "--test" ]]; then
  want+=("${TEST_PACKAGES[@]}")
  command -v node >/dev/null 2>&1 || want+=(nodejs)
  command -v npm >/dev/null 2>&1 || want+=(npm)
fi
if [[ "${1:-}" == "--fuzz" ]]; then
  want+=("${FUZZ_PACKAGES[@]}")
fi

missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]} == 0)); then
  exit 0
fi

SUDO=()
if [[ $(id -u) -ne 0 ]]; then
  command -v sudo >/dev/null 2>&1 || { echo "install-deps: run as root to install: ${missing[*]}" >&2; exit 1; }
  SUDO=(sudo)
fi
echo "install-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" apt-get update -qq
"${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
