# shellcheck shell=bash
# Sourced by the benchmark scripts (after bench/nginx.sh, from the repository's root): the
# measurements that more than one script makes, so that bench/uttrekk.sh, bench/mottak.sh and
# bench/run.sh (SQLite) and bench/postgres.sh (SQLite beside PostgreSQL) run the same code. Each
# measure_* function stores its figures in variables named PREFIX_<figure> (printf -v), so one
# script can make a measurement against several nodes; it exits the script on a failure.
# DURATION (wrk's run time, e.g. 10s) must be set.
MOTTAK_BENCH=$PWD/build/release/bench/mottak_bench
TOKEN_BENCH=$PWD/build/release/bench/token_bench

now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", b - a}'; }
# A "key=value ..." line's value of KEY.
field() { sed -n "s/.*\\b$2=\\([0-9.]*\\).*/\\1/p" <<<"$1"; }

# Orders a complete extract at the register's newest sekvensnummer and polls
# uttrekk/{jobbId}/batch/{n} (404: not ready yet) until the empty batch after the last one;
# every batch is kept as DIR/batch-N.json. Gives up after EXTRACT_TIMEOUT seconds (default 600).
# Sets PREFIX_seq, PREFIX_job, PREFIX_batches, PREFIX_order_s.
measure_extract_order() {  # prefix api-url auth-header dir
  local prefix=$1 api=$2 auth=$3 dir=$4 seq job code t0 t1 n=0
  local deadline=$(( $(date +%s) + ${EXTRACT_TIMEOUT:-600} ))
  mkdir -p "$dir"
  seq=$(curl -sf -H "$auth" "$api/hendelser/siste/sekvensnummer")
  t0=$(now)
  job=$(curl -sf -H "$auth" "$api/uttrekk/komplett?feedsekvensnr=$seq" |
    sed 's/.*"jobbId":"\([^"]*\)".*/\1/')
  [ -n "$job" ] || { echo "$prefix: no jobbId from uttrekk/komplett"; exit 1; }
  while true; do
    code=$(curl -s -o "$dir/batch-$n.json" -w '%{http_code}' -H "$auth" "$api/uttrekk/$job/batch/$n")
    if [ "$code" = 404 ]; then
      [ "$(date +%s)" -lt "$deadline" ] || { echo "$prefix: batch $n not ready in time"; exit 1; }
      sleep 0.01
      continue
    fi
    [ "$code" = 200 ] || { echo "$prefix: batch $n: HTTP $code"; exit 1; }
    grep -q '[0-9a-f]\{32\}' "$dir/batch-$n.json" || break
    n=$((n + 1))
  done
  t1=$(now)
  printf -v "${prefix}_seq" %s "$seq"
  printf -v "${prefix}_job" %s "$job"
  printf -v "${prefix}_batches" %s "$n"
  printf -v "${prefix}_order_s" %s "$(secs "$t0" "$t1")"
  echo "$prefix: all $n batches ready after $(secs "$t0" "$t1") s"
}

# The same bytes from nginx and from norreg, in one run: nginx (bench/nginx.sh) serves FILE from
# DIR/www on PORT, then wrk (2 threads, 8 connections, DURATION) runs against nginx and against
# URL (with HEADER). Sets PREFIX_bytes, PREFIX_nginx_rps, PREFIX_norreg_rps, PREFIX_non2xx (of
# norreg's answers), PREFIX_ratio (norreg / nginx).
measure_vs_nginx() {  # prefix dir port file url [header]
  local prefix=$1 dir=$2 port=$3 file=$4 url=$5 header=${6:-} name nginx norreg non2xx
  name=$(basename "$file")
  mkdir -p "$dir/www"
  cp "$file" "$dir/www/$name"
  start_nginx "$dir" "$port" "/$name"
  wrk -t2 -c8 -d"$DURATION" "http://127.0.0.1:$port/$name" > "$dir/wrk-nginx.txt" 2>&1
  wrk -t2 -c8 -d"$DURATION" ${header:+-H "$header"} "$url" > "$dir/wrk-norreg.txt" 2>&1
  kill "$NGINX_PID"; wait "$NGINX_PID" 2>/dev/null || true; NGINX_PID=
  nginx=$(awk '/Requests\/sec/ {print $2}' "$dir/wrk-nginx.txt")
  norreg=$(awk '/Requests\/sec/ {print $2}' "$dir/wrk-norreg.txt")
  non2xx=$(awk '/Non-2xx/ {print $NF}' "$dir/wrk-norreg.txt")
  printf -v "${prefix}_bytes" %s "$(stat -c %s "$file")"
  printf -v "${prefix}_nginx_rps" %s "$nginx"
  printf -v "${prefix}_norreg_rps" %s "$norreg"
  printf -v "${prefix}_non2xx" %s "${non2xx:-0}"
  printf -v "${prefix}_ratio" %s "$(awk -v a="$norreg" -v b="$nginx" 'BEGIN {printf "%.2f", a / b}')"
  echo "$prefix: nginx $nginx req/s, norreg $norreg req/s ($(stat -c %s "$file") bytes each, non-2xx ${non2xx:-0})"
}

