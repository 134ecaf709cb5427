#!/usr/bin/env bash
# What background snapshots cost the clients: memload's latency against a
# memserverd taking a snapshot every INTERVAL, and against one with snapshots
# off, in interleaved pairs (same load, same machine, one run). Prints one row
# per run (ops/s, p50, p99, p99.9 in us)
# and the p99 ratio of each pair.
#
#   BUILD=build tests/bench/snapshot_latency.sh
#
# Env: BUILD (binaries), PAIRS (3), DURATION (seconds measured, 20),
# INTERVAL (snapshot interval, 2s: ten times more often than the default so
# that every run holds several), WORKING_SET (1GiB, one shared process,
# populated, resident: MEMORY is 2GiB), READ_RATIO (0.9: 10% 4 KiB writes
# dirty pages for every snapshot), WORKERS (16).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source=bench_lib.sh
source "$here/bench_lib.sh"

PAIRS="${PAIRS:-3}"
DURATION="${DURATION:-20}"
INTERVAL="${INTERVAL:-2s}"
WORKING_SET="${WORKING_SET:-1GiB}"
MEMORY="${MEMORY:-2GiB}"
READ_RATIO="${READ_RATIO:-0.9}"
WORKERS="${WORKERS:-16}"

# run NAME INTERVAL: one memload run against a fresh memserverd.
run() {
  local name="$1" interval="$2" addr json
  start_memserverd addr --memory "$MEMORY" --snapshot-interval "$interval"
  json="$bench_tmp/$name.json"
  "$MEMLOAD" --server "$addr" --workers "$WORKERS" --shared-process --working-set "$WORKING_SET" \
    --populate --access-size 4KiB --read-ratio "$READ_RATIO" --warmup 3 --duration "$DURATION" \
    --no-progress --json "$json" >/dev/null
  python3 - "$json" "$name" "$interval" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))
lat = r["run"]["latency_us"]["all"]
print(f'{sys.argv[2]:<14} {sys.argv[3]:>8} {r["run"]["ops_per_second"]:>9.0f} {lat["p50"]:>8.1f} '
      f'{lat["p99"]:>8.1f} {lat.get("p99.9", float("nan")):>8.1f}')
EOF
  stop_server "$addr"
}

printf '%-14s %8s %9s %8s %8s %8s\n' run interval ops/s p50 p99 p99.9
for ((i = 1; i <= PAIRS; i++)); do
  run "snapshots-$i" "$INTERVAL"
  run "off-$i" 0
done
python3 - "$bench_tmp" "$PAIRS" <<'EOF'
import json, sys
d, pairs = sys.argv[1], int(sys.argv[2])
for i in range(1, pairs + 1):
    on = json.load(open(f"{d}/snapshots-{i}.json"))["run"]["latency_us"]["all"]
    off = json.load(open(f"{d}/off-{i}.json"))["run"]["latency_us"]["all"]
    print(f"pair {i}: p50 x{on['p50'] / off['p50']:.2f}, p99 x{on['p99'] / off['p99']:.2f}")
EOF
