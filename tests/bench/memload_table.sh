#!/usr/bin/env bash
# Runs memload scenarios against memserverd and against memnull (the same
# API doing no memory work) and prints one table: ops/s, p50/p99 (us), the
# null target's ops/s and p50, the share of the null target's ops/s reached,
# the server's hit ratio and page-ins.
#
#   BUILD=/work/main/build-bench tests/bench/memload_table.sh [OUT_DIR]
#
# Env: BUILD (binaries), DURATION (seconds per run, default 5), MEMORY (frame
# pool, default 128MiB), POLICY (default: the server's), WORKERS (16),
# SCENARIOS (names separated by spaces; default: all, in the order below).
# OUT_DIR (default: a temporary dir) keeps every memload --json report.
#
# Scenarios (16 workers unless said otherwise):
#   read-4KiB / write-4KiB    resident, uniform, one 2 MiB process per worker
#   read-64B-unary/-batch64/-stream64/-stream1   64-byte reads, resident
#   zipf-4x                   zipfian 0.99 reads, one shared process, working
#                             set 4x the pool (hit ratio and page-ins matter)
#   seq-swapped               sequential 4 KiB reads of a shared region 4x the
#                             pool, populated (so mostly swapped out): the
#                             server's readahead at work
#   seq-swapped-no-ra         the same against a second memserverd started
#                             with --readahead-pages 0 (readahead off)
#   seq-1w / seq-1w-no-ra     1 worker, sequential 4 KiB reads of a region 4x
#                             the pool, with and without readahead: the window
#                             is detected per process and 16 interleaved
#                             workers on one process defeat it. A 10 s
#                             warm-up first, as for major-1w: right after
#                             populating, every victim is dirty and each
#                             page-in waits for a write-back.
#   fork-storm                fork a populated 4 MiB parent, write one page in
#                             the child, exit it (ops = cycles)
#   exec-storm                create a process, exec /bin/true (one uploaded
#                             copy, shared text), read its entry page, exit
#   major-1w                  1 worker, uniform 4 KiB reads of a region 8x the
#                             pool: the p50 is a major fault over gRPC; the
#                             null p50 is the null RPC at the same load. A
#                             10 s warm-up first: right after populating, the
#                             pool is all dirty and RocksDB is compacting the
#                             populated gigabyte, which doubles that p50.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/bench_lib.sh"

DURATION="${DURATION:-5}"
MEMORY="${MEMORY:-128MiB}"
WORKERS="${WORKERS:-16}"
OUT="${1:-$bench_tmp/out}"
mkdir -p "$OUT"
pool_mib="${MEMORY%MiB}"
[[ "$pool_mib" =~ ^[0-9]+$ ]] || { echo "MEMORY must be in MiB, e.g. 128MiB" >&2; exit 2; }

server_flags=(--memory "$MEMORY")
[ -n "${POLICY:-}" ] && server_flags+=(--policy "$POLICY")

resident=(--workers "$WORKERS" --working-set 2MiB --populate)
big=$((pool_mib * 4))MiB
huge=$((pool_mib * 8))MiB
scenarios=(
  "read-4KiB|${resident[*]} --access-size 4KiB"
  "write-4KiB|${resident[*]} --access-size 4KiB --read-ratio 0"
  "read-64B-unary|${resident[*]} --access-size 64"
  "read-64B-batch64|${resident[*]} --access-size 64 --batch 64"
  "read-64B-stream64|${resident[*]} --access-size 64 --batch 64 --stream"
  "read-64B-stream1|${resident[*]} --access-size 64 --stream"
  "zipf-4x|--workers $WORKERS --shared-process --working-set $big --populate --workload zipfian"
  "seq-swapped|--workers $WORKERS --shared-process --working-set $big --populate --workload sequential"
  "seq-swapped-no-ra|--workers $WORKERS --shared-process --working-set $big --populate --workload sequential"
  "seq-1w|--workers 1 --working-set $big --populate --workload sequential --warmup 10"
  "seq-1w-no-ra|--workers 1 --working-set $big --populate --workload sequential --warmup 10"
  "fork-storm|--workers $WORKERS --working-set 4MiB --populate --workload fork-storm"
  "exec-storm|--workers $WORKERS --workload exec-storm"
  "major-1w|--workers 1 --working-set $huge --populate --warmup 10"
)
if [ -n "${SCENARIOS:-}" ]; then
  selected=()
  for name in $SCENARIOS; do
    found=""
    for entry in "${scenarios[@]}"; do [ "${entry%%|*}" = "$name" ] && found="$entry"; done
    [ -n "$found" ] || { echo "unknown scenario '$name' in SCENARIOS" >&2; exit 2; }
    selected+=("$found")
  done
  scenarios=("${selected[@]}")
fi

# Scenarios named *-no-ra run against a memserverd with readahead off,
# started only when one is selected.
start_memserverd SERVER "${server_flags[@]}"
[[ " ${scenarios[*]%%|*} " == *"-no-ra "* ]] &&
  start_memserverd SERVER_NO_RA "${server_flags[@]}" --readahead-pages 0
start_memnull NULL
common=(--compare-null "$NULL" --duration "$DURATION" --no-progress)

no_ra=""
[ -n "${SERVER_NO_RA:-}" ] && no_ra=", $SERVER_NO_RA with --readahead-pages 0"
echo "memserverd $SERVER (--memory $MEMORY${POLICY:+ --policy $POLICY})$no_ra, memnull $NULL;" \
  "${DURATION}s per run; load: $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-18s %10s %8s %8s %10s %8s %7s %8s %9s %6s\n' scenario ops/s p50us p99us \
  null_ops/s null_p50 %null hit% page_ins errors
for entry in "${scenarios[@]}"; do
  name="${entry%%|*}"
  read -r -a args <<<"${entry#*|}"
  [[ " ${args[*]} " == *" --warmup "* ]] || args+=(--warmup 1)
  target="$SERVER"
  [[ "$name" == *-no-ra ]] && target="$SERVER_NO_RA"
  if ! "$MEMLOAD" "${common[@]}" --server "$target" "${args[@]}" --json "$OUT/$name.json" \
    >"$OUT/$name.txt" 2>&1; then
    echo "$name: memload failed (exit $?), see below" >&2
    tail -5 "$OUT/$name.txt" >&2
    [ -s "$OUT/$name.json" ] || continue
  fi
  read -r -a cells <<<"$(row_json "$OUT/$name.json")"
  printf '%-18s %10s %8s %8s %10s %8s %7s %8s %9s %6s\n' "$name" "${cells[@]}"
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)${1:+; reports in $OUT}"