# POST /token (RFC 7523 grants signed beforehand by token_bench) with the demo client of DATA
# (the issuer of DATA/auth/server.json is the assertions' aud), N tokens over CONNS connections.
# Sets PREFIX_tokens_per_s.
measure_tokens() {  # prefix data endpoint tokens connections
  local line
  line=$("$TOKEN_BENCH" --data "$2" --endpoint "$3" --tokens "$4" --connections "$5")
  echo "$1: $line"
  printf -v "${1}_tokens_per_s" %s "$(field "$line" tokens_per_s)"
}

# Publishes PER replies for each of the first ORGS organisations through
# POST /norreg/mottak/v1/svar (mottak_bench seed, CONNS connections; the demo supplier must act
# for them: `mottak_bench grant` before the node started). Sets PREFIX_seed_rate, PREFIX_seed_s.
measure_mottak_seed() {  # prefix base data orgs per connections
  local line
  line=$("$MOTTAK_BENCH" seed "$2" "$3" "$4" "$5" "$6")
  echo "$1: $line"
  printf -v "${1}_seed_rate" %s "$(field "$line" per_second)"
  printf -v "${1}_seed_s" %s "$(field "$line" seconds)"
}

# GET /outbound/available with wrk --latency (2 threads, 16 connections, DURATION), the tokens of
# the first ORGS organisations in turn (written to OUT.tokens). Sets PREFIX_avail_rps,
# PREFIX_avail_p50, PREFIX_avail_p99, PREFIX_avail_non2xx, PREFIX_avail_bytes (one answer).
measure_available() {  # prefix base data orgs out
  local prefix=$1 base=$2 out=$5
  "$MOTTAK_BENCH" tokens "$base" "$3" "$4" > "$out.tokens"
  TOKENS_FILE="$out.tokens" PATH_TO_GET=/outbound/available wrk -t2 -c16 -d"$DURATION" \
    --latency -s bench/get_tokens.lua "$base" > "$out" 2>&1
  printf -v "${prefix}_avail_rps" %s "$(awk '/Requests\/sec/ {print $2}' "$out")"
  printf -v "${prefix}_avail_p50" %s "$(awk '$1 == "50%" {print $2}' "$out")"
  printf -v "${prefix}_avail_p99" %s "$(awk '$1 == "99%" {print $2}' "$out")"
  local non2xx
  non2xx=$(awk '/Non-2xx/ {print $NF}' "$out")
  printf -v "${prefix}_avail_non2xx" %s "${non2xx:-0}"
  printf -v "${prefix}_avail_bytes" %s "$(curl -s -H "Authorization: Bearer $(head -1 "$out.tokens")" \
    "$base/outbound/available" | wc -c)"
  echo "$prefix: available $(awk '/Requests\/sec/ {print $2}' "$out") req/s," \
    "p50 $(awk '$1 == "50%" {print $2}' "$out"), p99 $(awk '$1 == "99%" {print $2}' "$out"), non-2xx ${non2xx:-0}"
}

# mottak_bench confirm: lists the available replies of the first ORGS organisations and confirms
# each once (with its own organisation's token) over CONNS connections; organisations whose
# replies an earlier run confirmed have none left. The tool's CPU time goes to OUT (user system
# seconds, /usr/bin/time). Sets PREFIX_confirm_rate, PREFIX_confirm_n, PREFIX_confirm_p50,
# PREFIX_confirm_p99, PREFIX_confirm_s.
measure_confirm() {  # prefix base data orgs connections out
  local line
  line=$(/usr/bin/time -f '%U %S' -o "$6" "$MOTTAK_BENCH" confirm "$2" "$3" "$4" "$5")
  echo "$1: $line"
  printf -v "${1}_confirm_rate" %s "$(field "$line" per_second)"
  printf -v "${1}_confirm_n" %s "$(field "$line" confirms)"
  printf -v "${1}_confirm_p50" %s "$(field "$line" p50_ms)"
  printf -v "${1}_confirm_p99" %s "$(field "$line" p99_ms)"
  printf -v "${1}_confirm_s" %s "$(field "$line" seconds)"
}
