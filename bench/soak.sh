#!/usr/bin/env bash
# A mixed-load soak at 256 connections (issue 15): for DURATION (default 60s), all at once against
# one server as deployed (tokens, disclosure log, SQLite, PERSONS demo persons, default 100 000):
#   lookups   GET personer/{id}                    160 connections (wrk, random persons)
#   bulk      POST personer/bulkoppslag (1 000 ids)  16 connections
#   feed      GET hendelser/feed?seq=N                32 connections (random pages)
#   batches   GET uttrekk/{job}/batch/{n}            16 connections (a complete extract ordered
#                                                                    before the load)
#   uploads   POST /inbound/upload (multipart)       16 connections (a new Melding id each)
#   confirms  PUT /outbound/confirm                    8 connections (mottak_bench, replies
#                                                                    published before the load)
#   tokens    POST /token (RFC 7523 grants)            8 connections (token_bench, in a loop)
# The server's RSS is read every second: after the first 5 s (warm) against the end, and its peak.
# Every answer that is not 2xx, every socket error (wrk waits 30 s for an answer before it counts
# a timeout: 256 connections share 2 cores with the load generators) and every failed grant or
# confirm is counted.
# Usage: bash bench/soak.sh [PERSONS]. Writes bench/results/soak.md. Listens on 127.0.0.1 only;
# everything is stopped at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/measure.sh
PERSONS=${1:-100000}
DURATION=${DURATION:-60s}
SECONDS_TOTAL=${DURATION%s}
OUT=bench/results
WORK=$(mktemp -d /tmp/norreg-soak-XXXXXX)
DATA=$WORK/data
PORT=18611
BASE=http://127.0.0.1:$PORT
APIPATH=/folkeregisteret/offentlig-med-hjemmel/api/v1
API=$BASE$APIPATH
mkdir -p "$OUT"
bash scripts/install-deps.sh >/dev/null
cmake --preset release >/dev/null
nice -n 19 cmake --build --preset release -j2 --target norreg mottak_bench token_bench >/dev/null
BIN=$PWD/build/release/norreg
SERVER_PID=
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT
serve() {
  "$BIN" serve --data "$DATA" --listen 127.0.0.1:$PORT --demo-persons "$PERSONS" \
    --access-log false --log-level warn --token-lifetime 3600 --rate-limit 100000000 \
    --mottak-auto-receipt false > "$WORK/server.log" 2>&1 &
  SERVER_PID=$!
  for _ in $(seq 3000); do curl -sf $BASE/health/ready >/dev/null && return; sleep 0.1; done
  echo "server did not start"; cat "$WORK/server.log"; exit 1
}
kb() { awk -v k="$1:" '$1 == k {print $2}' /proc/$SERVER_PID/status; }

echo "== setting up: $PERSONS persons, an extract, replies to confirm"
serve; kill "$SERVER_PID"; wait "$SERVER_PID" || true   # the register and the demo clients
"$MOTTAK_BENCH" grant "$DATA" 50 >/dev/null
serve
READ=$("$BIN" token --data "$DATA" --no-cache --scope folkeregister:deling/offentligmedhjemmel)
AUTH="Authorization: Bearer $READ"
ORG=310000019
UPLOAD=$("$BIN" token --data "$DATA" --no-cache --scope brreg:mottak --org 0192:$ORG)
sqlite3 "$DATA/register.db" "select printf('%011d', fnr) from identifiers" > "$WORK/ids.txt"
latest=$(curl -sf -H "$AUTH" "$API/hendelser/siste/sekvensnummer")
awk -v n="$latest" 'BEGIN {srand(7); for (i = 0; i < 5000; i++) print "feed?seq=" int(1 + rand() * n)}' \
  > "$WORK/feed.txt"
measure_extract_order x "$API" "$AUTH" "$WORK/batches"
for ((n = 0; n < x_batches; n++)); do echo "$x_job/batch/$n"; done > "$WORK/batches.txt"
"$MOTTAK_BENCH" seed $BASE "$DATA" 50 400 16 >/dev/null   # 20 000 replies of 50 organisations

echo "== soak: 256 connections for $DURATION"
echo 5 > /proc/$SERVER_PID/clear_refs
: > "$WORK/rss.txt"
( for ((s = 0; s <= SECONDS_TOTAL + 5; s++)); do
    echo "$(kb VmRSS) $(kb RssAnon) $(kb RssFile)" >> "$WORK/rss.txt"; sleep 1
  done ) &
RSS_PID=$!
IDS_FILE=$WORK/ids.txt PREFIX=$APIPATH/personer/ TOKEN=$READ \
  wrk -t2 -c160 -d"$DURATION" --timeout 30s -s bench/get_random.lua $BASE > "$WORK/lookups.txt" 2>&1 &
PIDS+=($!)
IDS_FILE=$WORK/ids.txt PATH_BULK=$APIPATH/personer/bulkoppslag \
  TOKEN=$READ wrk -t1 -c16 -d"$DURATION" --timeout 30s -s bench/post_bulk.lua $BASE > "$WORK/bulk.txt" 2>&1 &
PIDS+=($!)
IDS_FILE=$WORK/feed.txt PREFIX=$APIPATH/hendelser/ TOKEN=$READ \
  wrk -t1 -c32 -d"$DURATION" --timeout 30s -s bench/get_random.lua $BASE > "$WORK/feed.txt.out" 2>&1 &
