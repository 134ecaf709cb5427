#!/usr/bin/env bash
# Renders PNG plots with gnuplot (Debian gnuplot-nox):
#   OUT/mrc-TRACE.png     miss-ratio curves of every policy (and OPT) on each
#                         trace of TRACES (memsim --mrc --json), log x axis
#   OUT/latency-cdf.png   latency CDFs of memload runs, one curve per
#                         --json report given (from the histogram buckets
#                         memload writes; memload keeps no latency timeline,
#                         so latency over time is not plotted)
#
#   BUILD=/work/main/build-bench tests/bench/plot.sh OUT [memload.json...]
#
# Env: BUILD, TRACES (default ../shared/traces next to the repo).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
BUILD="${BUILD:-$here/../../build}"
TRACES="${TRACES:-$here/../../../shared/traces}"
MEMSIM="$BUILD/server/tools/memsim"
[ $# -ge 1 ] || { echo "usage: $0 OUT_DIR [memload.json...]" >&2; exit 2; }
OUT="$1"; shift
command -v gnuplot >/dev/null || { echo "gnuplot missing (apt-get install gnuplot-nox)" >&2; exit 2; }
[ -x "$MEMSIM" ] || { echo "missing $MEMSIM (set BUILD)" >&2; exit 2; }
mkdir -p "$OUT"
work="$(mktemp -d /tmp/memserver-plot-XXXXXX)"
trap 'rm -rf "$work"' EXIT

for trace in "$TRACES"/*.zst "$TRACES"/*.gz; do
  [ -e "$trace" ] || continue
  name="$(basename "$trace")"; name="${name%%.*}"
  "$MEMSIM" --trace "$trace" --mrc --json >"$work/$name.json"
  # One data block per policy (gnuplot's "index"), columns: frames miss%.
  policies="$(python3 - "$work/$name.json" "$work/$name.dat" <<'EOF'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
order = []
for r in rows:
    if r["policy"] not in order:
        order.append(r["policy"])
with open(sys.argv[2], "w") as out:
    for p in order:
        for r in sorted((r for r in rows if r["policy"] == p), key=lambda r: r["frames"]):
            out.write(f'{r["frames"]} {r["miss_ratio"]}\n')
        out.write("\n\n")
print(" ".join(order))
EOF
)"
  plot=""
  i=0
  for p in $policies; do
    style="lw 2"; [ "$p" = opt ] && style="lw 2 dt 2 lc rgb 'black'"
    plot+="${plot:+, }'$work/$name.dat' index $i using 1:2 with linespoints $style pt 7 ps 0.5 title '$p'"
    i=$((i + 1))
  done
  gnuplot <<EOF
set terminal pngcairo size 1000,650 font 'DejaVu Sans,12'
set output '$OUT/mrc-$name.png'
set title 'Miss-ratio curve: $name (memsim --mrc)'
set xlabel 'cache size (frames, log scale)'
set ylabel 'miss ratio (%)'
set logscale x 2
set grid
set key outside right top
plot $plot
EOF
  echo "$OUT/mrc-$name.png"
done

if [ $# -gt 0 ]; then
  plot=""
  for json in "$@"; do
    label="$(basename "$json" .json)"
    python3 - "$json" "$work/$label.cdf" <<'EOF'
import json, sys
h = json.load(open(sys.argv[1]))["run"]["latency_histogram"]
buckets = h["buckets_lowest_highest_count"]
total = sum(b[2] for b in buckets)
seen = 0
with open(sys.argv[2], "w") as out:
    for lowest, highest, count in buckets:
        seen += count
        out.write(f"{highest / 1000.0} {100.0 * seen / total}\n")
EOF
    plot+="${plot:+, }'$work/$label.cdf' using 1:2 with lines lw 2 title '$label'"
  done
  gnuplot <<EOF
set terminal pngcairo size 1000,650 font 'DejaVu Sans,12'
set output '$OUT/latency-cdf.png'
set title 'memload latency CDF per scenario (memserverd)'
set xlabel 'latency (us, log scale)'
set ylabel 'calls completed within (%)'
set logscale x 10
set yrange [0:100]
set grid
set key outside right top
plot $plot
EOF
  echo "$OUT/latency-cdf.png"
fi
