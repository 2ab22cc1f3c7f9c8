#!/usr/bin/env bash
# Whole-process PNG export of 100k incidents, 1920×1080, offline basemap: wall time and peak RSS.
# Usage: bash benches/export_100k.sh [ROWS]   (needs /usr/bin/time and Mesa; see .ci/deps.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
rows=${1:-100000}
cargo build --release --quiet --bin incident-map --example synth
csv=${TMPDIR:-/tmp}/incident-map-synth-$rows.csv
out=${TMPDIR:-/tmp}/incident-map-export-$rows.png
[ -s "$csv" ] || ./target/release/examples/synth "$rows" "$csv"
./target/release/incident-map export "$csv" --out "$out" --basemap offline --width 1920 --height 1080 2>/dev/null
for i in 1 2 3 4 5; do
  /usr/bin/time -f "%e %M" ./target/release/incident-map export "$csv" --out "$out" --basemap offline \
    --width 1920 --height 1080 2>&1 >/dev/null | tail -1
done | sort -n | awk '{ t[NR]=$1; if ($2>m) m=$2 } END { printf "export 1920x1080: median %.2f s wall (min %.2f, max %.2f), peak RSS %d MB\n", t[3], t[1], t[5], m/1024 }'
