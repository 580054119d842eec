#!/usr/bin/env bash
# The register on PostgreSQL beside SQLite (issue 6). Usage: bash bench/postgres.sh [PERSONS]
# (default 1000000). In one run, on one machine:
#   1. `norreg generate` of PERSONS persons (seed 1) into PostgreSQL (COPY) and into SQLite;
#      disk bytes per document version on each;
#   2. GET personer/{id} (20 000 random ids, 64 connections) and POST personer/bulkoppslag
#      (1 000 random ids, 4 connections) against a SQLite node, one PostgreSQL node, and two
#      PostgreSQL nodes behind nginx (round robin), all as deployed (tokens, disclosure log);
#   3. `norreg uttrekk` (NDJSON) and `norreg feed follow --from 1 --once` against the SQLite node and
#      a PostgreSQL node.
# PostgreSQL is a throwaway cluster (scripts/pg-cluster.sh) on a Unix socket with
# shared_buffers = 2GB (PG_SHARED_BUFFERS). Writes bench/results/postgres.md. Everything listens
# on 127.0.0.1 (or the cluster's socket) and is stopped at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
PERSONS=${1:-1000000}
DURATION=${DURATION:-10s}
FEED_SECONDS=${FEED_SECONDS:-120}
OUT=bench/results
WORK=$(mktemp -d /tmp/norreg-pgbench-XXXXXX)
PGDIR=$(mktemp -d /tmp/nrpg-XXXXXX)
mkdir -p "$OUT"
bash scripts/install-deps.sh >/dev/null
cmake --preset release >/dev/null
cmake --build --preset release --target norreg >/dev/null
BIN=$PWD/build/release/norreg
API=/folkeregisteret/offentlig-med-hjemmel/api/v1
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  bash scripts/pg-cluster.sh stop "$PGDIR" >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT
now() { date +%s.%N; }
secs() { echo "scale=2; ($2 - $1) / 1" | bc; }
PG_CONF="shared_buffers = ${PG_SHARED_BUFFERS:-2GB}
max_wal_size = 8GB
checkpoint_timeout = 30min
maintenance_work_mem = 512MB"
DB=$(PG_CLUSTER_CONF="$PG_CONF" bash scripts/pg-cluster.sh start "$PGDIR")
psql_q() { psql -X -A -t -q "$DB" -c "$1"; }

echo "== 1. generate $PERSONS persons into PostgreSQL and into SQLite"
t0=$(now)
"$BIN" generate --quiet --data "$WORK/pg-a" --db "$DB" --persons "$PERSONS" --seed 1 >/dev/null
t1=$(now)
pg_gen_s=$(secs "$t0" "$t1")
psql_q "VACUUM ANALYZE" >/dev/null; psql_q "CHECKPOINT" >/dev/null
pg_versions=$(psql_q "select count(*) from versions")
pg_bytes=$(psql_q "select sum(pg_total_relation_size(c.oid)) from pg_class c join pg_namespace n on n.oid = c.relnamespace where n.nspname = current_schema() and c.relkind = 'r'")
t0=$(now)
"$BIN" generate --quiet --data "$WORK/sqlite" --persons "$PERSONS" --seed 1 >/dev/null
t1=$(now)
sqlite_gen_s=$(secs "$t0" "$t1")
sqlite_versions=$(sqlite3 "$WORK/sqlite/register.db" "select count(*) from versions")
sqlite_bytes=$(du -cb "$WORK/sqlite"/register.db* | tail -1 | cut -f1)
echo "PostgreSQL $pg_gen_s s, $pg_bytes bytes; SQLite $sqlite_gen_s s, $sqlite_bytes bytes"

echo "== 2. serve: SQLite node, two PostgreSQL nodes, nginx in front of the two"
serve() {  # data port [--db DB]
  local data=$1 port=$2
  shift 2
  "$BIN" serve --data "$data" "$@" --listen "127.0.0.1:$port" --access-log false --log-level warn \
    --token-lifetime 3600 --rate-limit 100000000 --demo-persons 0 > "$WORK/server-$port.log" 2>&1 &
  PIDS+=($!)
  for _ in $(seq 200); do curl -sf "http://127.0.0.1:$port/health/ready" >/dev/null && return; sleep 0.1; done
  echo "node on $port did not start"; cat "$WORK/server-$port.log"; exit 1
}
serve "$WORK/sqlite" 18380
# Both PostgreSQL nodes are one authorisation server to their clients: the balancer's address is
# their issuer.
serve "$WORK/pg-a" 18381 --db "$DB" --issuer http://127.0.0.1:18383/
# The second PostgreSQL node has a data folder of its own with the first one's keys (made at its
# first start), so a token of either is accepted by both.
mkdir -p "$WORK/pg-b"
cp -r "$WORK/pg-a/auth" "$WORK/pg-b/auth"
serve "$WORK/pg-b" 18382 --db "$DB" --issuer http://127.0.0.1:18383/
chmod 755 "$WORK"
cat > "$WORK/nginx.conf" <<NGINX
worker_processes 2;
daemon off;
pid $WORK/nginx.pid;
error_log $WORK/nginx-error.log;
events { worker_connections 4096; }
http {
  access_log off;
  upstream norreg { server 127.0.0.1:18381; server 127.0.0.1:18382; keepalive 128; }
  server {
    listen 127.0.0.1:18383;
    client_max_body_size 64m;
    location / {
      proxy_pass http://norreg;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_buffering off;
    }
  }
}
NGINX
nginx -c "$WORK/nginx.conf" &
PIDS+=($!)
sleep 0.5
sqlite3 "$WORK/sqlite/register.db" "select printf('%011d', fnr) from persons order by random() limit 20000" > "$WORK/ids.txt"
export TOKEN
TOKEN=$("$BIN" token --data "$WORK/pg-a" --url http://127.0.0.1:18383/ --no-cache \
  --scope folkeregister:deling/offentligmedhjemmel)
