#!/usr/bin/env bash
# Evidence for the default replacement policy, in two tables:
#   1. memsim hit ratios (%) of every policy on every trace of TRACES at two
#      cache sizes each (the sizes of ../shared/traces/README.md's reference
#      table where it has them);
#   2. memload against memserverd started with each policy: 16 workers,
#      zipfian 0.99 reads (and a 10% write variant when MIX=1) of one shared
#      process whose working set is 4x the pool: ops/s, p99 and hit ratio
#      under concurrency.
#
#   BUILD=/work/main/build-bench tests/bench/policy_table.sh
#
# Env: BUILD, TRACES (default ../shared/traces next to the repo), DURATION
# (seconds per memload run, default 5), MEMORY (pool, default 64MiB),
# POLICIES (default: every policy memserverd accepts).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/bench_lib.sh"

TRACES="${TRACES:-$here/../../../shared/traces}"
DURATION="${DURATION:-5}"
MEMORY="${MEMORY:-64MiB}"
pool_mib="${MEMORY%MiB}"
if [ -z "${POLICIES:-}" ]; then
  # memserverd --help lists the names its --policy accepts: {clock,lru,...}
  POLICIES="$("$MEMSERVERD" --help | grep -A1 -- '--policy' | grep -o '{[^}]*}' | head -1 |
    tr -d '{}')"
fi
IFS=',' read -r -a policies <<<"$POLICIES"

# Two cache sizes per trace (blocks).
declare -A sizes=(
  [OLTP.lis.zst]=1000,2000 [P2.lis.zst]=8192,32768 [multi2.trace.gz]=500,2000
  [sprite.trace.gz]=100,500 [2_pools.trace.gz]=500,2000 [loop.trace.gz]=500,1000
)

echo "== memsim: hit ratio (%) per policy; load $(cut -d' ' -f1-3 /proc/loadavg)"
for trace in "$TRACES"/*.zst "$TRACES"/*.gz; do
  [ -e "$trace" ] || continue
  name="$(basename "$trace")"
  frames="${sizes[$name]:-1000,2000}"
  "$MEMSIM" --trace "$trace" --frames "$frames" --policies all --json >"$bench_tmp/sim.json"
  python3 - "$name" "$bench_tmp/sim.json" <<'EOF'
import json, sys
name, path = sys.argv[1], sys.argv[2]
rows = [json.loads(l) for l in open(path) if l.strip()]
if len(rows) == 1 and isinstance(rows[0], list):
    rows = rows[0]
policies = sorted({r["policy"] for r in rows}, key=lambda p: (p == "opt", p))
frames = sorted({r["frames"] for r in rows})
hit = {(r["policy"], r["frames"]): r["hit_ratio"] for r in rows}  # already percent
print(f"{name:<18} {'frames':>7} " + " ".join(f"{p:>7}" for p in policies))
for f in frames:
    best = max((hit[(p, f)], p) for p in policies if p != "opt")[1]
    cells = [f"{hit[(p, f)]:6.2f}" + ("*" if p == best else " ") for p in policies]
    print(f"{'':<18} {f:>7} " + " ".join(cells))
EOF
done
echo "(* best online policy at that size; opt is Belady's bound)"

run_policy() {
  local policy="$1" label="$2"; shift 2
  local server
  start_memserverd server --memory "$MEMORY" --policy "$policy"
  if "$MEMLOAD" --server "$server" --duration "$DURATION" --warmup 2 --no-progress \
      --workers 16 --shared-process --working-set "$((pool_mib * 4))MiB" --populate \
      --workload zipfian "$@" --json "$bench_tmp/$policy.json" >"$bench_tmp/$policy.txt" 2>&1; then
    read -r -a cells <<<"$(row_json "$bench_tmp/$policy.json")"
    printf '%-8s %-12s %10s %8s %8s %8s %9s %6s\n' "$policy" "$label" "${cells[0]}" \
      "${cells[1]}" "${cells[2]}" "${cells[6]}" "${cells[7]}" "${cells[8]}"
  else
    echo "$policy: memload failed:" >&2
    tail -5 "$bench_tmp/$policy.txt" >&2
  fi
  stop_server "$server"
}

echo
echo "== memload zipfian 0.99, 16 workers, working set 4x the pool ($MEMORY);" \
  "${DURATION}s each; load $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-8s %-12s %10s %8s %8s %8s %9s %6s\n' policy workload ops/s p50us p99us hit% \
  page_ins errors
for policy in "${policies[@]}"; do
  run_policy "$policy" reads
  [ "${MIX:-0}" = 1 ] && run_policy "$policy" "90%reads" --read-ratio 0.9
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