PIDS+=($!)
IDS_FILE=$WORK/batches.txt PREFIX=$APIPATH/uttrekk/ TOKEN=$READ \
  wrk -t1 -c16 -d"$DURATION" --timeout 30s -s bench/get_random.lua $BASE > "$WORK/batches.out" 2>&1 &
PIDS+=($!)
ORG=$ORG TOKEN=$UPLOAD \
  wrk -t1 -c16 -d"$DURATION" --timeout 30s -s bench/upload.lua $BASE > "$WORK/uploads.txt" 2>&1 &
PIDS+=($!)
( "$MOTTAK_BENCH" confirm $BASE "$DATA" 50 8 > "$WORK/confirms.txt" 2>&1 || true ) &
PIDS+=($!)
end=$(( $(date +%s) + SECONDS_TOTAL ))
( while [ "$(date +%s)" -lt "$end" ]; do
    "$TOKEN_BENCH" --data "$DATA" --endpoint $BASE/token --tokens 500 --connections 8 || true
  done > "$WORK/tokens.txt" 2>&1 ) &
PIDS+=($!)
for pid in "${PIDS[@]}"; do wait "$pid" || true; done
PIDS=()
wait "$RSS_PID" || true

# wrk: requests, non-2xx, socket errors of one output file.
wrk_row() {  # name file
  local requests rps non2xx errors
  requests=$(awk '/requests in/ {print $1}' "$2")
  rps=$(awk '/Requests\/sec/ {printf "%.0f", $2}' "$2")
  non2xx=$(awk '/Non-2xx/ {print $NF}' "$2")
  errors=$(awk '/Socket errors/ {gsub(",", ""); print $4 + $6 + $8 + $10}' "$2")
  echo "| $1 | ${requests:-0} | ${rps:-0} | ${non2xx:-0} | ${errors:-0} |"
}
tokens_ok=$(sed -n 's/.*\bok=\([0-9]*\).*/\1/p' "$WORK/tokens.txt" | awk '{s += $1} END {print s + 0}')
tokens_all=$(sed -n 's/.*\btokens=\([0-9]*\).*/\1/p' "$WORK/tokens.txt" | awk '{s += $1} END {print s + 0}')
confirm_line=$(grep -m1 "confirms=" "$WORK/confirms.txt" || true)
confirms=$(field "$confirm_line" confirms)
confirm_bad=$(field "$confirm_line" not_200)
# Columns of rss.txt: VmRSS, RssAnon (heap, stacks), RssFile (mapped files: the disclosure
# journal's segment of up to 64 MB, SQLite's pages), kB.
col() { awk -v c="$1" '{print $c}' "$WORK/rss.txt"; }
rss_warm=$(col 1 | sed -n 6p); rss_end=$(col 1 | tail -1); rss_peak=$(col 1 | sort -n | tail -1)
anon_warm=$(col 2 | sed -n 6p); anon_end=$(col 2 | tail -1); anon_peak=$(col 2 | sort -n | tail -1)
file_warm=$(col 3 | sed -n 6p); file_end=$(col 3 | tail -1)
{
  echo "## Soak, 256 connections — $(date -u +%Y-%m-%d), $(nproc) cores"
  echo
  echo "\`bash bench/soak.sh $PERSONS\` (release, SQLite, $PERSONS persons, tokens and the disclosure"
  echo "log on; $DURATION, every load at once, on the same 2 cores as the server)."
  echo
  echo "| load | requests | per second | non-2xx | socket errors |"
  echo "|---|---|---|---|---|"
  wrk_row "GET personer/{id} (160 connections)" "$WORK/lookups.txt"
  wrk_row "POST personer/bulkoppslag, 1 000 ids (16)" "$WORK/bulk.txt"
  wrk_row "GET hendelser/feed (32)" "$WORK/feed.txt.out"
  wrk_row "GET uttrekk batch, 100 000 ids (16)" "$WORK/batches.out"
  wrk_row "POST /inbound/upload (16)" "$WORK/uploads.txt"
  echo "| PUT /outbound/confirm (8) | ${confirms:-0} | | ${confirm_bad:-?} failed | |"
  echo "| POST /token (8) | $tokens_all | | $((tokens_all - tokens_ok)) failed | |"
  echo
  echo "| server memory | after 5 s | at the end | peak | every 10 s |"
  echo "|---|---|---|---|---|"
  echo "| RSS | $((rss_warm / 1024)) MB | $((rss_end / 1024)) MB | $((rss_peak / 1024)) MB | $(col 1 | awk 'NR % 10 == 1 {printf "%d ", $1 / 1024}')|"
  echo "| of it anonymous (heap, stacks) | $((anon_warm / 1024)) MB | $((anon_end / 1024)) MB | $((anon_peak / 1024)) MB | $(col 2 | awk 'NR % 10 == 1 {printf "%d ", $1 / 1024}')|"
  echo "| of it mapped files (journal, SQLite) | $((file_warm / 1024)) MB | $((file_end / 1024)) MB | | $(col 3 | awk 'NR % 10 == 1 {printf "%d ", $1 / 1024}')|"
} | tee "$OUT/soak.md"
