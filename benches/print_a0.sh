#!/usr/bin/env bash
# Whole-process `incident-map export --paper A0` (300 dpi: 9933×14043 pixels, drawn in tiles of
# 4096) of the bundled data on the offline basemap, as PNG and as PDF: wall time, peak RSS and
# peak anonymous memory. The target is a peak of at most 1.5 GB for the PNG.
# Usage: bash benches/print_a0.sh   (needs python3)
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet --bin incident-map
dir=$(mktemp -d "${TMPDIR:-/tmp}/incident-map-a0.XXXXXX")
trap 'rm -rf "$dir"' EXIT
echo "$(nproc) cores"
for out in a0.png a0.pdf; do
  for i in 1 2 3; do
    python3 benches/peak_mem.py ./target/release/incident-map export data --basemap offline \
      --paper A0 --title "Attacks on US interests in Iraq, 2021" --out "$dir/$out"
  done
  ls -l "$dir/$out"
done
