#!/usr/bin/env bash
# `incident-map load` against GDAL's `ogr2ogr -f PostgreSQL` (COPY, GiST index) on the same
# ACLED-like CSV (1M rows by default, made by examples/synth), whole processes, in one run: a
# throwaway PostgreSQL + PostGIS cluster (initdb + pg_ctl in a temp dir, loopback port, default
# settings) is started, then both fill a table RUNS times, alternately (who goes first alternates
# too), each into a new table (the previous one dropped and a CHECKPOINT taken before every run).
# Prints each time, and the ratio load / ogr2ogr per pair and of the medians.
# Usage: bash benches/load_vs_ogr2ogr.sh [ROWS] [RUNS]
# Needs PostgreSQL + PostGIS server packages, gdal-bin (ogr2ogr) and psql. As root, the server runs
# as the `postgres` user.
set -euo pipefail
cd "$(dirname "$0")/.."
rows=${1:-1000000} runs=${2:-3}
target=${CARGO_TARGET_DIR:-target}
cargo build --release --quiet --bin incident-map --example synth
bin=$target/release/incident-map
csv=${TMPDIR:-/tmp}/incident-map-synth-$rows.csv
[ -s "$csv" ] || "$target/release/examples/synth" "$rows" "$csv"

pgbin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
dir=$(mktemp -d)
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
as_pg=()
if [ "$(id -u)" = 0 ]; then
  as_pg=(runuser -u postgres --)
  chown postgres:postgres "$dir"
fi
stop() {
  "${as_pg[@]}" "$pgbin/pg_ctl" -D "$dir/data" -m fast stop > /dev/null 2>&1 || true
  rm -rf "$dir"
}
trap stop EXIT
"${as_pg[@]}" "$pgbin/initdb" -D "$dir/data" -U bench --auth=trust -E UTF8 --no-locale > /dev/null
mkdir "$dir/sock" && { [ ${#as_pg[@]} = 0 ] || chown postgres:postgres "$dir/sock"; }
"${as_pg[@]}" "$pgbin/pg_ctl" -D "$dir/data" -l "$dir/log" -w \
  -o "-p $port -k $dir/sock -c listen_addresses=127.0.0.1" start > /dev/null
url="postgresql://bench@127.0.0.1:$port/postgres"
sql() { PGOPTIONS='-c client_min_messages=warning' psql -q -X -h 127.0.0.1 -p "$port" -U bench -d postgres -c "$1" > /dev/null; }
sql "CREATE EXTENSION postgis"

cat "$csv" > /dev/null   # the file in the page cache for both
echo "$(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)), $(free -g | awk '/Mem/ {print $2}') GiB;" \
  "$("$pgbin/postgres" --version); PostGIS $(psql -X -At -h 127.0.0.1 -p "$port" -U bench -d postgres -c 'SELECT postgis_lib_version()');" \
  "$(ogr2ogr --version)"
echo "file: $csv ($(du -m "$csv" | cut -f1) MB, $rows rows); load average before: $(cut -d' ' -f1-3 /proc/loadavg)"

secs() { local t0; t0=$(date +%s.%N); "$@" > /dev/null 2>&1 || { echo "failed: $*" >&2; exit 1; }; echo "$(date +%s.%N) - $t0" | bc; }
fresh() {
  sql "DROP TABLE IF EXISTS im, im_cells, im_history, ogr CASCADE"
  sql "CHECKPOINT"
}
run_load() {
  fresh
  secs "$bin" load "$csv" --into "$url" --table im
}
run_ogr() {
  fresh
  secs ogr2ogr -f PostgreSQL "PG:host=127.0.0.1 port=$port user=bench dbname=postgres" "$csv" \
    -nln ogr -oo X_POSSIBLE_NAMES=longitude -oo Y_POSSIBLE_NAMES=latitude -a_srs EPSG:4326 \
    -lco GEOMETRY_NAME=geom -lco SPATIAL_INDEX=GIST --config PG_USE_COPY YES
}
loads=() ogrs=()
for i in $(seq "$runs"); do
  if [ $((i % 2)) = 1 ]; then o=$(run_ogr); l=$(run_load); else l=$(run_load); o=$(run_ogr); fi
  loads+=("$l") ogrs+=("$o")
  printf 'run %d: load %6.2f s   ogr2ogr %6.2f s   ratio %.2f   (load average %s)\n' \
    "$i" "$l" "$o" "$(echo "$l / $o" | bc -l)" "$(cut -d' ' -f1 /proc/loadavg)"
done
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR] = $1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }
ml=$(median "${loads[@]}") mo=$(median "${ogrs[@]}")
printf 'median: load %.2f s, ogr2ogr %.2f s, ratio %.2f (target <= 0.80)\n' "$ml" "$mo" "$(echo "$ml / $mo" | bc -l)"
