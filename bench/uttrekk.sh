#!/usr/bin/env bash
# Extract (uttrekk) and feed benchmarks (issue 4). Usage: bash bench/uttrekk.sh [PERSONS]
# (default 1000000). On one generated register, served as deployed (tokens, disclosure log):
#   1. ordering a complete extract until every batch is ready;
#   2. serving a 100 000-id batch: wrk against norreg and against nginx serving the same bytes;
#   3. `norreg uttrekk` end to end (ids + every person document to NDJSON), peak RSS;
#   4. the documented algorithm as a plain serial shell loop of curl calls, same register;
#   5. `norreg feed follow --from 1` over the register's whole event history into an empty local
#      copy, until caught up (bounded to FEED_SECONDS, default 120; events/s from the cursor it
#      committed), and the same with `--documents versions` for the first VERSIONS_SECONDS
#      (default 30).
# Writes bench/results/uttrekk.md. Everything listens on 127.0.0.1 and is stopped at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/nginx.sh
source bench/measure.sh
PERSONS=${1:-1000000}
DURATION=${DURATION:-10s}
FEED_SECONDS=${FEED_SECONDS:-120}
VERSIONS_SECONDS=${VERSIONS_SECONDS:-30}
OUT=bench/results
WORK=$(mktemp -d /tmp/norreg-uttrekk-XXXXXX)
mkdir -p "$OUT"
bash scripts/install-deps.sh >/dev/null
cmake --preset release >/dev/null
cmake --build --preset release --target norreg >/dev/null
BIN=$PWD/build/release/norreg
BASE=http://127.0.0.1:18180
API=$BASE/folkeregisteret/offentlig-med-hjemmel/api/v1
SERVER_PID= ; NGINX_PID=
cleanup() {
  [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null || true
  [ -n "$NGINX_PID" ] && kill "$NGINX_PID" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

echo "== generate $PERSONS persons"
"$BIN" generate --quiet --data "$WORK/data" --persons "$PERSONS" --seed 1 >/dev/null
"$BIN" serve --data "$WORK/data" --listen 127.0.0.1:18180 --access-log false --log-level warn \
  --token-lifetime 3600 --rate-limit 100000000 > "$WORK/server.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 100); do curl -sf $BASE/health/ready >/dev/null && break; sleep 0.1; done
TOKEN=$("$BIN" token --data "$WORK/data" --no-cache --scope folkeregister:deling/offentligmedhjemmel)
AUTH="Authorization: Bearer $TOKEN"

echo "== 1. order a complete extract until every batch is ready"
measure_extract_order extract "$API" "$AUTH" "$WORK"
SEQ=$extract_seq; JOB=$extract_job; order_s=$extract_order_s; batches=$extract_batches

echo "== 2. serving a 100 000-id batch, norreg vs nginx (same bytes)"
measure_vs_nginx batch "$WORK" 18181 "$WORK/batch-0.json" "$API/uttrekk/$JOB/batch/0" "$AUTH"
nginx_rps=$batch_nginx_rps; norreg_rps=$batch_norreg_rps

echo "== 3. norreg uttrekk end to end (NDJSON), then again into NDJSON + a SQLite local copy"
t0=$(now)
/usr/bin/time -f '%M' -o "$WORK/client.rss" "$BIN" uttrekk --url $BASE --data "$WORK/data" \
  --out "$WORK/copy.ndjson" --quiet 2> "$WORK/client.log"
t1=$(now)
client_s=$(secs "$t0" "$t1")
client_persons=$(wc -l < "$WORK/copy.ndjson")
client_rss_mb=$(( $(cat "$WORK/client.rss") / 1024 ))
echo "$client_persons persons in $client_s s, client peak RSS $client_rss_mb MB"
rm -f "$WORK/copy.ndjson"*
t0=$(now)
"$BIN" uttrekk --url $BASE --data "$WORK/data" --out "$WORK/copy.ndjson" --db "$WORK/copy.db" \
  --quiet 2>> "$WORK/client.log"
t1=$(now)
db_s=$(secs "$t0" "$t1")
db_persons=$(sqlite3 "$WORK/copy.db" "select count(*) from persons")
echo "with the local copy: $db_persons persons in $db_s s"
rm -f "$WORK/copy.ndjson"* "$WORK/copy.db"*

echo "== 4. the same algorithm as a serial shell loop of curl calls"
t0=$(now)
seq_now=$(curl -sf -H "$AUTH" "$API/hendelser/siste/sekvensnummer")
job=$(curl -sf -H "$AUTH" "$API/uttrekk/komplett?feedsekvensnr=$seq_now" | sed 's/.*"jobbId":"\([^"]*\)".*/\1/')
: > "$WORK/loop.json"
n=0
while true; do
  code=$(curl -s -o "$WORK/loop-batch.json" -w '%{http_code}' -H "$AUTH" "$API/uttrekk/$job/batch/$n")
  if [ "$code" = 404 ]; then sleep 0.1; continue; fi
  grep -o '[0-9a-f]\{32\}' "$WORK/loop-batch.json" > "$WORK/loop-ids.txt" || break
  split -l 1000 "$WORK/loop-ids.txt" "$WORK/chunk-"
  for chunk in "$WORK"/chunk-*; do
    body='{"dokumentidentifikator":['$(sed 's/.*/"&"/' "$chunk" | paste -sd,)']}'
    curl -sf -H "$AUTH" -H 'Content-Type: application/json' -d "$body" \
      "$API/personer/bulkoppslag/arkiv" >> "$WORK/loop.json"
    rm "$chunk"
  done
  n=$((n + 1))
done
t1=$(now)
loop_s=$(secs "$t0" "$t1")
echo "shell loop: $loop_s s"

echo "== 5. feed follow over the whole event history"
server_rss_mb=$(( $(awk '/VmHWM/ {print $2}' /proc/$SERVER_PID/status) / 1024 ))
t0=$(now)
/usr/bin/time -f '%M' -o "$WORK/feed.rss" timeout -s INT "$FEED_SECONDS" "$BIN" feed follow \
  --url $BASE --data "$WORK/data" --db "$WORK/feed.db" --from 1 --once 2> "$WORK/feed.log" || true
t1=$(now)
feed_s=$(secs "$t0" "$t1")
feed_events=$(sqlite3 "$WORK/feed.db" "select value from meta where key='feed_sekvensnummer'")
feed_rss_mb=$(( $(cat "$WORK/feed.rss" | tail -1) / 1024 ))
feed_persons=$(sqlite3 "$WORK/feed.db" "select count(*) from persons")
feed_db_mb=$(( $(stat -c %s "$WORK/feed.db") / 1048576 ))
echo "feed: $feed_events events in $feed_s s; $(tail -1 "$WORK/feed.log")"
t0=$(now)
timeout -s INT "$VERSIONS_SECONDS" "$BIN" feed follow --url $BASE --data "$WORK/data" \
  --db "$WORK/versions.db" --from 1 --once --documents versions 2> "$WORK/versions.log" || true
t1=$(now)
versions_s=$(secs "$t0" "$t1")
versions_events=$(sqlite3 "$WORK/versions.db" "select value from meta where key='feed_sekvensnummer'")
echo "feed --documents versions: $versions_events events in $versions_s s"

cat > "$OUT/uttrekk.md" <<MD
Machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB, $(uname -r); date $(date -u +%F); load before: $(cut -d' ' -f1-3 /proc/loadavg)
Register: $PERSONS persons, $SEQ events (\`bash bench/uttrekk.sh $PERSONS\`); server as deployed (tokens, disclosure log)

| measure | result | target |
|---|---|---|
| order a complete extract until all $batches batches are ready | $order_s s | ≤ 3 s |
| serve a 100 000-id batch ($batch_bytes bytes), wrk 8 connections | norreg $norreg_rps req/s vs nginx $nginx_rps req/s (same bytes): $batch_ratio | ≥ 0.70 of nginx |
| \`norreg uttrekk\` end to end (NDJSON) | $client_persons persons in $client_s s = $(echo "$client_persons / $client_s" | bc) persons/s | ≥ 50 000 persons/s |
| \`norreg uttrekk\` into NDJSON + the SQLite local copy | $db_persons persons in $db_s s = $(echo "$db_persons / $db_s" | bc) persons/s | (reported) |
| same algorithm, serial shell loop of curl calls | $loop_s s ($(echo "scale=1; $loop_s / $client_s" | bc)× the client's time) | reference |
| \`norreg feed follow --from 1\` into an empty copy, whole history ($feed_persons persons; copy $feed_db_mb MB) | $feed_events events in $feed_s s = $(echo "$feed_events / $feed_s" | bc) events/s | ≥ 200 000 events/s |
| the same with \`--documents versions\` (first $VERSIONS_SECONDS s) | $versions_events events in $versions_s s = $(echo "$versions_events / $versions_s" | bc) events/s | (reported) |
| peak RSS: server / uttrekk client / feed client | $server_rss_mb MB / $client_rss_mb MB / $feed_rss_mb MB | bounded |
MD
cat "$OUT/uttrekk.md"
