#!/usr/bin/env bash
# norreg benchmarks (issues 2 and 3). Usage: bash bench/run.sh [PERSONS] (default 1000000)
# Builds the release preset, generates a register, serves it, and measures with wrk against
# nginx serving the same bytes as static files in the same run. Writes bench/results/latest.md
# (copy the table into BENCHMARKS.md). Everything listens on 127.0.0.1 and is stopped at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/nginx.sh
source bench/measure.sh
PERSONS=${1:-1000000}
DURATION=${DURATION:-10s}
CONNS=${CONNS:-64}
OUT=bench/results
WORK=$(mktemp -d /tmp/norreg-bench-XXXXXX)
mkdir -p "$OUT"
bash scripts/install-deps.sh >/dev/null
cmake --preset release >/dev/null
cmake --build --preset release --target norreg token_bench >/dev/null
BIN=build/release/norreg
API=/folkeregisteret/offentlig-med-hjemmel/api/v1
SERVER_PID= ; NGINX_PID=
cleanup() {
  [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null || true
  [ -n "$NGINX_PID" ] && kill "$NGINX_PID" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

echo "== generate $PERSONS persons"
start=$(date +%s.%N)
"$BIN" generate --quiet --data "$WORK/data" --persons "$PERSONS" --seed 1 | tee "$WORK/gen.txt"
end=$(date +%s.%N)
gen_seconds=$(echo "$end - $start" | bc)
versions=$(sqlite3 "$WORK/data/register.db" "select count(*) from versions")
db_bytes=$(du -cb "$WORK/data"/register.db* | tail -1 | cut -f1)

echo "== sample ids"
sqlite3 "$WORK/data/register.db" "select printf('%011d', fnr) from persons order by random() limit 20000" > "$WORK/ids_random.txt"
head -2000 "$WORK/ids_random.txt" > "$WORK/ids_same.txt"

# The server as deployed (tokens, rate limiter, disclosure log); the rate limit is on but never
# reached. The cost of security on its own: bench/security.sh.
"$BIN" serve --data "$WORK/data" --listen 127.0.0.1:18080 --access-log false --log-level warn \
  --token-lifetime 3600 --rate-limit 100000000 > "$WORK/server.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 100); do curl -sf http://127.0.0.1:18080/health/ready >/dev/null && break; sleep 0.1; done
export TOKEN=$("$BIN" token --data "$WORK/data" --no-cache \
  --scope folkeregister:deling/offentligmedhjemmel)

echo "== static copies of the same answers for nginx"
mkdir -p "$WORK/www$API/personer"
while read -r id; do echo "url = \"http://127.0.0.1:18080$API/personer/$id\""; echo "output = \"$WORK/www$API/personer/$id\""; done < "$WORK/ids_same.txt" > "$WORK/curl.cfg"
curl -s -H "Authorization: Bearer $TOKEN" --config "$WORK/curl.cfg"
start_nginx "$WORK" 18081 "$API/personer/$(head -1 "$WORK/ids_same.txt")"

wrk_run() {  # name, url, script, ids
  IDS_FILE=$4 PREFIX="$API/personer/" PATH_BULK="$API/personer/bulkoppslag" \
    wrk -t2 -c"$CONNS" -d"$DURATION" --latency -s "$3" "$2" > "$WORK/$1.txt" 2>&1
  rps=$(awk '/Requests\/sec/ {print $2}' "$WORK/$1.txt")
  p99=$(awk '$1=="99%" {print $2}' "$WORK/$1.txt")
  echo "$1 rps=$rps p99=$p99"
  eval "${1}_rps=$rps; ${1}_p99=$p99"
}
echo "== wrk"
wrk_run nginx_same http://127.0.0.1:18081 bench/get_random.lua "$WORK/ids_same.txt"
wrk_run norreg_same http://127.0.0.1:18080 bench/get_random.lua "$WORK/ids_same.txt"
wrk_run norreg_random http://127.0.0.1:18080 bench/get_random.lua "$WORK/ids_random.txt"
CONNS_SAVE=$CONNS; CONNS=4
wrk_run norreg_bulk http://127.0.0.1:18080 bench/post_bulk.lua "$WORK/ids_random.txt"
CONNS=$CONNS_SAVE
rss_kb=$(awk '/VmHWM/ {print $2}' /proc/$SERVER_PID/status)

echo "== token endpoint"
measure_tokens sqlite "$WORK/data" http://127.0.0.1:18080/token 6000 4
tokens_per_s=$sqlite_tokens_per_s
audit_rows=$(sqlite3 "$WORK/data/audit/audit.db" "select count(*) from disclosures" 2>/dev/null || echo "?")

ratio=$(echo "scale=2; $norreg_same_rps / $nginx_same_rps" | bc)
bulk_docs=$(echo "$norreg_bulk_rps * 1000" | bc)
cat > "$OUT/latest.md" <<MD
Machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB, $(uname -r); date $(date -u +%F)
Register: $PERSONS persons, $versions document versions (\`bash bench/run.sh $PERSONS\`)

| measure | result | target |
|---|---|---|
| generation | $(printf %.1f "$gen_seconds") s, $(echo "$PERSONS / $gen_seconds" | bc) persons/s | ≥ 50 000 persons/s |
| disk per document version | $(echo "$db_bytes / $versions" | bc) bytes ($db_bytes bytes in all) | ≤ 1 KB |
| GET personer/{id}, nginx, same bytes (2 000 ids) | $nginx_same_rps req/s, p99 $nginx_same_p99 | reference |
| GET personer/{id}, norreg, same 2 000 ids | $norreg_same_rps req/s, p99 $norreg_same_p99 | ≥ 50 % of nginx ($ratio), p99 < 5 ms |
| GET personer/{id}, norreg, 20 000 random ids | $norreg_random_rps req/s, p99 $norreg_random_p99 | p99 < 5 ms |
| POST personer/bulkoppslag, 1000 ids, 4 connections | $norreg_bulk_rps req/s = $bulk_docs documents/s, p99 $norreg_bulk_p99 | ≥ 50 000 documents/s |
| server peak RSS | $((rss_kb / 1024)) MB | < 200 MB |
| POST /token (JWT grant, RS256 verify + sign), 4 connections | $tokens_per_s tokens/s | ≥ 1 000 tokens/s |
| disclosures recorded during the runs | $audit_rows | |

wrk: 2 threads, $CONNS connections, $DURATION per run, client on the same 2 cores.
MD
cat "$OUT/latest.md"
