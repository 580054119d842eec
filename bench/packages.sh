#!/usr/bin/env bash
# Lookups and tailored extracts through the access packages (docs/packages.md), against
# "offentlig med hjemmel" in the same run. Usage: bash bench/packages.sh [PERSONS]
#  1. generate PERSONS persons (default 1 000 000) into SQLite and serve them as deployed (tokens,
#     disclosure log);
#  2. GET personer/{id} over QUERIES random persons with wrk (2 threads, CONNS connections,
#     PAIR_DURATION per run): PAIRS pairs of runs through offentlig-med-hjemmel and
#     privatutenhjemmel (the most restrictive package with lookups: confidential data and the
#     spouse's number withheld), in turns (odd pairs med hjemmel first, even pairs the package
#     first). The machine drifts by more than the difference, so each pair's ratio is taken and
#     the median reported. Each run's server CPU is counted until the server is idle again, so
#     the disclosure log's indexing of a run's answers is charged to that run, not the next.
#     Then finans and eid, each beside a run of offentlig-med-hjemmel;
#  3. personer/entydigsoek by number and name through offentlig-med-hjemmel and through
#     presseutenfolkeregisteridentifikator (no number anywhere in the answer);
#  4. the same tailored extract (every status, bostedskommune 0301) ordered through
#     offentlig-med-hjemmel and through finans: seconds from the order to the first batch and to
#     the end of the last one.
# Writes bench/results/packages.md. Everything listens on 127.0.0.1 and is stopped at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
PERSONS=${1:-1000000}
DURATION=${DURATION:-15s}
PAIR_DURATION=${PAIR_DURATION:-8s}
PAIRS=${PAIRS:-6}
QUERIES=${QUERIES:-2000}
CONNS=${CONNS:-16}
OUT=bench/results
WORK=$(mktemp -d /tmp/norreg-pkgbench-XXXXXX)
mkdir -p "$OUT"
bash scripts/install-deps.sh >/dev/null
cmake --preset release >/dev/null
nice -n 19 cmake --build --preset release -j2 --target norreg >/dev/null
BIN=$PWD/build/release/norreg
ROOT=http://127.0.0.1:18490
SERVER_PID=
cleanup() {
  [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT
now() { date +%s.%N; }

base_of() {  # package id -> base path
  case "$1" in
    offentlig-med-hjemmel) echo /folkeregisteret/offentlig-med-hjemmel/api/v1 ;;
    *) echo "/folkeregisteret/api/$1/v1" ;;
  esac
}
token_of() { "$BIN" token --data "$WORK/data" --no-cache --pakke "$1"; }

echo "== 1. generate and serve"
"$BIN" generate --quiet --data "$WORK/data" --persons "$PERSONS" --seed 1 >/dev/null
"$BIN" serve --data "$WORK/data" --listen 127.0.0.1:18490 --access-log false --log-level warn \
  --token-lifetime 3600 --rate-limit 100000000 > "$WORK/server.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 300); do curl -sf "$ROOT/health/ready" >/dev/null && break; sleep 0.1; done

# QUERIES random persons: numbers from feed pages at random places, names by a bulk lookup.
OMH_TOKEN=$(token_of offentlig-med-hjemmel)
python3 - "$WORK" "$QUERIES" "$PERSONS" "$OMH_TOKEN" "$ROOT$(base_of offentlig-med-hjemmel)" <<'PY'
import json, random, subprocess, sys, urllib.parse
work, count, persons, token, api = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5]
random.seed(1)
def get(path, body=None):
    cmd = ["curl", "-sf", "-H", "Authorization: Bearer " + token]
    if body is not None:
        cmd += ["-H", "Content-Type: application/json", "-d", body]
    return json.loads(subprocess.check_output(cmd + [api + path]))
numbers = set()
while len(numbers) < count:
    for e in get(f"/hendelser/feed?seq={random.randint(1, persons)}")[:50]:
        numbers.add(e["hendelse"]["folkeregisteridentifikator"])
numbers = sorted(numbers)[:count]
with open(f"{work}/q-lookup.txt", "w") as lookup, open(f"{work}/q-entydig.txt", "w") as entydig:
    for i in range(0, len(numbers), 1000):
        body = json.dumps({"foedselsEllerDNummer": numbers[i:i + 1000]})
        for d in get("/personer/bulkoppslag?part=navn", body)["oppslag"]:
            fnr = d["foedselsEllerDNummer"]
            navn = d["folkeregisterperson"]["navn"][0]
            full = f"{navn['fornavn']} {navn['etternavn']}"
            lookup.write(f"personer/{fnr}\n")
            entydig.write(f"personer/entydigsoek?identifikasjonsnummer={fnr}"
                          f"&navn={urllib.parse.quote(full)}\n")
