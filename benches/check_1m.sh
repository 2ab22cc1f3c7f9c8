#!/usr/bin/env bash
# Whole-process `incident-map check --json` on an ACLED-like CSV (1M rows by default): wall time,
# peak RSS and peak anonymous memory (the file itself is never held in memory).
# Usage: bash benches/check_1m.sh [ROWS]   (needs python3)
set -euo pipefail
cd "$(dirname "$0")/.."
rows=${1:-1000000}
cargo build --release --quiet --bin incident-map --example synth
csv=${TMPDIR:-/tmp}/incident-map-synth-$rows.csv
[ -s "$csv" ] || ./target/release/examples/synth "$rows" "$csv"
echo "file: $csv ($(du -m "$csv" | cut -f1) MB), $(nproc) cores"
./target/release/incident-map check --json "$csv" > /dev/null   # warm the page cache
for i in 1 2 3 4 5; do
  python3 benches/peak_mem.py ./target/release/incident-map check --json "$csv"
done
