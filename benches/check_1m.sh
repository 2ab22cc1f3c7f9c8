#!/usr/bin/env bash
# Whole-process `incident-map check --json` on a 1M-row ACLED-like CSV: wall time and peak RSS.
# Usage: bash benches/check_1m.sh [ROWS]   (needs /usr/bin/time: Debian package `time`)
set -euo pipefail
cd "$(dirname "$0")/.."
rows=${1:-1000000}
cargo build --release --quiet --bin incident-map --example synth
csv=${TMPDIR:-/tmp}/incident-map-synth-$rows.csv
[ -s "$csv" ] || ./target/release/examples/synth "$rows" "$csv"
echo "file: $csv ($(du -m "$csv" | cut -f1) MB), $(nproc) cores"
./target/release/incident-map check --json "$csv" > /dev/null   # warm the page cache
for i in 1 2 3 4 5; do
  /usr/bin/time -f "%e %M" ./target/release/incident-map check --json "$csv" 2>&1 >/dev/null | tail -1
done | sort -n | awk '{ t[NR]=$1; if ($2>m) m=$2 } END { printf "check --json: median %.2f s wall (min %.2f, max %.2f), peak RSS %d MB\n", t[3], t[1], t[5], m/1024 }'
