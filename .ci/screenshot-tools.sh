#!/usr/bin/env bash
# Screenshot of the real window with the analyst's tools (range rings around Baghdad airport, an
# area of interest, a label and an arrow) over the bundled data, as shown in README.md:
#   bash .ci/screenshot-tools.sh [OUT.png]
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-assets/screenshot-tools.png}
cargo build --release --quiet
home=$(mktemp -d)
mkdir -p "$home/config/incident-map"
cat > "$home/config/incident-map/settings.json" <<JSON
{"files": ["$PWD/data/incidents.geojson"],
 "filter": {"within": {"type": "Polygon", "coordinates": [[[43.55, 32.85], [44.35, 32.65], [45.0, 33.0], [45.05, 33.55], [44.6, 33.95], [43.9, 33.9], [43.55, 33.5], [43.55, 32.85]]]}},
 "view": {"center": [33.3, 44.3], "zoom": 8.3},
 "base": {"kind": "offline"},
 "show_table": false,
 "tools": {"rings": [{"lat": 33.2625, "lon": 44.2344, "km": [10, 25, 50]}],
           "labels": [{"lat": 32.78, "lon": 45.05, "text": "Area of interest (drawn)", "ink": "purple"}],
           "arrows": [{"from": [32.85, 44.95], "to": [32.97, 44.72], "ink": "purple"}]}}
JSON
XDG_DATA_HOME=$home XDG_CACHE_HOME=$home/cache XDG_CONFIG_HOME=$home/config \
  xvfb-run -a -s '-screen 0 1280x800x24' bash -c "
    ./target/release/incident-map >/dev/null 2>&1 &
    sleep 10
    import -window root '$out'
    kill %1"
rm -rf "$home"
echo "wrote $out"
