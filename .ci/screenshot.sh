#!/usr/bin/env bash
# Screenshot of the real window (release build) under Xvfb, as shown in README.md:
#   bash .ci/screenshot.sh [OUT.png]
# Uses a fresh settings/cache dir so the result does not depend on earlier sessions.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-assets/screenshot.png}
cargo build --release --quiet
home=$(mktemp -d)
XDG_DATA_HOME=$home XDG_CACHE_HOME=$home/cache XDG_CONFIG_HOME=$home/config \
  xvfb-run -a -s '-screen 0 1280x800x24' bash -c "
    ./target/release/incident-map >/dev/null 2>&1 &
    sleep 10
    import -window root '$out'
    kill %1"
rm -rf "$home"
echo "wrote $out"