PY
wc -l "$WORK"/q-*.txt | sed 's/^/  /'

cpu_ticks() { awk '{print $14 + $15}' "/proc/$SERVER_PID/stat"; }
run_wrk() {  # label package kind [duration]
  local log=$WORK/$1.txt token c0 c1
  token=$(token_of "$2")
  c0=$(cpu_ticks)
  TOKEN=$token IDS_FILE=$WORK/q-$3.txt PREFIX="$(base_of "$2")/" \
    wrk -t2 -c"$CONNS" -d"${4:-$DURATION}" --latency -s bench/get_random.lua "$ROOT" > "$log" 2>&1
  # Until the server is idle (the disclosure index has caught up with this run's answers; at
  # most 20 s): that work is this run's.
  c1=$(cpu_ticks)
  local previous=-1 waited=0
  while [ "$c1" -ne "$previous" ] && [ "$waited" -lt 40 ]; do
    previous=$c1
    sleep 0.5
    c1=$(cpu_ticks)
    waited=$((waited + 1))
  done
  # The server's CPU time per answer (user + system, clock ticks of 1/CLK_TCK s), in µs.
  local requests
  requests=$(awk '/requests in/ {print $1}' "$log")
  printf -v "cpu_$1" %s "$(awk -v t="$((c1 - c0))" -v hz="$(getconf CLK_TCK)" -v n="$requests" 'BEGIN {printf "%.1f", t * 1e6 / hz / n}')"
  local rps p99 non2xx
  rps=$(awk '/Requests\/sec/ {printf "%.0f", $2}' "$log")
  p99=$(awk '$1=="99%" {print $2}' "$log")
  non2xx=$(awk '/Non-2xx/ {print $5}' "$log")
  printf -v "rps_$1" %s "$rps"
  printf -v "p99_$1" %s "$p99"
  printf -v "bad_$1" %s "${non2xx:-0}"
  echo "$1 ($2 $3): $rps/s, p99 $p99, non-2xx ${non2xx:-0}, server CPU $(eval echo "\$cpu_$1") µs/answer"
}

echo "== 2. lookups"
pair_ratios=()
cpu_ratios=()
pair_rows=""
for i in $(seq "$PAIRS"); do
  if [ $((i % 2)) -eq 1 ]; then
    run_wrk "omh$i" offentlig-med-hjemmel lookup "$PAIR_DURATION"
    run_wrk "puh$i" privatutenhjemmel lookup "$PAIR_DURATION"
  else
    run_wrk "puh$i" privatutenhjemmel lookup "$PAIR_DURATION"
    run_wrk "omh$i" offentlig-med-hjemmel lookup "$PAIR_DURATION"
  fi
  r=$(awk -v a="$(eval echo "\$rps_puh$i")" -v b="$(eval echo "\$rps_omh$i")" 'BEGIN {printf "%.3f", a / b}')
  # The same at equal CPU: the med-hjemmel answer's CPU time over the package's.
  c=$(awk -v a="$(eval echo "\$cpu_omh$i")" -v b="$(eval echo "\$cpu_puh$i")" 'BEGIN {printf "%.3f", a / b}')
  pair_ratios+=("$r")
  cpu_ratios+=("$c")
  pair_rows+="| pair $i | $(eval echo "\$rps_omh$i")/s, $(eval echo "\$cpu_omh$i") µs | $(eval echo "\$rps_puh$i")/s, $(eval echo "\$cpu_puh$i") µs | $r | $c |
"
done
median_of() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
median=$(median_of "${pair_ratios[@]}")
cpu_median=$(median_of "${cpu_ratios[@]}")
run_wrk omh_f offentlig-med-hjemmel lookup
run_wrk finans finans lookup
run_wrk omh_e offentlig-med-hjemmel lookup
run_wrk eid eid lookup
echo "== 3. entydig søk"
run_wrk omh_entydig offentlig-med-hjemmel entydig
run_wrk uten_entydig presseutenfolkeregisteridentifikator entydig

