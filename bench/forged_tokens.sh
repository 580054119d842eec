#!/usr/bin/env bash
# A flood of forged bearer tokens from one address (docs/limits.md, "Bearer tokens"): a valid
# token's header and claims with another signature, on GET personer/{id}, wrk 2 threads and
# 8 connections for DURATION. Reports the requests answered, the server's CPU per request and the
# answer codes; then that the valid token, already verified, is still served from the same
# address. With BASELINE_BIN=/path/to/an/older/norreg the same runs against that build first.
# Usage: bash bench/forged_tokens.sh [PERSONS] (default 100000). Listens on 127.0.0.1 only.
set -euo pipefail
cd "$(dirname "$0")/.."
PERSONS=${1:-100000}
DURATION=${DURATION:-6s}
WORK=$(mktemp -d /tmp/norreg-forged-XXXXXX)
bash scripts/install-deps.sh >/dev/null
cmake --preset release >/dev/null
nice -n 19 cmake --build --preset release -j2 --target norreg >/dev/null
BIN=$PWD/build/release/norreg
API=/folkeregisteret/offentlig-med-hjemmel/api/v1
PORT=18483
PID=
cleanup() {
  [ -n "$PID" ] && kill "$PID" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT
"$BIN" generate --quiet --data "$WORK/data" --persons "$PERSONS" --seed 1 >/dev/null
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

flood() {  # name binary
  "$2" serve --data "$WORK/data" --listen 127.0.0.1:$PORT --access-log false --log-level warn \
    --token-lifetime 3600 > "$WORK/server.log" 2>&1 &
  PID=$!
  for _ in $(seq 300); do curl -sf http://127.0.0.1:$PORT/health/ready >/dev/null && break; sleep 0.1; done
  local token sig forged fnr t0 t1 requests
  token=$("$2" token --data "$WORK/data" --no-cache --scope folkeregister:deling/offentligmedhjemmel)
  sig=${token##*.}
  forged="${token%.*}.AAAAAAAA${sig:8}"
  fnr=$(curl -sf -H "Authorization: Bearer $token" "http://127.0.0.1:$PORT$API/hendelser/feed?seq=1" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["hendelse"]["folkeregisteridentifikator"])')
  curl -sf -o /dev/null -H "Authorization: Bearer $token" "http://127.0.0.1:$PORT$API/personer/$fnr"
  cat > "$WORK/forged.lua" <<LUA
wrk.headers["Authorization"] = "Bearer $forged"
local codes = {}
response = function(status) codes[status] = (codes[status] or 0) + 1 end
LUA
  t0=$(ticks "$PID")
  wrk -t2 -c8 -d"$DURATION" -s "$WORK/forged.lua" "http://127.0.0.1:$PORT$API/personer/$fnr" > "$WORK/wrk.txt" 2>&1
  t1=$(ticks "$PID")
  requests=$(awk '/requests in/ {print $1}' "$WORK/wrk.txt")
  local c401 c429 valid
  c401=0; c429=0
  for _ in $(seq 20); do
    case $(curl -s -o /dev/null -w "%{http_code}" -H "Authorization: Bearer $forged" "http://127.0.0.1:$PORT$API/personer/$fnr") in
      401) c401=$((c401 + 1)) ;; 429) c429=$((c429 + 1)) ;;
    esac
  done
  valid=$(curl -s -o /dev/null -w "%{http_code}" -H "Authorization: Bearer $token" "http://127.0.0.1:$PORT$API/personer/$fnr")
  echo "| $1 | $requests ($(awk '/Requests\/sec/ {printf "%.0f", $2}' "$WORK/wrk.txt")/s) | $(awk -v t=$((t1 - t0)) -v r="$requests" 'BEGIN {printf "%.1f", t * 10000 / r}') µs | $c401 × 401, $c429 × 429 | $valid |"
  kill "$PID"; wait "$PID" 2>/dev/null || true; PID=
}

echo "| build | forged requests answered in $DURATION | server CPU per request | 20 more forged, at once | the valid token |"
echo "|---|---|---|---|---|"
[ -n "${BASELINE_BIN:-}" ] && flood "$BASELINE_BIN" "$BASELINE_BIN"
flood "this build" "$BIN"
