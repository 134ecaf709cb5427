#!/usr/bin/env bash
# What TLS and a bearer token cost unary reads: memserverd on plaintext
# loopback without tenants against memserverd with TLS (server certificate)
# and a tenants file (every call authenticated, every frame charged), same
# build, same machine, in alternating runs. Prints one row per run and the
# medians. A benchmark: it asserts nothing.
#
#   tests/bench/tls_cost.sh [RUNS] [SECONDS] [-- extra memload flags]
#   BUILD=dir   build directory (default: ../../build from this folder)
#
# Default: 3 pairs of 5-second runs, 16 workers, resident 4 KiB unary reads.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=bench_lib.sh
source "$here/bench_lib.sh"
runs="${1:-3}"
seconds="${2:-5}"
shift $(($# > 2 ? 2 : $#))
[ "${1:-}" = "--" ] && shift
extra=("$@")

creds="$bench_tmp/creds"
bash "$here/../../deploy/make-credentials.sh" "$creds" --tenants "bench" --hosts "localhost,127.0.0.1" >/dev/null
start_memserverd plain --memory 256MiB
start_memserverd secure --memory 256MiB --tls-cert "$creds/server.pem" --tls-key "$creds/server.key" \
  --tenants "$creds/tenants.toml"

run() {  # run NAME ADDR [memload flags...]: one row of numbers
  local name="$1" addr="$2"; shift 2
  "$MEMLOAD" --server "$addr" --workers 16 --duration "$seconds" --warmup 1 --working-set 16MiB \
    --populate --no-progress --json "$bench_tmp/$name.json" "$@" "${extra[@]}" >/dev/null
  echo "$name $(row_json "$bench_tmp/$name.json")"
}

printf '%-8s %10s %8s %8s\n' mode ops/s p50_us p99_us
rows=()
for ((i = 0; i < runs; i++)); do
  for mode in plain secure; do
    if [ "$mode" = plain ]; then
      row="$(run plain "$plain")"
    else
      row="$(run secure "$secure" --tls-ca "$creds/ca.pem" --tls-server-name localhost \
        --token-file "$creds/tokens/bench.token")"
    fi
    rows+=("$row")
    read -r m ops p50 p99 _ <<<"$row"
    printf '%-8s %10s %8s %8s\n' "$m" "$ops" "$p50" "$p99"
  done
done
printf '%s\n' "${rows[@]}" | python3 -c '
import statistics, sys
by = {}
for line in sys.stdin:
    f = line.split()
    by.setdefault(f[0], []).append((float(f[1]), float(f[2]), float(f[3])))
med = {m: [statistics.median(v[i] for v in rows) for i in range(3)] for m, rows in by.items()}
for m in ("plain", "secure"):
    print(f"median {m:7s} {med[m][0]:10.0f} {med[m][1]:8.1f} {med[m][2]:8.1f}")
ratio = med["secure"][0] / med["plain"][0]
print(f"secure/plain ops/s: {ratio:.3f}")
'