echo "== 4. tailored extract: order -> ready"
extract() {  # label package
  local base token t0 first="" n=0 status
  base=$ROOT$(base_of "$2")
  token=$(token_of "$2")
  t0=$(now)
  local job
  job=$(curl -sf -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
    -d '{"personstatustyper":["aktiv","bosatt","utflyttet","doed","inaktiv"],"kommunenummer":{"bostedskommunenummer":"0301"}}' \
    "$base/uttrekk/tilpasset" | python3 -c 'import json,sys; print(json.load(sys.stdin)["jobbId"])')
  local ids=0
  while true; do
    status=$(curl -s -o "$WORK/batch.json" -w '%{http_code}' -H "Authorization: Bearer $token" \
      "$base/uttrekk/$job/batch/$n")
    if [ "$status" = 404 ]; then sleep 0.02; continue; fi
    [ "$status" = 200 ] || { echo "batch $n: $status" >&2; exit 1; }
    local count
    count=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1])).get("foedselsEllerDNummer", [])))' "$WORK/batch.json")
    [ "$count" -gt 0 ] || break
    [ -n "$first" ] || first=$(awk -v a="$t0" -v b="$(now)" 'BEGIN {printf "%.2f", b - a}')
    ids=$((ids + count))
    n=$((n + 1))
  done
  printf -v "first_$1" %s "$first"
  printf -v "last_$1" %s "$(awk -v a="$t0" -v b="$(now)" 'BEGIN {printf "%.2f", b - a}')"
  printf -v "ids_$1" %s "$ids"
  printf -v "batches_$1" %s "$n"
  echo "$1 ($2): $ids ids in $n batches, first batch after $first s, all after $(eval echo "\$last_$1") s"
}
extract x_omh offentlig-med-hjemmel
extract x_finans finans

ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a / b}'; }
cat > "$OUT/packages.md" <<MD
## Access packages — $(date -u +%Y-%m-%d), $(nproc) cores, $PERSONS persons

\`bash bench/packages.sh $PERSONS\` (seed 1; SQLite; wrk 2 threads, $CONNS connections, $DURATION
each, over $QUERIES random persons; tokens and the disclosure log on, as deployed).

GET personer/{id}, $PAIRS pairs of $PAIR_DURATION runs through offentlig-med-hjemmel and
privatutenhjemmel (the most restrictive package with lookups), in turns: odd pairs med hjemmel
first, even pairs the package first. A run's CPU is counted until the server is idle after it.

Each cell: requests/s and the server's CPU time per answer. "rate" is the package's requests/s
over med hjemmel's; "at equal CPU" is med hjemmel's CPU per answer over the package's (the rate
the package would have if both had the same CPU, which the machine's neighbours disturb less).

| | offentlig-med-hjemmel | privatutenhjemmel | rate | at equal CPU |
|---|---|---|---|---|
${pair_rows}| **median of the pairs** | | | **$median** | **$cpu_median** |

| GET personer/{id} ($DURATION runs) | requests/s | p99 | / the offentlig-med-hjemmel run before it |
|---|---|---|---|
| offentlig-med-hjemmel | $rps_omh_f | $p99_omh_f | 1.00 |
| finans | $rps_finans | $p99_finans | $(ratio "$rps_finans" "$rps_omh_f") |
| offentlig-med-hjemmel | $rps_omh_e | $p99_omh_e | 1.00 |
| eid | $rps_eid | $p99_eid | $(ratio "$rps_eid" "$rps_omh_e") |

| entydigsoek (number + name) through | requests/s | p99 | ratio |
|---|---|---|---|
| offentlig-med-hjemmel | $rps_omh_entydig | $p99_omh_entydig | 1.00 |
| presseutenfolkeregisteridentifikator | $rps_uten_entydig | $p99_uten_entydig | $(ratio "$rps_uten_entydig" "$rps_omh_entydig") |

| tailored extract (every status, bostedskommune 0301) through | ids | batches | order → first batch | order → last batch |
|---|---|---|---|---|
| offentlig-med-hjemmel | $ids_x_omh | $batches_x_omh | $first_x_omh s | $last_x_omh s |
| finans | $ids_x_finans | $batches_x_finans | $first_x_finans s | $last_x_finans s |

Non-2xx answers: $(for k in $(seq -f 'omh%g' "$PAIRS") $(seq -f 'puh%g' "$PAIRS") omh_f finans omh_e eid omh_entydig uten_entydig; do printf '%s %s; ' "$k" "$(eval echo "\$bad_$k")"; done)
MD
cat "$OUT/packages.md"
