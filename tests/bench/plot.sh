#!/usr/bin/env bash
# Renders PNG plots with gnuplot (Debian gnuplot-nox):
#   OUT/mrc-TRACE.png     miss-ratio curves of every policy (and OPT) on each
#                         trace of TRACES (memsim --mrc --json), log x axis
#   OUT/latency-cdf.png   latency CDFs of memload runs, one curve per
#                         --json report given (from the histogram buckets
#                         memload writes)
#   OUT/latency-timeline.png  latency over the measured phase of every
#                         --json report given: p50 and p99 per --interval
#                         (the report's "timeline", log y axis) and ops/s on
#                         the second y axis; an interval in which no op
#                         succeeded is a gap, and so is the ops/s of a last
#                         entry shorter than half an interval (the calls in
#                         flight at the deadline)
#
#   BUILD=/work/main/build-bench tests/bench/plot.sh OUT [memload.json...]
#
# Env: BUILD, TRACES (default ../shared/traces next to the repo). memsim (in
# BUILD) is needed only when TRACES holds traces.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
BUILD="${BUILD:-$here/../../build}"
TRACES="${TRACES:-$here/../../../shared/traces}"
MEMSIM="$BUILD/server/tools/memsim"
[ $# -ge 1 ] || { echo "usage: $0 OUT_DIR [memload.json...]" >&2; exit 2; }
OUT="$1"; shift
command -v gnuplot >/dev/null || { echo "gnuplot missing (apt-get install gnuplot-nox)" >&2; exit 2; }
if compgen -G "$TRACES/*.zst" >/dev/null || compgen -G "$TRACES/*.gz" >/dev/null; then
  [ -x "$MEMSIM" ] || { echo "missing $MEMSIM (set BUILD)" >&2; exit 2; }
fi
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

if [ $# -gt 0 ]; then
  # Per report: interval midpoint (s), p50 (us), p99 (us), ops/s; an interval
  # without a successful op has no latency (NaN: a gap in the line).
  plot=""
  for json in "$@"; do
    label="$(basename "$json" .json)"
    python3 - "$json" "$work/$label.timeline" <<'EOF'
import json, sys
timeline = json.load(open(sys.argv[1]))["run"].get("timeline", [])
width = max((e["seconds"] for e in timeline), default=0)
with open(sys.argv[2], "w") as out:
    for e in timeline:
        mid = e["t_start_s"] + e["seconds"] / 2
        ok = e["ops"] - e["errors"]
        p50 = e["p50_us"] if ok > 0 else "NaN"
        p99 = e["p99_us"] if ok > 0 else "NaN"
        # A last entry much shorter than the interval (the calls still in
        # flight at the deadline) has a meaningless rate: no ops/s point.
        rate = e["ops_per_second"] if e["seconds"] >= width / 2 else "NaN"
        out.write(f"{mid} {p50} {p99} {rate}\n")
EOF
    if [ ! -s "$work/$label.timeline" ]; then
      echo "$json: no timeline (a report of an older memload?)" >&2
      continue
    fi
    plot+="${plot:+, }'$work/$label.timeline' using 1:3 with linespoints lw 2 pt 7 ps 0.4 title '$label p99'"
    plot+=", '$work/$label.timeline' using 1:2 with linespoints lw 2 dt 2 pt 6 ps 0.4 title '$label p50'"
    plot+=", '$work/$label.timeline' using 1:4 axes x1y2 with lines lw 1 dt 3 title '$label ops/s'"
  done
  if [ -n "$plot" ]; then
    gnuplot <<EOF
set terminal pngcairo size 1000,650 font 'DejaVu Sans,12'
set output '$OUT/latency-timeline.png'
set title 'memload latency over time (p50, p99 per interval) and throughput'
set xlabel 'time since the measured phase started (s)'
set ylabel 'latency (us, log scale)'
set y2label 'ops/s'
set logscale y 10
set ytics nomirror
set y2tics
set y2range [0:*]
set grid
set key outside right top
plot $plot
EOF
    echo "$OUT/latency-timeline.png"
  fi
fi
