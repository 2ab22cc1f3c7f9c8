#!/usr/bin/env bash
# Whole-process `incident-map attach` of a 1 GB file to an incident of a copy of the bundled data:
# wall time, peak RSS and peak anonymous memory (hashing streams in 1 MiB blocks: memory stays
# flat whatever the size). Each run attaches to a fresh store, so every run copies and hashes.
# Usage: bash benches/attach_1g.sh [MB]   (needs python3)
set -euo pipefail
cd "$(dirname "$0")/.."
mb=${1:-1024}
cargo build --release --quiet --bin incident-map
dir=$(mktemp -d "${TMPDIR:-/tmp}/incident-map-attach.XXXXXX")
trap 'chmod -R u+w "$dir"; rm -rf "$dir"' EXIT
head -c $((mb << 20)) /dev/urandom > "$dir/video.bin"
echo "file: $mb MB, $(nproc) cores"
cat "$dir/video.bin" > /dev/null   # warm the page cache
sync                               # the file's own write-back is not measured
for i in 1 2 3 4 5; do
  mkdir "$dir/run$i"
  cp data/incidents.geojson "$dir/run$i/"
  sync   # nor the previous run's
  python3 benches/peak_mem.py ./target/release/incident-map attach "$dir/run$i/incidents.geojson" \
    --id IQ-2021-018 "$dir/video.bin" --editor bench
  chmod -R u+w "$dir/run$i"; rm -rf "$dir/run$i"
done
