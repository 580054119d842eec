#!/usr/bin/env bash
# Brreg mottak benchmarks (issue 5). Usage: bash bench/mottak.sh [ORGS] [PER_ORG]
# (default 1000 organisations × 100 replies = 100 000 replies). Server as deployed (tokens,
# disclosure log, synchronous=FULL), release build, everything on 127.0.0.1:
#   0. seeding: the replies are published through POST /norreg/mottak/v1/svar by
#      build/release/bench/mottak_bench (16 keep-alive connections, the producer's token), after
#      `mottak_bench grant` let the demo supplier act for every organisation (so tokens exist for
#      all of them);
#   1. GET /outbound/available: wrk --latency, 2 threads, 16 connections, DURATION (default 10 s),
#      tokens of TOKEN_ORGS (default 50) organisations in turn (100 replies each); p99 < 10 ms;
#   2. confirms: `mottak_bench confirm` lists the replies of CONFIRM_ORGS (default 300)
#      organisations and confirms every one exactly once with its version (64 connections);
#      ≥ 5 000 confirms/s;
#   3. download of a 10 MB reply (a 10 MB PDF of random bytes, published with
#      `norreg mottak publish`): wrk 2 threads, 8 connections, against norreg and against nginx
#      serving the identical ZIP file (bench/nginx.sh), same run; ≥ 70 % of nginx;
#   4. memory: the server's peak RSS growth (VmHWM, reset with /proc/PID/clear_refs) across one
#      34 MB multipart upload, and across publishing + downloading a 30 MB reply.
# Writes bench/results/mottak.md.
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/nginx.sh
source bench/measure.sh
ORGS=${1:-1000}
PER_ORG=${2:-100}
DURATION=${DURATION:-10s}
TOKEN_ORGS=${TOKEN_ORGS:-50}
CONFIRM_ORGS=${CONFIRM_ORGS:-300}
OUT=bench/results
WORK=$(mktemp -d /tmp/norreg-mottak-XXXXXX)
mkdir -p "$OUT"
cmake --preset release >/dev/null
cmake --build --preset release -j2 --target norreg mottak_bench >/dev/null
BIN=$PWD/build/release/norreg
PORT=18280
BASE=http://127.0.0.1:$PORT
DATA=$WORK/data
SERVER_PID= ; NGINX_PID=
cleanup() {
  [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null || true
  [ -n "$NGINX_PID" ] && kill "$NGINX_PID" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT
serve() {
  "$BIN" serve --data "$DATA" --listen 127.0.0.1:$PORT --demo-persons 100 --access-log false \
    --log-level warn --token-lifetime 3600 --rate-limit 100000000 --mottak-auto-receipt false \
    > "$WORK/server.log" 2>&1 &
  SERVER_PID=$!
  for _ in $(seq 300); do curl -sf $BASE/health/ready >/dev/null && return; sleep 0.1; done
  echo "server did not start"; cat "$WORK/server.log"; exit 1
}
stop_server() { kill "$SERVER_PID"; wait "$SERVER_PID" || true; SERVER_PID=; }
kb() { awk -v k="$1:" '$1 == k {print $2}' /proc/$SERVER_PID/status; }

echo "== 0. seed $ORGS organisations × $PER_ORG replies"
serve; stop_server                      # creates the demo clients
"$MOTTAK_BENCH" grant "$DATA" "$ORGS" >/dev/null
serve
measure_mottak_seed m $BASE "$DATA" "$ORGS" "$PER_ORG" 16
seed_rate=$m_seed_rate; seed_secs=$m_seed_s
replies=$(sqlite3 "$DATA/mottak/mottak.db" "select count(*) from outbound")
db_mb=$(( $(stat -c %s "$DATA/mottak/mottak.db") / 1048576 ))

echo "== 1. GET /outbound/available, tokens of $TOKEN_ORGS organisations"
measure_available m $BASE "$DATA" "$TOKEN_ORGS" "$WORK/available.txt"
cat "$WORK/available.txt"
avail_rps=$m_avail_rps; avail_p50=$m_avail_p50; avail_p99=$m_avail_p99
avail_non2xx=$m_avail_non2xx; avail_bytes=$m_avail_bytes

echo "== 2. confirms: every reply of $CONFIRM_ORGS organisations once"
measure_confirm m $BASE "$DATA" "$CONFIRM_ORGS" 64 "$WORK/confirm.cpu"
confirm_rate=$m_confirm_rate; confirm_n=$m_confirm_n; confirm_p99=$m_confirm_p99
confirmed=$(sqlite3 "$DATA/mottak/mottak.db" "select count(*) from outbound where confirmed = 1 and version = 1")

echo "== 3. download a 10 MB reply: norreg vs nginx (the same ZIP)"
head -c 10485760 /dev/urandom > "$WORK/vedtak.pdf"
cat > "$WORK/svar.xml" <<XML
<?xml version="1.0" encoding="UTF-8"?>
<Melding xmlns="http://schema.brreg.no/postmottak/henvendelse" versjon="1.0" id="10101010101010101010101010101010" tjeneste="Tinglysing" tjenestehandling="vedtak">
  <Mottaker id="310000019" idType="orgnr">Mottaker AS</Mottaker>
  <Avsender id="974760673" idType="orgnr">Brønnøysundregistrene</Avsender>
  <Innhold><Data format="text/plain">Vedtak med et stort vedlegg</Data></Innhold>
</Melding>
XML
big_id=$("$BIN" mottak publish --data "$DATA" --url $BASE --org 310000019 "$WORK/svar.xml" \
  "$WORK/vedtak.pdf" 2>/dev/null)
TOKEN=$(head -1 "$WORK/available.txt.tokens")   # 310000019, the first organisation
curl -sf -H "Authorization: Bearer $TOKEN" -o "$WORK/svar.zip" \
  "$BASE/outbound/download?mottakId=$big_id"
measure_vs_nginx zip "$WORK" 18281 "$WORK/svar.zip" "$BASE/outbound/download?mottakId=$big_id" \
  "Authorization: Bearer $TOKEN"
nginx_rps=$zip_nginx_rps; norreg_rps=$zip_norreg_rps
norreg_non2xx=$zip_non2xx

echo "== 4. memory: a 34 MB upload, a 30 MB reply published and downloaded"
head -c 34000000 /dev/urandom > "$WORK/upload.pdf"
sed -e 's/10101010101010101010101010101010/20202020202020202020202020202020/' \
  -e 's/<Mottaker id="310000019"/<Mottaker id="974760673"/' \
  -e 's/<Avsender id="974760673"/<Avsender id="310000019"/' "$WORK/svar.xml" > "$WORK/melding.xml"
echo 5 > /proc/$SERVER_PID/clear_refs
rss_before=$(kb VmRSS)
curl -sf -H "Authorization: Bearer $TOKEN" -F "payload=@$WORK/melding.xml;type=application/xml" \
  -F "attachments=@$WORK/upload.pdf;type=application/pdf" $BASE/inbound/upload > /dev/null
upload_growth=$(( $(kb VmHWM) - rss_before ))
head -c 30000000 /dev/urandom > "$WORK/svar30.pdf"
echo 5 > /proc/$SERVER_PID/clear_refs
rss_before=$(kb VmRSS)
id30=$("$BIN" mottak publish --data "$DATA" --url $BASE --org 310000019 "$WORK/svar.xml" \
  "$WORK/svar30.pdf" 2>/dev/null)
curl -sf -H "Authorization: Bearer $TOKEN" -o /dev/null "$BASE/outbound/download?mottakId=$id30"
reply_growth=$(( $(kb VmHWM) - rss_before ))
server_rss_mb=$(( $(kb VmHWM) / 1024 ))
echo "upload: +$upload_growth kB, reply: +$reply_growth kB, server peak $server_rss_mb MB"

verdict() { [ "$(echo "$1" | bc)" = 1 ] && echo met || echo "**not met**"; }
ms() { awk '{v=$1; if (v ~ /us$/) {sub(/us$/,"",v); v/=1000} else if (v ~ /ms$/) {sub(/ms$/,"",v)} else if (v ~ /s$/) {sub(/s$/,"",v); v*=1000}; printf "%.2f", v}' <<<"$1"; }
p99_ms=$(ms "$avail_p99")
ratio=$zip_ratio
cat > "$OUT/mottak.md" <<MD
Machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB, $(uname -r); date $(date -u +%F); load before: $(cut -d' ' -f1-3 /proc/loadavg)
Mailbox: $replies replies for $ORGS organisations (\`bash bench/mottak.sh $ORGS $PER_ORG\`), mottak.db $db_mb MB; server as deployed (tokens, disclosure log, synchronous=FULL)

| measure | result | target | |
|---|---|---|---|
| seed: publish $replies replies via POST /norreg/mottak/v1/svar, 16 connections | $seed_secs s = $seed_rate replies/s | (reported) | |
| GET /outbound/available ($PER_ORG replies, $avail_bytes bytes), tokens of $TOKEN_ORGS orgs, wrk 16 connections | p50 $avail_p50, **p99 $avail_p99**, $avail_rps req/s, non-2xx ${avail_non2xx:-0} | p99 < 10 ms | $(verdict "$p99_ms < 10") |
| confirms, each reply once with its version, 64 connections, $CONFIRM_ORGS orgs | $confirm_n confirms: **$confirm_rate confirms/s**, p99 $confirm_p99 ms; $confirmed rows at version 1 | ≥ 5 000/s | $(verdict "$confirm_rate >= 5000") |
| download of a 10 MB reply ($zip_bytes bytes), wrk 8 connections | norreg $norreg_rps req/s vs nginx $nginx_rps req/s (same file): **$ratio** (non-2xx ${norreg_non2xx:-0}) | ≥ 0.70 of nginx | $(verdict "$ratio >= 0.70") |
| server peak RSS growth across one 34 MB upload | $upload_growth kB | a few MB | |
| … across publishing + downloading a 30 MB reply | $reply_growth kB | a few MB | |
| server peak RSS (whole run) | $server_rss_mb MB | | |
MD
cat "$OUT/mottak.md"
