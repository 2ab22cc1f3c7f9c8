#!/usr/bin/env bash
# A 365-frame export series (one PNG a day for 2021), 1600×1000, offline basemap, 100k synthetic
# incidents: wall time, time per frame and peak memory; then a 30-frame series, to show that memory
# does not grow with the number of frames (each frame is written as soon as it is drawn).
# Usage: bash benches/series.sh [ROWS]   (needs python3 and Mesa; see .ci/deps.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
rows=${1:-100000}
cargo build --release --quiet --bin incident-map --example synth
csv=${TMPDIR:-/tmp}/incident-map-synth-$rows.csv
[ -s "$csv" ] || ./target/release/examples/synth "$rows" "$csv"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
run() {
  rm -f "$out"/*
  python3 benches/peak_mem.py ./target/release/incident-map export "$csv" --out "$out/day.png" \
    --basemap offline --width 1600 --height 1000 --every day --from 2021-01-01 --to "$1"
}
for to in 2021-12-31 2021-01-30; do
  frames=$(( ( $(date -d "$to" +%s) - $(date -d 2021-01-01 +%s) ) / 86400 + 1 ))
  line=$(run "$to")
  wall=$(echo "$line" | sed -E 's/wall ([0-9.]+) s.*/\1/')
  echo "$frames frames: $line; $(echo "$wall $frames" | awk '{ printf "%.0f ms a frame", 1000 * $1 / $2 }')"
done
