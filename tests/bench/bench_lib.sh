# Shared by memload_table.sh and policy_table.sh (sourced, not run).
#
#   BUILD      build directory holding the binaries (env; default ../../build
#              relative to this folder, i.e. /work/main/build)
#   bench_tmp  a temporary directory removed on exit, with every server this
#              shell started (by pid: nothing else is ever killed)
#   start_memserverd VAR FLAGS...   starts memserverd on a free loopback port
#              (data in a fresh dir under bench_tmp); sets VAR to host:port
#   start_memnull VAR               the same for memnull
#   stop_server ADDR                stops the server started at ADDR (SIGTERM,
#              then waits for it to exit)
#   row_json FILE                   prints one line of numbers of a memload
#              --json report: ops/s p50 p99 null_ops/s %null hit% page_ins

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
BUILD="${BUILD:-$here/../../build}"
MEMSERVERD="$BUILD/server/service/memserverd"
MEMNULL="$BUILD/client/memload/memnull"
MEMLOAD="$BUILD/client/memload/memload"
MEMSIM="$BUILD/server/tools/memsim"
for bin in "$MEMSERVERD" "$MEMNULL" "$MEMLOAD" "$MEMSIM"; do
  [ -x "$bin" ] || { echo "missing $bin (set BUILD to a build directory)" >&2; exit 2; }
done

bench_tmp="$(mktemp -d /tmp/memserver-bench-XXXXXX)"
declare -A bench_pids=()

bench_cleanup() {
  local addr
  for addr in "${!bench_pids[@]}"; do kill "${bench_pids[$addr]}" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$bench_tmp"
}
trap bench_cleanup EXIT

# wait_port FILE PID: the port written to FILE once listening (60 s at most).
wait_port() {
  local file="$1" pid="$2" i
  for ((i = 0; i < 600; i++)); do
    if [ -s "$file" ]; then cat "$file"; return 0; fi
    kill -0 "$pid" 2>/dev/null || { echo "server $pid exited before listening" >&2; return 1; }
    sleep 0.1
  done
  echo "server $pid did not listen within 60 s" >&2
  return 1
}

start_memserverd() {
  local var="$1"; shift
  local dir port pid
  dir="$(mktemp -d "$bench_tmp/server-XXXXXX")"
  "$MEMSERVERD" --listen 127.0.0.1:0 --port-file "$dir/port" --data-dir "$dir/data" \
    --metrics-listen "" --log-level warn "$@" >"$dir/log" 2>&1 &
  pid=$!
  port="$(wait_port "$dir/port" "$pid")" || { cat "$dir/log" >&2; exit 1; }
  bench_pids["127.0.0.1:$port"]=$pid
  printf -v "$var" '%s' "127.0.0.1:$port"
}

start_memnull() {
  local var="$1" dir port pid
  dir="$(mktemp -d "$bench_tmp/null-XXXXXX")"
  "$MEMNULL" --listen 127.0.0.1:0 --port-file "$dir/port" >"$dir/log" 2>&1 &
  pid=$!
  port="$(wait_port "$dir/port" "$pid")" || { cat "$dir/log" >&2; exit 1; }
  bench_pids["127.0.0.1:$port"]=$pid
  printf -v "$var" '%s' "127.0.0.1:$port"
}

stop_server() {
  local addr="$1" pid="${bench_pids[$1]}"
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  unset "bench_pids[$addr]"
}

row_json() {
  python3 - "$1" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))
run, null = r["run"], r.get("null_target")
lat = run["latency_us"]["all"]
hit = run["server"]["hit_ratio"]
cells = [f'{run["ops_per_second"]:.0f}', f'{lat["p50"]:.1f}', f'{lat["p99"]:.1f}']
if null:
    cells += [f'{null["ops_per_second"]:.0f}', f'{null["latency_us"]["all"]["p50"]:.1f}',
              f'{r["transport_ceiling_percent"]:.1f}']
else:
    cells += ["-", "-", "-"]
cells += ["-" if hit is None else f"{100 * hit:.2f}", str(run["server"]["delta"]["page_ins"])]
errors = sum(run["errors"].values())
cells.append(str(errors))
print(" ".join(cells))
EOF
}
