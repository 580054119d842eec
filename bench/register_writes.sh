#!/usr/bin/env bash
# Producer writes to the SQLite register (POST /norreg/register/v1/personer, one person document
# per request, each a new version and a new sekvensnummer), which sync the log on every commit
# (docs/design.md, `src/store/`). Usage: bash bench/register_writes.sh
#  - the reference, in the same run: fsyncs per second of a 4 KiB write in the data folder's file
#    system (python's os.fsync in a loop);
#  - wrk with 1 and with 16 connections, DURATION each, against a server with 1 000 demo persons.
# Writes bench/results/register_writes.md. Everything listens on 127.0.0.1; stopped at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${DURATION:-10s}
OUT=bench/results
WORK=$(mktemp -d /tmp/norreg-writebench-XXXXXX)
mkdir -p "$OUT"
bash scripts/install-deps.sh >/dev/null
cmake --preset release >/dev/null
nice -n 19 cmake --build --preset release -j2 --target norreg >/dev/null
BIN=$PWD/build/release/norreg
ROOT=http://127.0.0.1:18495
SERVER_PID=
cleanup() {
  [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

fsyncs=$(python3 - "$WORK/fsync.bin" <<'PY'
import os, sys, time
fd = os.open(sys.argv[1], os.O_WRONLY | os.O_CREAT, 0o600)
n, t0 = 0, time.time()
while time.time() - t0 < 3:
    os.pwrite(fd, b"x" * 4096, (n % 256) * 4096)
    os.fsync(fd)
    n += 1
print(round(n / (time.time() - t0)))
PY
)
echo "disk: $fsyncs fsyncs/s"

"$BIN" serve --data "$WORK/data" --listen 127.0.0.1:18495 --demo-persons 1000 --access-log false \
  --log-level warn --token-lifetime 3600 --rate-limit 100000000 > "$WORK/server.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 300); do curl -sf "$ROOT/health/ready" >/dev/null && break; sleep 0.1; done
READ=$("$BIN" token --data "$WORK/data" --no-cache --scope folkeregister:deling/offentligmedhjemmel)
WRITE=$("$BIN" token --data "$WORK/data" --no-cache --scope norreg:register)
API=$ROOT/folkeregisteret/offentlig-med-hjemmel/api/v1
fnr=$(curl -sf -H "Authorization: Bearer $READ" "$API/hendelser/feed?seq=1" |
  python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["hendelse"]["folkeregisteridentifikator"])')
curl -sf -H "Authorization: Bearer $READ" "$API/personer/$fnr?part=historikk" > "$WORK/person.json"
before=$(curl -sf -H "Authorization: Bearer $READ" "$API/hendelser/siste/sekvensnummer")

run() {  # connections
  TOKEN=$WRITE BODY_FILE=$WORK/person.json PATH_POST=/norreg/register/v1/personer \
    wrk -t1 -c"$1" -d"$DURATION" --latency -s bench/post_file.lua "$ROOT" > "$WORK/wrk$1.txt" 2>&1
  printf -v "rps$1" %s "$(awk '/Requests\/sec/ {printf "%.0f", $2}' "$WORK/wrk$1.txt")"
  printf -v "p99_$1" %s "$(awk '$1=="99%" {print $2}' "$WORK/wrk$1.txt")"
  printf -v "bad$1" %s "$(awk '/Non-2xx/ {print $5}' "$WORK/wrk$1.txt")"
  echo "$1 connections: $(eval echo "\$rps$1") writes/s, p99 $(eval echo "\$p99_$1"), non-2xx $(eval echo "\${bad$1:-0}")"
}
run 1
run 16
after=$(curl -sf -H "Authorization: Bearer $READ" "$API/hendelser/siste/sekvensnummer")
cat > "$OUT/register_writes.md" <<MD
## Producer writes — $(date -u +%Y-%m-%d), $(nproc) cores

\`bash bench/register_writes.sh\` (SQLite, synchronous=FULL; one person document per POST; wrk
1 thread, $DURATION per row). Reference: the disk's fsyncs/s of a 4 KiB write, same run.

| | writes/s | p99 | non-2xx |
|---|---|---|---|
| disk, fsync of a 4 KiB write (reference) | $fsyncs | | |
| 1 connection | $rps1 | $p99_1 | ${bad1:-0} |
| 16 connections | $rps16 | $p99_16 | ${bad16:-0} |

sekvensnummer went from $before to $after during the runs.
MD
cat "$OUT/register_writes.md"
