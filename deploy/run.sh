#!/usr/bin/env bash
# Installs what is missing, builds, and starts memserverd in the foreground on
# 127.0.0.1:7070 with RocksDB in ./memserver-data. Extra arguments go to
# memserverd (see `build/server/service/memserverd --help`). Ctrl-C stops it cleanly.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/deploy/build.sh" memserverd memctl
build="${MEMSERVER_BUILD_DIR:-$root/build}"
exec "$build/server/service/memserverd" --listen 127.0.0.1:7070 --data-dir "$root/memserver-data" "$@"
