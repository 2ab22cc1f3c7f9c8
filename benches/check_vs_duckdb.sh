#!/usr/bin/env bash
# `incident-map check --json` against DuckDB on the same ACLED-like CSV, whole process each, in
# alternating runs: wall time, peak RSS and peak anonymous memory (benches/peak_mem.py), the
# medians and their ratio. DuckDB reads the file with typed columns (event_date DATE, latitude
# and longitude DOUBLE) and computes what `check` reports first: count, date range and bounding
# box. DuckDB comes from PyPI into a virtual environment made here (once).
# Usage: bash benches/check_vs_duckdb.sh [ROWS] [RUNS]   (defaults: 1000000 rows, 5 runs each)
set -euo pipefail
cd "$(dirname "$0")/.."
rows=${1:-1000000}
runs=${2:-5}
venv=${XDG_CACHE_HOME:-$HOME/.cache}/incident-map-bench/venv
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet duckdb
fi
target=${CARGO_TARGET_DIR:-target}
cargo build --release --quiet --bin incident-map --example synth
csv=${TMPDIR:-/tmp}/incident-map-synth-$rows.csv
[ -s "$csv" ] || "$target/release/examples/synth" "$rows" "$csv"
duck=$(mktemp --suffix=.py)
trap 'rm -f "$duck"' EXIT
cat > "$duck" <<'EOF'
import sys
import duckdb

print(duckdb.connect().execute(
    """SELECT count(*), min(event_date), max(event_date),
              min(longitude), min(latitude), max(longitude), max(latitude)
       FROM read_csv(?, header = true,
                     types = {'event_date': 'DATE', 'latitude': 'DOUBLE', 'longitude': 'DOUBLE'})""",
    [sys.argv[1]]).fetchall())
EOF
echo "file: $csv ($(du -mL "$csv" | cut -f1) MB); $(nproc) cores: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2-)"
echo "duckdb $("$venv/bin/python" -c 'import duckdb; print(duckdb.__version__)'); load: $(cut -d' ' -f1-3 /proc/loadavg)"
"$target/release/incident-map" check --json "$csv" > /dev/null   # warm the page cache
"$venv/bin/python" "$duck" "$csv"
ours=() theirs=()
for i in $(seq "$runs"); do
  o=$(python3 benches/peak_mem.py "$target/release/incident-map" check --json "$csv")
  d=$(python3 benches/peak_mem.py "$venv/bin/python" "$duck" "$csv")
  echo "incident-map: $o"
  echo "duckdb:       $d"
  ours+=("$(echo "$o" | awk '{print $2}')")
  theirs+=("$(echo "$d" | awk '{print $2}')")
done
median() { printf '%s\n' "$@" | sort -n | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
o=$(median "${ours[@]}")
d=$(median "${theirs[@]}")
echo "median wall: incident-map $o s, duckdb $d s: incident-map is $(awk -v o="$o" -v d="$d" 'BEGIN {printf "%.2f", d / o}')x as fast"
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
