#!/usr/bin/env bash
# The cost of security on GET personer/{id}, measured the way issue 3 asks: the same lookups
# without tokens and audit log, with a reused token, and with a token + the disclosure log (as
# deployed), on three servers over one register. The three runs are interleaved for ROUNDS rounds
# and the medians compared, because this machine is shared and noisy. Each server's whole CPU time
# (run under /usr/bin/time, stopped gracefully at the end, so the disclosure log's deferred
# indexing is counted wherever it happened) per request served is reported too: the cost
# independent of when background work ran.
# Usage: bash bench/security.sh [PERSONS] (default 200000). Writes bench/results/security.md.
# AUDIT_DIR=/dev/shm/x puts the disclosure log on another file system (a diagnostic: is its cost
# the disk's writeback?).
set -euo pipefail
cd "$(dirname "$0")/.."
PERSONS=${1:-200000}
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-5s}
CONNS=${CONNS:-64}
OUT=bench/results
WORK=$(mktemp -d /tmp/norreg-security-XXXXXX)
mkdir -p "$OUT"
bash scripts/install-deps.sh >/dev/null
cmake --preset release >/dev/null
cmake --build --preset release --target norreg security_bench >/dev/null
BIN=build/release/norreg
API=/folkeregisteret/offentlig-med-hjemmel/api/v1
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do pkill -P "$pid" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT

"$BIN" generate --quiet --data "$WORK/data" --persons "$PERSONS" --seed 1 >/dev/null
sqlite3 "$WORK/data/register.db" "select printf('%011d', fnr) from persons order by random() limit 2000" > "$WORK/ids.txt"
if [ -n "${AUDIT_DIR:-}" ]; then
  rm -rf "$AUDIT_DIR"; mkdir -p "$AUDIT_DIR"; ln -s "$AUDIT_DIR" "$WORK/data/audit"
fi
serve() {  # port, extra flags...
  local port=$1; shift
  /usr/bin/time -f '%U %S' -o "$WORK/cpu-$port.txt" \
    "$BIN" serve --data "$WORK/data" --listen 127.0.0.1:$port --access-log false --log-level warn \
      --issuer http://norreg.bench/ --token-lifetime 3600 --rate-limit 100000000 "$@" \
      > "$WORK/server-$port.log" 2>&1 &
  PIDS+=($!)
  for _ in $(seq 100); do curl -sf http://127.0.0.1:$port/health/ready >/dev/null && break; sleep 0.1; done
}
serve 18090 --insecure-no-auth true --audit false   # none
serve 18091 --audit false                            # token
serve 18092                                          # token + audit log
export TOKEN=$("$BIN" token --data "$WORK/data" --no-cache \
  --scope folkeregister:deling/offentligmedhjemmel)
declare -A RUNS REQUESTS
for round in $(seq "$ROUNDS"); do
  for cfg in none:18090 token:18091 audit:18092; do
    name=${cfg%%:*}; port=${cfg##*:}
    IDS_FILE="$WORK/ids.txt" PREFIX="$API/personer/" wrk -t2 -c"$CONNS" -d"$DURATION" \
      -s bench/get_random.lua "http://127.0.0.1:$port" > "$WORK/$name-$round.txt" 2>&1
    rps=$(awk '/Requests\/sec/ {print $2}' "$WORK/$name-$round.txt")
    non2xx=$(awk '/Non-2xx/ {print $NF}' "$WORK/$name-$round.txt")
    echo "round $round $name rps=$rps non2xx=${non2xx:-0}"
    RUNS[$name]="${RUNS[$name]:-} $rps"
    REQUESTS[$name]=$(( ${REQUESTS[$name]:-0} + $(awk '/requests in/ {print $1}' "$WORK/$name-$round.txt") ))
  done
done
for pid in "${PIDS[@]}"; do pkill -TERM -P "$pid" || true; wait "$pid" || true; done  # indexes the rest
PIDS=()
declare -A CPU_US
for cfg in none:18090 token:18091 audit:18092; do
  name=${cfg%%:*}; port=${cfg##*:}
  CPU_US[$name]=$(awk -v n="${REQUESTS[$name]}" '{printf "%.1f", ($1 + $2) * 1e6 / n}' "$WORK/cpu-$port.txt")
done
median() { tr ' ' '\n' | grep -v '^$' | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
none=$(echo "${RUNS[none]}" | median); token=$(echo "${RUNS[token]}" | median)
audit=$(echo "${RUNS[audit]}" | median)
micro=$(build/release/bench/security_bench --benchmark_min_time=0.2 2>/dev/null | awk '
  /^BM_/ && /items_per_second/ {n = split($NF, a, "="); sub(/\/s$/, "", a[2]); printf "| %s | %s wall per 100 000 (%s lines/s) |\n", $1, $2 " " $3, a[2]; next}
  /^BM_/ {printf "| %s | %s %s CPU |\n", $1, $4, $5}')
cat > "$OUT/security.md" <<MD
Machine: $(nproc) cores, $(uname -r); date $(date -u +%F); load average before: $(cut -d' ' -f1-3 /proc/loadavg)
Register: $PERSONS persons${AUDIT_DIR:+ (disclosure log in $AUDIT_DIR)}; GET personer/{id} over 2 000 random ids, wrk 2 threads, $CONNS connections,
$DURATION per run, $ROUNDS interleaved rounds (medians). \`bash bench/security.sh $PERSONS\`

| configuration | req/s (median; all rounds) | ratio to none | server CPU per request (all threads, whole run) |
|---|---|---|---|
| no token, no audit log (\`--insecure-no-auth\`) | $none (${RUNS[none]} ) | 1.00 | ${CPU_US[none]} µs |
| reused token (validator cache + rate limiter) | $token (${RUNS[token]} ) | $(echo "scale=3; $token / $none" | bc) | ${CPU_US[token]} µs |
| reused token + disclosure log (as deployed) | $audit (${RUNS[audit]} ) | $(echo "scale=3; $audit / $none" | bc) (audit alone: $(echo "scale=3; $audit / $token" | bc)) | ${CPU_US[audit]} µs (audit alone: $(echo "scale=3; ${CPU_US[token]} / ${CPU_US[audit]}" | bc) of the requests per CPU second) |

Per-operation CPU cost (\`build/release/bench/security_bench\`):

| operation | cost |
|---|---|
$micro
MD
cat "$OUT/security.md"
