#!/usr/bin/env bash
# labelassign benchmark: generated days with realistic overlap (generate.py), remap end to end with /usr/bin/time -v,
# then the pandas + SciPy sparse-matching anchor on the same data. Usage: tools/Cli/bench/run.sh WORKDIR N K [N K ...]
#   e.g. tools/Cli/bench/run.sh data/bench/labelassign 1e6 1e4 1e7 1e5
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)"
work="$1"; shift
"$root/labelassign" --help > /dev/null   # build once, outside the timings
while [ $# -ge 2 ]; do
  n="$1"; k="$2"; shift 2
  d="$work/n${n}_k${k}"; mkdir -p "$d"
  [ -f "$d/today.csv" ] || /usr/bin/python3 "$root/tools/Cli/bench/generate.py" "$d" "$n" "$k"
  [ -d "$d/today" ] || /usr/bin/python3 "$root/tools/Cli/bench/generate.py" "$d" "$n" "$k"
  /usr/bin/time -v "$root/tools/Cli/bin/Release/net10.0/labelassign" remap --yesterday "$d/yesterday.csv" --today "$d/today.csv" \
    --out "$d/out" -q 2> "$d/time_labelassign.txt"
  # The same days from folders of .npy columns (streamed through DuckDB's appender instead of parsed as CSV).
  /usr/bin/time -v "$root/tools/Cli/bin/Release/net10.0/labelassign" remap --yesterday "$d/yesterday" --today "$d/today" \
    --out "$d/out_npy" -q 2> "$d/time_labelassign_npy.txt"
  cmp -s "$d/out/stable_ids.parquet" "$d/out_npy/stable_ids.parquet" || echo "n=$n k=$k: CSV and .npy inputs gave different stable IDs" >&2
  /usr/bin/time -v /usr/bin/python3 "$root/tools/Cli/bench/pandas_anchor.py" "$d" > "$d/anchor.txt" 2> "$d/time_anchor.txt"
  wall() { grep "Elapsed (wall" "$1" | awk '{print $NF}'; }
  rss() { grep "Maximum resident" "$1" | awk '{printf "%.0f MB", $NF/1024}'; }
  echo "n=$n k=$k: labelassign $(wall "$d/time_labelassign.txt") ($(rss "$d/time_labelassign.txt")), solver $(grep assignment_seconds "$d/out/summary.json" | tr -d ' ,'), $(grep matched_jaccard_total "$d/out/summary.json" | tr -d ' ,')"
  echo "          labelassign from .npy columns $(wall "$d/time_labelassign_npy.txt") ($(rss "$d/time_labelassign_npy.txt"))"
  echo "          pandas+SciPy $(wall "$d/time_anchor.txt") ($(rss "$d/time_anchor.txt")): $(cat "$d/anchor.txt")"
done
