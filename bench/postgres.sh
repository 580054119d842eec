#!/usr/bin/env bash
# Every store on PostgreSQL beside SQLite (issue 6). Usage: bash bench/postgres.sh [PERSONS]
# (default 1000000). In one run, on one machine:
#   1. `norreg generate` of PERSONS persons (seed 1) into PostgreSQL (COPY) and into SQLite;
#      disk bytes per document version on each;
#   2. GET personer/{id} (20 000 random ids, 64 connections) and POST personer/bulkoppslag
#      (1 000 random ids, 4 connections) against a SQLite node, one PostgreSQL node, and two
#      PostgreSQL nodes behind nginx (round robin), all as deployed (tokens, disclosure log);
#   3. `norreg uttrekk` (NDJSON) and `norreg feed follow --from 1 --once` against the SQLite node and
#      a PostgreSQL node;
#   4. extract jobs: ordering a complete extract until every batch is ready, and serving a
#      100 000-id batch (wrk, 8 connections) against nginx serving the same bytes in the same
#      run, on each of the three (through the balancer: ordered on one node, polled on both);
#   5. the token endpoint (bench/token_bench: RS256 grants, each recording its assertion's jti)
#      on each of the three;
#   6. the mailbox (nodes restarted after `mottak_bench grant`, --mottak-auto-receipt false):
#      publishing MOTTAK_ORGS (default 1000) × MOTTAK_PER_ORG (default 100) replies into the
#      SQLite node and into PostgreSQL; GET /outbound/available (tokens of TOKEN_ORGS, default 50,
#      organisations, wrk 16 connections) on each of the three; confirms (every reply of
#      CONFIRM_ORGS, default 300, organisations once, 64 connections) on the SQLite node, one
#      PostgreSQL node, and through the balancer (the next CONFIRM_ORGS organisations), with
#      the CPU time of every process taking part and the machine's idle and iowait time.
# bench/measure.sh holds the measurements of 4–6, shared with bench/uttrekk.sh, bench/mottak.sh
# and bench/run.sh (which make them on SQLite only).
# PostgreSQL is a throwaway cluster (scripts/pg-cluster.sh) on a Unix socket with
# shared_buffers = 2GB (PG_SHARED_BUFFERS). Writes bench/results/postgres.md. Everything listens
# on 127.0.0.1 (or the cluster's socket) and is stopped at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/nginx.sh
source bench/measure.sh
PERSONS=${1:-1000000}
DURATION=${DURATION:-10s}
FEED_SECONDS=${FEED_SECONDS:-120}
TOKENS=${TOKENS:-6000}
MOTTAK_ORGS=${MOTTAK_ORGS:-1000}
MOTTAK_PER_ORG=${MOTTAK_PER_ORG:-100}
TOKEN_ORGS=${TOKEN_ORGS:-50}
CONFIRM_ORGS=${CONFIRM_ORGS:-300}
[ "$MOTTAK_ORGS" -ge $((2 * CONFIRM_ORGS)) ] ||
  { echo "MOTTAK_ORGS must be at least 2 × CONFIRM_ORGS (two confirm runs on PostgreSQL)"; exit 2; }
