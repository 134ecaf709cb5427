#!/usr/bin/env bash
# Installs what is missing, builds everything, and runs the whole test suite (ctest).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/deploy/build.sh"
build="${MEMSERVER_BUILD_DIR:-$root/build}"
cd "$build"
ctest --output-on-failure -j"${MEMSERVER_JOBS:-2}" --timeout 900
# The container flow (issue 5): image build, compose stack with Prometheus
# and memload, health, a memctl round trip from the host, restart.
MEMSERVER_BUILD_DIR="$build" bash "$root/deploy/docker-test.sh"
