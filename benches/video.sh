#!/usr/bin/env bash
# The video export: peak memory of a 30-frame and a 300-frame series written as MP4 (only the
# video: memory must not grow with the number of frames), wall time a frame, and the encoding
# time a frame apart from drawing (benches/video.rs on the PNG frames of a 1600×1000 series).
# Usage: bash benches/video.sh [WIDTH HEIGHT]   (default 640 400; needs Mesa, see .ci/deps.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
w=${1:-640}
h=${2:-400}
cargo build --release --quiet --bin incident-map
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
for to in 2021-01-30 2021-10-27; do
  frames=$(( ( $(date -d "$to" +%s) - $(date -d 2021-01-01 +%s) ) / 86400 + 1 ))
  /usr/bin/time -f "%e s, %M kB peak RSS" -o "$out/time" ./target/release/incident-map export data \
    --basemap offline --width "$w" --height "$h" --every day --from 2021-01-01 --to "$to" \
    --video "$out/v.mp4" --hold 0 2>/dev/null
  read -r secs _ kb _ < "$out/time"
  echo "$frames frames at ${w}×${h} as MP4: $secs s ($(echo "$secs $frames" | awk '{ printf "%.1f", 1000 * $1 / $2 }') ms a frame), $kb kB peak RSS, $(( $(stat -c %s "$out/v.mp4") / 1000 )) kB"
done
mkdir -p "$out/frames"
./target/release/incident-map export data --basemap offline --width 1600 --height 1000 \
  --every day --from 2021-06-01 --to 2021-06-30 --out "$out/frames/f.png" 2>/dev/null
cargo bench --quiet --bench video -- "$out/frames"