OUT=bench/results
WORK=$(mktemp -d /tmp/norreg-pgbench-XXXXXX)
PGDIR=$(mktemp -d /tmp/nrpg-XXXXXX)
mkdir -p "$OUT"
bash scripts/install-deps.sh >/dev/null
cmake --preset release >/dev/null
nice -n 19 cmake --build --preset release -j2 --target norreg mottak_bench token_bench >/dev/null
BIN=$PWD/build/release/norreg
API=/folkeregisteret/offentlig-med-hjemmel/api/v1
PIDS=(); NGINX_PID=
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  [ -n "$NGINX_PID" ] && kill "$NGINX_PID" 2>/dev/null || true
  wait 2>/dev/null || true
  bash scripts/pg-cluster.sh stop "$PGDIR" >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT
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
serve() {  # data port [flags...]; the node's pid in PID_<port>
  local data=$1 port=$2
  shift 2
  "$BIN" serve --data "$data" "$@" --listen "127.0.0.1:$port" --access-log false --log-level warn \
    --token-lifetime 3600 --rate-limit 100000000 --demo-persons 0 >> "$WORK/server-$port.log" 2>&1 &
  PIDS+=($!)
  printf -v "PID_$port" %s $!
  for _ in $(seq 200); do curl -sf "http://127.0.0.1:$port/health/ready" >/dev/null && return; sleep 0.1; done
  echo "node on $port did not start"; cat "$WORK/server-$port.log"; exit 1
}
stop_node() {  # port
  local var=PID_$1
  kill "${!var}"; wait "${!var}" 2>/dev/null || true
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

SQLITE_AUTH="Authorization: Bearer $SQLITE_TOKEN"
PG_AUTH="Authorization: Bearer $TOKEN"
echo "== 4. extract jobs: order a complete extract until every batch is ready; serve a batch vs nginx"
extract_run() {  # name port auth
  measure_extract_order "$1" "http://127.0.0.1:$2$API" "$3" "$WORK/extract-$1"
  local job=${1}_job
  measure_vs_nginx "${1}_batch" "$WORK/static" 18384 "$WORK/extract-$1/batch-0.json" \
    "http://127.0.0.1:$2$API/uttrekk/${!job}/batch/0" "$3"
  rm -rf "$WORK/extract-$1"
}
extract_run x_sqlite 18380 "$SQLITE_AUTH"
extract_run x_pg 18381 "$PG_AUTH"
extract_run x_pg2 18383 "$PG_AUTH"

echo "== 5. the token endpoint, $TOKENS grants over 4 connections"
measure_tokens t_sqlite "$WORK/sqlite" http://127.0.0.1:18380/token "$TOKENS" 4
measure_tokens t_pg "$WORK/pg-a" http://127.0.0.1:18381/token "$TOKENS" 4
measure_tokens t_pg2 "$WORK/pg-a" http://127.0.0.1:18383/token "$TOKENS" 4
pg_jti=$(psql_q "select count(*) from auth_jti")

echo "== 6. mailbox: $MOTTAK_ORGS organisations × $MOTTAK_PER_ORG replies on each store"
# The demo supplier acts for every organisation of the benchmark: the nodes read the grant at
# start. Both PostgreSQL nodes get the same client registry.
for port in 18380 18381 18382; do stop_node $port; done
"$MOTTAK_BENCH" grant "$WORK/sqlite" "$MOTTAK_ORGS" >/dev/null
"$MOTTAK_BENCH" grant "$WORK/pg-a" "$MOTTAK_ORGS" >/dev/null
cp "$WORK/pg-a/auth/clients.json" "$WORK/pg-b/auth/clients.json"
serve "$WORK/sqlite" 18380 --mottak-auto-receipt false
serve "$WORK/pg-a" 18381 --db "$DB" --issuer http://127.0.0.1:18383/ --mottak-auto-receipt false
serve "$WORK/pg-b" 18382 --db "$DB" --issuer http://127.0.0.1:18383/ --mottak-auto-receipt false
measure_mottak_seed m_sqlite http://127.0.0.1:18380 "$WORK/sqlite" "$MOTTAK_ORGS" "$MOTTAK_PER_ORG" 16
measure_mottak_seed m_pg http://127.0.0.1:18381 "$WORK/pg-a" "$MOTTAK_ORGS" "$MOTTAK_PER_ORG" 16
sqlite_replies=$(sqlite3 "$WORK/sqlite/mottak/mottak.db" "select count(*) from outbound")
pg_replies=$(psql_q "select count(*) from outbound")
measure_available m_sqlite http://127.0.0.1:18380 "$WORK/sqlite" "$TOKEN_ORGS" "$WORK/available-sqlite.txt"
measure_available m_pg http://127.0.0.1:18381 "$WORK/pg-a" "$TOKEN_ORGS" "$WORK/available-pg.txt"
measure_available m_pg2 http://127.0.0.1:18383 "$WORK/pg-a" "$TOKEN_ORGS" "$WORK/available-pg2.txt"

# CPU time (clock ticks: user + system, and of waited-for children) of processes and their
# children: a node, nginx's master and workers, the postmaster and its backends.
ticks() {
  local total=0 pid p
  for pid in "$@"; do
    for p in "$pid" $(pgrep -P "$pid" || true); do
      [ -r "/proc/$p/stat" ] &&
        total=$((total + $(sed 's/^.*) //' "/proc/$p/stat" | awk '{print $12 + $13 + $14 + $15}')))
    done
  done
  echo "$total"
}
idle_ticks() { awk '/^cpu / {print $5, $6}' /proc/stat; }  # idle iowait, all cores
HZ=$(getconf CLK_TCK)
POSTMASTER=$(head -1 "$PGDIR/data/postmaster.pid")
NGINX_LB=$(cat "$WORK/nginx.pid")
cpu_s() { awk -v t="$1" -v hz="$HZ" 'BEGIN {printf "%.2f", t / hz}'; }
confirm_run() {  # name url data orgs nodes...: confirms with the CPU time of every party
  local name=$1 url=$2 data=$3 orgs=$4
  shift 4
  local nodes0 pg0 lb0 idle0 iow0 t0 t1 nodes1 pg1 lb1 idle1 iow1 sync0 sync1
  sync0=$(psql_q "select wal_sync from pg_stat_wal")
  nodes0=$(ticks "$@"); pg0=$(ticks "$POSTMASTER"); lb0=$(ticks "$NGINX_LB")
  read -r idle0 iow0 < <(idle_ticks)
  t0=$(now)
  measure_confirm "$name" "$url" "$data" "$orgs" 64 "$WORK/$name.cpu"
  t1=$(now)
  nodes1=$(ticks "$@"); pg1=$(ticks "$POSTMASTER"); lb1=$(ticks "$NGINX_LB")
  read -r idle1 iow1 < <(idle_ticks)
  sync1=$(psql_q "select wal_sync from pg_stat_wal")
  printf -v "${name}_wall" %s "$(secs "$t0" "$t1")"
  printf -v "${name}_wal_syncs" %s $((sync1 - sync0))
  printf -v "${name}_cpu_nodes" %s "$(cpu_s $((nodes1 - nodes0)))"
  printf -v "${name}_cpu_pg" %s "$(cpu_s $((pg1 - pg0)))"
  printf -v "${name}_cpu_nginx" %s "$(cpu_s $((lb1 - lb0)))"
  printf -v "${name}_cpu_client" %s "$(awk '{printf "%.2f", $1 + $2}' "$WORK/$name.cpu")"
  printf -v "${name}_idle" %s "$(cpu_s $((idle1 - idle0)))"
  printf -v "${name}_iowait" %s "$(cpu_s $((iow1 - iow0)))"
  local v=${name}_cpu_nodes w=${name}_cpu_pg x=${name}_cpu_nginx y=${name}_cpu_client
  local z=${name}_idle q=${name}_iowait
  # The rest of the cores' time over the run: other processes on the machine.
  printf -v "${name}_others" %s "$(awk -v n="$(nproc)" -v w="$(secs "$t0" "$t1")" \
    -v used="${!v} ${!w} ${!x} ${!y} ${!z} ${!q}" \
    'BEGIN {split(used, u, " "); r = n * w; for (i in u) r -= u[i]; printf "%.2f", (r < 0 ? 0 : r)}')"
  local o=${name}_others
  echo "$name: $(secs "$t0" "$t1") s wall; CPU s: nodes ${!v}, PostgreSQL ${!w}, nginx ${!x}," \
    "mottak_bench ${!y}; idle ${!z}, iowait ${!q}; other processes ${!o};" \
    "WAL syncs $((sync1 - sync0))"
}
confirm_run c_sqlite http://127.0.0.1:18380 "$WORK/sqlite" "$CONFIRM_ORGS" "$PID_18380"
confirm_run c_pg http://127.0.0.1:18381 "$WORK/pg-a" "$CONFIRM_ORGS" "$PID_18381"
# Through the balancer: the next CONFIRM_ORGS organisations (the first ones have nothing left).
confirm_run c_pg2 http://127.0.0.1:18383 "$WORK/pg-a" $((2 * CONFIRM_ORGS)) "$PID_18381" "$PID_18382"
sqlite_confirmed=$(sqlite3 "$WORK/sqlite/mottak/mottak.db" \
  "select count(*) from outbound where confirmed = 1 and version = 1")
pg_confirmed=$(psql_q "select count(*) from outbound where confirmed and version = 1")
rate() { echo "$1 / $2" | bc; }
val() { echo "${!1}"; }  # the value of the variable named $1
batch_cell() {
  echo "norreg $(val "${1}_norreg_rps") req/s vs nginx $(val "${1}_nginx_rps") req/s ($(val "${1}_bytes") bytes): **$(val "${1}_ratio")**$( [ "$(val "${1}_non2xx")" = 0 ] || echo ", non-2xx $(val "${1}_non2xx")")"
}
avail_cell() {
  echo "p50 $(val "${1}_avail_p50"), p99 $(val "${1}_avail_p99"), $(val "${1}_avail_rps") req/s$( [ "$(val "${1}_avail_non2xx")" = 0 ] || echo ", non-2xx $(val "${1}_avail_non2xx")")"
}
confirm_cell() {
  echo "$(val "${1}_confirm_n") confirms: **$(val "${1}_confirm_rate")/s**, p50 $(val "${1}_confirm_p50") ms, p99 $(val "${1}_confirm_p99") ms"
}
cpu_cell() {
  echo "$(val "${1}_wall") s wall: $(val "${1}_cpu_nodes") / $(val "${1}_cpu_pg") / $(val "${1}_cpu_nginx") / $(val "${1}_cpu_client"); $(val "${1}_idle") / $(val "${1}_iowait") / $(val "${1}_others")"
}
syncs_cell() {  # confirms per WAL flush (fsync) of PostgreSQL during the run
  echo "$(val "${1}_wal_syncs") WAL syncs = $(awk -v c="$(val "${1}_confirm_n")" -v s="$(val "${1}_wal_syncs")" 'BEGIN {printf "%.1f", (s > 0 ? c / s : 0)}') confirms per sync"
}

cat > "$OUT/postgres.md" <<MD
Machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB, $(uname -r); date $(date -u +%F); load before: $(cut -d' ' -f1-3 /proc/loadavg)
Register: $PERSONS persons (\`bash bench/postgres.sh $PERSONS\`, seed 1); PostgreSQL 15, shared_buffers ${PG_SHARED_BUFFERS:-2GB}, Unix socket

| measure | SQLite | PostgreSQL, 1 node | PostgreSQL, 2 nodes behind nginx |
|---|---|---|---|
| \`norreg generate\` | $sqlite_gen_s s = $(rate "$PERSONS" "$sqlite_gen_s") persons/s | $pg_gen_s s = $(rate "$PERSONS" "$pg_gen_s") persons/s (COPY) | |
| disk bytes per document version | $(rate "$sqlite_bytes" "$sqlite_versions") ($sqlite_versions versions) | $(rate "$pg_bytes" "$pg_versions") ($pg_versions versions, tables + indexes + TOAST) | |
| GET personer/{id}, 20 000 random ids, 64 conns | $get_sqlite_rps req/s, p99 $get_sqlite_p99 | $get_pg_rps req/s, p99 $get_pg_p99 | $get_pg2_rps req/s, p99 $get_pg2_p99 |
| POST personer/bulkoppslag, 1 000 ids, 4 conns | $(echo "$bulk_sqlite_rps * 1000 / 1" | bc) documents/s | $(echo "$bulk_pg_rps * 1000 / 1" | bc) documents/s | $(echo "$bulk_pg2_rps * 1000 / 1" | bc) documents/s |
| \`norreg uttrekk\` (NDJSON) | $sqlite_uttrekk_n persons in $sqlite_uttrekk_s s = $(rate "$sqlite_uttrekk_n" "$sqlite_uttrekk_s")/s | $pg_uttrekk_n persons in $pg_uttrekk_s s = $(rate "$pg_uttrekk_n" "$pg_uttrekk_s")/s | |
| \`norreg feed follow --from 1\` | $sqlite_feed_n events in $sqlite_feed_s s = $(rate "$sqlite_feed_n" "$sqlite_feed_s")/s | $pg_feed_n events in $pg_feed_s s = $(rate "$pg_feed_n" "$pg_feed_s")/s | |
| order a complete extract until every batch is ready | $x_sqlite_order_s s ($x_sqlite_batches batches) | $x_pg_order_s s ($x_pg_batches batches) | $x_pg2_order_s s ($x_pg2_batches batches; ordered through nginx, polled on both nodes) |
| serve a 100 000-id batch, wrk 8 conns, vs nginx serving the same bytes | $(batch_cell x_sqlite_batch) | $(batch_cell x_pg_batch) | $(batch_cell x_pg2_batch) (through the balancer) |
| POST /token (RS256 verify + sign; the assertion's jti recorded: in memory on SQLite, a committed row on PostgreSQL), $TOKENS grants, 4 conns | $t_sqlite_tokens_per_s tokens/s | $t_pg_tokens_per_s tokens/s | $t_pg2_tokens_per_s tokens/s |
| mailbox: publish replies (POST /norreg/mottak/v1/svar), 16 conns | $sqlite_replies in $m_sqlite_seed_s s = $m_sqlite_seed_rate replies/s | $pg_replies in $m_pg_seed_s s = $m_pg_seed_rate replies/s | |
| GET /outbound/available ($MOTTAK_PER_ORG replies, $m_sqlite_avail_bytes bytes), tokens of $TOKEN_ORGS orgs, wrk 16 conns | $(avail_cell m_sqlite) | $(avail_cell m_pg) | $(avail_cell m_pg2) |
| confirms, each reply once with its version, 64 conns | $(confirm_cell c_sqlite) | $(confirm_cell c_pg) | $(confirm_cell c_pg2) (the next $CONFIRM_ORGS orgs) |
| CPU seconds during the confirm run: nodes / PostgreSQL / nginx / mottak_bench; machine idle / iowait / other processes | $(cpu_cell c_sqlite) | $(cpu_cell c_pg) | $(cpu_cell c_pg2) |
| PostgreSQL WAL flushes during the confirm run (group commit) | | $(syncs_cell c_pg) | $(syncs_cell c_pg2) |

Checks: rows confirmed at version 1 afterwards: SQLite $sqlite_confirmed (expected $c_sqlite_confirm_n), PostgreSQL $pg_confirmed (expected $((c_pg_confirm_n + c_pg2_confirm_n))); \`auth_jti\` rows on PostgreSQL after the token runs: $pg_jti.
wrk and the load tools run on the same $(nproc) cores as the nodes, nginx and PostgreSQL. The CPU seconds are of the whole \`mottak_bench confirm\` run (listing the replies, then confirming; wall time in the cell), from /proc; "idle / iowait" are the whole machine's (all cores): what the parties leave unused, and the part of it spent waiting for the disk; "other processes" is the rest of the cores' time (nothing else should run). A node runs confirms on its blocking pool with at most 8 PostgreSQL connections (the mailbox store's pool), so one node has at most 8 confirms in PostgreSQL at a time, two nodes 16. The WAL syncs are the cluster's (pg_stat_wal) over the same run: the confirms' commits and the token grants of the listing (one per organisation, each recording its jti); fewer syncs than commits is group commit.
MD
cat "$OUT/postgres.md"
