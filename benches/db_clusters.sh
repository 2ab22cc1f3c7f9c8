#!/usr/bin/env bash
# The cluster query on a PostGIS table, timed as the whole `incident-map clusters` process (connect,
# query, merge, print): the world unfiltered, and views at zooms 5, 7 and 10 under a date + type
# filter. With --load ROWS it first loads that many ACLED-like rows into the table.
# Usage: bash benches/db_clusters.sh 'postgresql://USER@HOST:PORT/DB' TABLE [--load ROWS]
# (a running PostgreSQL 15 + PostGIS 3; the password from PGPASSWORD or ~/.pgpass)
set -euo pipefail
cd "$(dirname "$0")/.."
url=$1 table=$2
cargo build --release --quiet --bin incident-map --example synth
bin=./target/release/incident-map
if [ "${3:-}" = "--load" ]; then
  rows=$4
  csv=${TMPDIR:-/tmp}/incident-map-synth-$rows.csv
  [ -s "$csv" ] || ./target/release/examples/synth "$rows" "$csv"
  /usr/bin/time -f "load: %e s" $bin load "$csv" --into "$url" --table "$table" --replace
fi
src="$url?table=$table"
run() {  # label, then clusters arguments; prints the best and worst of 5 runs
  local label=$1; shift
  $bin clusters "$src" "$@" --json > /dev/null   # warm the caches
  local times=()
  for i in 1 2 3 4 5; do
    local t0=$(date +%s.%N)
    $bin clusters "$src" "$@" --json > /dev/null
    times+=("$(echo "$(date +%s.%N) - $t0" | bc)")
  done
  printf '%-52s %s\n' "$label" "$(printf '%s\n' "${times[@]}" | sort -n | sed -n '1p;$p' | tr '\n' ' ')s"
}
echo "$(nproc) cores; $src"
run "world, zoom 2, no filter" --zoom 2
run "world, zoom 7, no filter" --zoom 7
run "Iraq, zoom 5, 2021 + one type" --zoom 5 --bbox 25,22,60,42 --from 2021-01-01 --to 2021-12-31 --type "Air/drone strike"
run "Iraq, zoom 7, 2021 + one type" --zoom 7 --bbox 38,29,49,37 --from 2021-01-01 --to 2021-12-31 --type "Air/drone strike"
run "Iraq, zoom 7, June 2021 + two types" --zoom 7 --bbox 38,29,49,37 --from 2021-06-01 --to 2021-06-30 --type "Air/drone strike" --type "Armed clash"
run "Baghdad, zoom 10, 2021 + one type" --zoom 10 --bbox 43.4,32.9,45.1,33.7 --from 2021-01-01 --to 2021-12-31 --type "Air/drone strike"
run "Baghdad, zoom 13, 2021 + one type" --zoom 13 --bbox 44.15,33.22,44.36,33.32 --from 2021-01-01 --to 2021-12-31 --type "Armed clash"
run "Baghdad, zoom 13, all ten years + one type" --zoom 13 --bbox 44.15,33.22,44.36,33.32 --from 2016-01-01 --to 2025-12-31 --type "Armed clash"
run "world, zoom 7, one type (precomputed cells)" --zoom 7 --type "Air/drone strike"
