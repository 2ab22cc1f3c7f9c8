#!/usr/bin/env bash
# The cluster questions on one PostGIS server vs a Citus cluster (a coordinator and two workers),
# both throwaway clusters started here on loopback in a temporary folder, with the same ROWS
# ACLED-like incidents (10M by default): `load`, then `load --distribute`, then every query of
# benches/db_clusters.sh on each. All servers share this machine's cores: the workers' parallel
# aggregation only pays where they have cores (or machines) of their own.
# Usage: bash benches/citus_clusters.sh [ROWS]   (needs the citus extension: .ci/deps.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
rows=${1:-10000000}
bin=/usr/lib/postgresql/15/bin
[ -f /usr/lib/postgresql/15/lib/citus.so ] || { echo "citus is not installed (sudo bash .ci/deps.sh)"; exit 2; }
dir=$(mktemp -d)
as=""
if [ "$(id -u)" = 0 ]; then chown postgres:postgres "$dir"; as="runuser -u postgres --"; fi
base=$((20000 + RANDOM % 20000))
stop() { for d in "$dir"/n*; do $as $bin/pg_ctl -D "$d" -m immediate stop >/dev/null 2>&1 || true; done; rm -rf "$dir"; }
trap stop EXIT
start() {  # node number, preload
  local d=$dir/n$1 p=$((base + $1))
  $as $bin/initdb -D "$d" -U incident --auth=trust -E UTF8 --no-locale --no-sync >/dev/null
  $as $bin/pg_ctl -D "$d" -l "$d.log" -w -o "-p $p -k $dir -c listen_addresses=127.0.0.1 \
    -c shared_buffers=1GB -c max_wal_size=2GB $2" start >/dev/null
}
sql() { $bin/psql -qAt -h 127.0.0.1 -p $((base + $1)) -U incident -d postgres -c "$2"; }
cargo build --release --quiet --bin incident-map --example synth
csv=${TMPDIR:-/tmp}/incident-map-synth-$rows.csv
[ -s "$csv" ] || ./target/release/examples/synth "$rows" "$csv"
# One after the other, each server's folder removed before the next starts (10M rows take about
# 13 GB a copy).
start 0 ""
sql 0 "CREATE EXTENSION postgis"
single="postgresql://incident@127.0.0.1:$base/postgres"
/usr/bin/time -f "load, one server: %e s" ./target/release/incident-map load "$csv" --into "$single" --table inc
echo "== one server (PostGIS, summary cells kept)"
bash benches/db_clusters.sh "$single" inc
$as $bin/pg_ctl -D "$dir/n0" -m immediate stop >/dev/null; rm -rf "$dir/n0"
for n in 1 2 3; do start $n "-c shared_preload_libraries=citus"; sql $n "CREATE EXTENSION citus; CREATE EXTENSION postgis" ; done
sql 1 "SELECT citus_set_coordinator_host('127.0.0.1', $((base + 1)))" >/dev/null
for n in 2 3; do sql 1 "SELECT citus_add_node('127.0.0.1', $((base + n)))" >/dev/null; done
citus="postgresql://incident@127.0.0.1:$((base + 1))/postgres"
/usr/bin/time -f "load --distribute, Citus: %e s" ./target/release/incident-map load "$csv" --into "$citus" --table inc --distribute
echo "== Citus, coordinator + 2 workers (distributed on id, cells aggregated on the workers)"
bash benches/db_clusters.sh "$citus" inc