SQLITE_TOKEN=$("$BIN" token --data "$WORK/sqlite" --no-cache --scope folkeregister:deling/offentligmedhjemmel)
for port in 18381 18382 18383; do
  code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $TOKEN" \
    "http://127.0.0.1:$port$API/personer/$(head -1 "$WORK/ids.txt")")
  [ "$code" = 200 ] || { echo "port $port answers $code"; exit 1; }
done
wrk_run() {  # name port token script connections
  TOKEN=$3 IDS_FILE="$WORK/ids.txt" PREFIX="$API/personer/" PATH_BULK="$API/personer/bulkoppslag" \
    wrk -t2 -c"$5" -d"$DURATION" --latency -s "$4" "http://127.0.0.1:$2" > "$WORK/$1.txt" 2>&1
  local rps p99
  rps=$(awk '/Requests\/sec/ {print $2}' "$WORK/$1.txt")
  p99=$(awk '$1=="99%" {print $2}' "$WORK/$1.txt")
  echo "$1 rps=$rps p99=$p99"
  eval "${1}_rps=$rps; ${1}_p99=$p99"
}
wrk_run get_sqlite 18380 "$SQLITE_TOKEN" bench/get_random.lua 64
wrk_run get_pg 18381 "$TOKEN" bench/get_random.lua 64
wrk_run get_pg2 18383 "$TOKEN" bench/get_random.lua 64
wrk_run bulk_sqlite 18380 "$SQLITE_TOKEN" bench/post_bulk.lua 4
wrk_run bulk_pg 18381 "$TOKEN" bench/post_bulk.lua 4
wrk_run bulk_pg2 18383 "$TOKEN" bench/post_bulk.lua 4

echo "== 3. extract and feed against each store"
client_run() {  # name data port
  local t0 t1
  t0=$(now)
  "$BIN" uttrekk --url "http://127.0.0.1:$3" --data "$2" --out "$WORK/$1.ndjson" --quiet 2>/dev/null
  t1=$(now)
  eval "${1}_uttrekk_s=$(secs "$t0" "$t1")"
  eval "${1}_uttrekk_n=$(wc -l < "$WORK/$1.ndjson")"
  rm -f "$WORK/$1.ndjson"*
  t0=$(now)
  timeout -s INT "$FEED_SECONDS" "$BIN" feed follow --url "http://127.0.0.1:$3" --data "$2" \
    --db "$WORK/$1-feed.db" --from 1 --once 2>/dev/null || true
  t1=$(now)
  eval "${1}_feed_s=$(secs "$t0" "$t1")"
  eval "${1}_feed_n=$(sqlite3 "$WORK/$1-feed.db" "select value from meta where key='feed_sekvensnummer'")"
  rm -f "$WORK/$1-feed.db"*
}
client_run sqlite "$WORK/sqlite" 18380
client_run pg "$WORK/pg-a" 18381
rate() { echo "$1 / $2" | bc; }

cat > "$OUT/postgres.md" <<MD
Machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB, $(uname -r); date $(date -u +%F); load before: $(cut -d' ' -f1-3 /proc/loadavg)
Register: $PERSONS persons (\`bash bench/uttrekk.sh\` generator, seed 1); PostgreSQL 15, shared_buffers ${PG_SHARED_BUFFERS:-2GB}, Unix socket

| measure | SQLite | PostgreSQL, 1 node | PostgreSQL, 2 nodes behind nginx |
|---|---|---|---|
| \`norreg generate\` | $sqlite_gen_s s = $(rate "$PERSONS" "$sqlite_gen_s") persons/s | $pg_gen_s s = $(rate "$PERSONS" "$pg_gen_s") persons/s (COPY) | |
| disk bytes per document version | $(rate "$sqlite_bytes" "$sqlite_versions") ($sqlite_versions versions) | $(rate "$pg_bytes" "$pg_versions") ($pg_versions versions, tables + indexes + TOAST) | |
| GET personer/{id}, 20 000 random ids, 64 conns | $get_sqlite_rps req/s, p99 $get_sqlite_p99 | $get_pg_rps req/s, p99 $get_pg_p99 | $get_pg2_rps req/s, p99 $get_pg2_p99 |
| POST personer/bulkoppslag, 1 000 ids, 4 conns | $(echo "$bulk_sqlite_rps * 1000 / 1" | bc) documents/s | $(echo "$bulk_pg_rps * 1000 / 1" | bc) documents/s | $(echo "$bulk_pg2_rps * 1000 / 1" | bc) documents/s |
| \`norreg uttrekk\` (NDJSON) | $sqlite_uttrekk_n persons in $sqlite_uttrekk_s s = $(rate "$sqlite_uttrekk_n" "$sqlite_uttrekk_s")/s | $pg_uttrekk_n persons in $pg_uttrekk_s s = $(rate "$pg_uttrekk_n" "$pg_uttrekk_s")/s | |
| \`norreg feed follow --from 1\` | $sqlite_feed_n events in $sqlite_feed_s s = $(rate "$sqlite_feed_n" "$sqlite_feed_s")/s | $pg_feed_n events in $pg_feed_s s = $(rate "$pg_feed_n" "$pg_feed_s")/s | |
MD
cat "$OUT/postgres.md"
