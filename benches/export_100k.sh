#!/usr/bin/env bash
# Whole-process PNG export of 100k incidents, 1920×1080, offline basemap: wall time and memory.
# Usage: bash benches/export_100k.sh [ROWS]   (needs python3 and Mesa; see .ci/deps.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
rows=${1:-100000}
cargo build --release --quiet --bin incident-map --example synth
csv=${TMPDIR:-/tmp}/incident-map-synth-$rows.csv
out=${TMPDIR:-/tmp}/incident-map-export-$rows.png
[ -s "$csv" ] || ./target/release/examples/synth "$rows" "$csv"
./target/release/incident-map export "$csv" --out "$out" --basemap offline --width 1920 --height 1080 2>/dev/null
for i in 1 2 3 4 5; do
  python3 benches/peak_mem.py ./target/release/incident-map export "$csv" --out "$out" \
    --basemap offline --width 1920 --height 1080
done
