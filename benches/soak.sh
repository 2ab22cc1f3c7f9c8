#!/usr/bin/env bash
# Soak test of the real window: 1M incidents, playback on, random pans and zooms under Xvfb for
# DURATION seconds (default 600). Fails if the window dies or its RSS grows by 10 % or more after
# a 60-second warm-up. Needs xvfb and xdotool (see .ci/deps.sh).
#   bash benches/soak.sh [DURATION]
set -euo pipefail
cd "$(dirname "$0")/.."
dur=${1:-600}
cargo build --release --quiet --bin incident-map --example synth
csv=${TMPDIR:-/tmp}/incident-map-synth-1000000.csv
[ -s "$csv" ] || ./target/release/examples/synth 1000000 "$csv"
home=$(mktemp -d)
export XDG_DATA_HOME=$home XDG_CACHE_HOME=$home/cache XDG_CONFIG_HOME=$home/config XDG_RUNTIME_DIR=$home
display=:$((70 + RANDOM % 20))
Xvfb "$display" -screen 0 1280x800x24 >/dev/null 2>&1 &
xvfb=$!
export DISPLAY=$display
sleep 1
./target/release/incident-map --offline "$csv" >"$home/app.log" 2>&1 &
app=$!
cleanup() { kill "$app" 2>/dev/null || true; kill "$xvfb" 2>/dev/null || true; rm -rf "$home"; }
trap cleanup EXIT
rss() { awk '/VmRSS/ {print $2}' "/proc/$app/status" 2>/dev/null || echo 0; }
sleep 15 # load 1M incidents and build the index
RANDOM=42
start=$(date +%s)
xdotool mousemove 600 250 click 1 key space
warm=0
last_play=$start
samples=()
while :; do
  now=$(date +%s)
  t=$((now - start))
  [ "$t" -ge "$dur" ] && break
  kill -0 "$app" 2>/dev/null || { echo "soak: the window died after ${t}s"; cat "$home/app.log"; exit 1; }
  x=$((260 + RANDOM % 680)); y=$((60 + RANDOM % 360))
  case $((RANDOM % 4)) in
    0|1) xdotool mousemove $x $y mousedown 1 mousemove $((x + RANDOM % 200 - 100)) $((y + RANDOM % 160 - 80)) mouseup 1 ;;
    2) xdotool mousemove $x $y click 4 ;;
    3) xdotool mousemove $x $y click 5 ;;
  esac
  # Random walks drift: every 30 s, back to the data (the "Fit to filtered incidents" button).
  if [ $((t % 30)) -eq 0 ]; then xdotool mousemove 80 445 click 1; sleep 0.3; fi
  # Playback of ten years at a month per second ends after ~2 minutes: start it again.
  if [ $((now - last_play)) -ge 130 ]; then xdotool key space; last_play=$now; fi
  if [ "$warm" = 0 ] && [ "$t" -ge 60 ]; then warm=$(rss); fi
  if [ -n "${SOAK_SCREENSHOT:-}" ] && [ "$t" -ge $((dur / 2)) ] && [ ! -s "$SOAK_SCREENSHOT" ]; then
    import -window root "$SOAK_SCREENSHOT"
  fi
  samples+=("$t $(rss)")
  sleep 0.2
done
end=$(rss)
peak=$(printf '%s\n' "${samples[@]}" | awk '{ if ($2 > m) m = $2 } END { print m }')
growth=$(awk -v a="$warm" -v b="$end" 'BEGIN { printf "%.1f", (b - a) * 100 / a }')
echo "soak: ${dur}s, 1M incidents, playback + random pans/zooms: RSS after warm-up $((warm / 1024)) MB, at end $((end / 1024)) MB (growth ${growth} %), peak $((peak / 1024)) MB; no crash"
awk -v g="$growth" 'BEGIN { exit !(g < 10) }' || { echo "soak: RSS grew by ${growth} %"; exit 1; }
