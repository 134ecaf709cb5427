#!/usr/bin/env bash
# Configures (once) and builds memserver into ./build. Usage: deploy/build.sh [targets...]
# Installs missing Debian packages first (deploy/setup.sh).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/deploy/setup.sh"
build="${MEMSERVER_BUILD_DIR:-$root/build}"
if [ ! -f "$build/CMakeCache.txt" ]; then
  cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
fi
jobs="${MEMSERVER_JOBS:-2}"
if [ $# -gt 0 ]; then
  targets=()
  for t in "$@"; do targets+=(--target "$t"); done
  cmake --build "$build" -j"$jobs" "${targets[@]}"
else
  cmake --build "$build" -j"$jobs"
fi
