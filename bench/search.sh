#!/usr/bin/env bash
# Person search (docs/search.md) on SQLite and on PostgreSQL. Usage: bash bench/search.sh [PERSONS]
#  1. generate PERSONS persons (default 1 000 000) into SQLite and into PostgreSQL: persons/s with
#     the search index, and the index's bytes beside the register's;
#  2. serve each store as deployed (tokens, disclosure log), and with wrk (2 threads,
#     16 connections, DURATION) in the same run:
#       GET personer/{id} (the reference), personer/soek with navn + foedselsdato, with
#       adressenavn prefix + postnummer, with navn + soekFonetisk, and personer/entydigsoek with
#       navn + foedselsdato — each over QUERIES random persons of the register.
# PostgreSQL is a throwaway cluster (scripts/pg-cluster.sh) on a Unix socket. Writes
# bench/results/search.md. Everything listens on 127.0.0.1 (or the socket) and is stopped at the
# end.
set -euo pipefail
cd "$(dirname "$0")/.."
PERSONS=${1:-1000000}
DURATION=${DURATION:-15s}
QUERIES=${QUERIES:-2000}
CONNS=${CONNS:-16}
OUT=bench/results
WORK=$(mktemp -d /tmp/norreg-searchbench-XXXXXX)
PGDIR=$(mktemp -d /tmp/nrpg-XXXXXX)
mkdir -p "$OUT"
bash scripts/install-deps.sh >/dev/null
cmake --preset release >/dev/null
nice -n 19 cmake --build --preset release -j2 --target norreg >/dev/null
BIN=$PWD/build/release/norreg
API=/folkeregisteret/offentlig-med-hjemmel/api/v1
SERVER_PID=
cleanup() {
  [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null || true
  wait 2>/dev/null || true
  bash scripts/pg-cluster.sh stop "$PGDIR" >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT
DB=$(PG_CLUSTER_CONF="shared_buffers = ${PG_SHARED_BUFFERS:-2GB}
max_wal_size = 8GB
maintenance_work_mem = 512MB" bash scripts/pg-cluster.sh start "$PGDIR")
psql_q() { psql -X -A -t -q "$DB" -c "$1"; }
now() { date +%s.%N; }
rate() { awk -v n="$1" -v a="$2" -v b="$3" 'BEGIN {printf "%.0f", n / (b - a)}'; }

generate() {  # name [--db DB]
  local t0 t1
  t0=$(now)
  "$BIN" generate --quiet --data "$WORK/$1" "${@:2}" --persons "$PERSONS" --seed 1 >/dev/null
  t1=$(now)
  printf -v "gen_$1" %s "$(rate "$PERSONS" "$t0" "$t1")"
  echo "$1: generated $PERSONS persons at $(eval echo "\$gen_$1") persons/s"
}

echo "== 1. generate"
generate sqlite
generate pg --db "$DB"
# Index bytes beside the register's. SQLite: dbstat of the index tables and of the register's.
# PostgreSQL: the GIN index and the terms column, beside the register's tables without them.
sq_index=$(sqlite3 "$WORK/sqlite/register.db" \
  "SELECT sum(pgsize) FROM dbstat WHERE name IN ('search_postings','search_terms_load')")
sq_register=$(sqlite3 "$WORK/sqlite/register.db" \
  "SELECT sum(pgsize) FROM dbstat WHERE name IN ('persons','identifiers','versions','meta')")
psql_q "VACUUM ANALYZE persons" >/dev/null
# Write the load out now: a checkpoint spread over the next minutes would compete for the disk
# with the SQLite rows' disclosure flushes (p99 spikes of 26-50 ms there).
psql_q "CHECKPOINT" >/dev/null
sync
pg_index=$(psql_q "SELECT pg_relation_size('persons_search') + (SELECT sum(pg_column_size(search_terms)) FROM persons)")
pg_register=$(psql_q "SELECT pg_total_relation_size('persons') + pg_total_relation_size('identifiers') + pg_total_relation_size('versions') + pg_total_relation_size('meta') - ($pg_index)")
pct() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.0f", 100 * a / b}'; }
mb() { awk -v a="$1" 'BEGIN {printf "%.0f", a / 1048576}'; }
echo "index: SQLite $(mb "$sq_index") MB of $(mb "$sq_register") MB ($(pct "$sq_index" "$sq_register") %)," \
  "PostgreSQL $(mb "$pg_index") MB of $(mb "$pg_register") MB ($(pct "$pg_index" "$pg_register") %)"

serve() {  # data [--db DB]
  "$BIN" serve --data "$1" "${@:2}" --listen 127.0.0.1:18480 --access-log false \
    --log-level warn --token-lifetime 3600 --rate-limit 100000000 > "$WORK/server.log" 2>&1 &
  SERVER_PID=$!
  for _ in $(seq 300); do curl -sf http://127.0.0.1:18480/health/ready >/dev/null && break; sleep 0.1; done
  TOKEN=$("$BIN" token --data "$1" --no-cache --scope folkeregister:deling/offentligmedhjemmel)
  export TOKEN
}
stop_server() { kill "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null || true; SERVER_PID=; }

# QUERIES random persons' numbers, names, birth dates and addresses (from the register itself,
# through a bulk lookup) -> one file of request paths per query kind.
make_queries() {
  local base=http://127.0.0.1:18480$API
  curl -sf -H "Authorization: Bearer $TOKEN" "$base/hendelser/feed?seq=1" > "$WORK/feed.json"
  python3 - "$WORK" "$QUERIES" "$PERSONS" <<'PY'
import json, random, subprocess, sys, urllib.parse, os
work, count, persons = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
random.seed(1)
# Numbers from the feed's pages at random places of the register's history.
token = os.environ["TOKEN"]
api = "http://127.0.0.1:18480/folkeregisteret/offentlig-med-hjemmel/api/v1"
numbers = set()
while len(numbers) < count:
    seq = random.randint(1, persons)
    page = json.loads(subprocess.check_output(
        ["curl", "-sf", "-H", "Authorization: Bearer " + token, f"{api}/hendelser/feed?seq={seq}"]))
    for e in page[:50]:
        numbers.add(e["hendelse"]["folkeregisteridentifikator"])
numbers = sorted(numbers)[:count]
body = json.dumps({"foedselsEllerDNummer": numbers[:1000]})
docs = []
for i in range(0, len(numbers), 1000):
    body = json.dumps({"foedselsEllerDNummer": numbers[i:i + 1000]})
    answer = subprocess.check_output(
        ["curl", "-sf", "-H", "Authorization: Bearer " + token, "-H", "Content-Type: application/json",
         "-d", body, f"{api}/personer/bulkoppslag?part=navn&part=foedsel&part=bostedsadresse"])
    docs += json.loads(answer)["oppslag"]
q = urllib.parse.quote
out = {k: open(f"{work}/q-{k}.txt", "w") for k in ("lookup", "navn_dato", "adresse", "fonetisk", "entydig")}
for d in docs:
    p = d["folkeregisterperson"]
    fnr = d["foedselsEllerDNummer"]
    out["lookup"].write(f"personer/{fnr}\n")
    navn = p.get("navn", [{}])[0]
    full = f"{navn.get('fornavn', '')} {navn.get('etternavn', '')}".strip()
    dato = p.get("foedsel", [{}])[0].get("foedselsdato", "").replace("-", "")
    if full and dato:
        out["navn_dato"].write(f"personer/soek?navn={q(full)}&foedselsdato={dato}\n")
        out["entydig"].write(f"personer/entydigsoek?navn={q(full)}&foedselsdato={dato}\n")
        out["fonetisk"].write(f"personer/soek?navn={q(full)}&soekFonetisk=true\n")
    veg = (p.get("bostedsadresse") or [{}])[0].get("vegadresse")
    if veg and veg.get("adressenavn") and veg.get("poststed"):
        out["adresse"].write(f"personer/soek?adressenavn={q(veg['adressenavn'][:5])}"
                             f"&postnummer={veg['poststed']['postnummer']}\n")
for f in out.values():
    f.close()
PY
  wc -l "$WORK"/q-*.txt | sed 's/^/  /'
}

run_wrk() {  # store kind
  IDS_FILE=$WORK/q-$2.txt PREFIX="$API/" wrk -t2 -c"$CONNS" -d"$DURATION" --latency \
    -s bench/get_random.lua http://127.0.0.1:18480 > "$WORK/$1-$2.txt" 2>&1
  local rps p99 non2xx
  rps=$(awk '/Requests\/sec/ {printf "%.0f", $2}' "$WORK/$1-$2.txt")
  p99=$(awk '$1=="99%" {print $2}' "$WORK/$1-$2.txt")
  non2xx=$(awk '/Non-2xx/ {print $5}' "$WORK/$1-$2.txt")
  printf -v "rps_$1_$2" %s "$rps"
  printf -v "p99_$1_$2" %s "$p99"
  printf -v "bad_$1_$2" %s "${non2xx:-0}"
  echo "$1 $2: $rps/s, p99 $p99, non-2xx ${non2xx:-0}"
}

measure() {  # store data [--db DB]
  serve "$2" "${@:3}"
  make_queries
  for kind in lookup navn_dato adresse fonetisk entydig; do run_wrk "$1" "$kind"; done
  stop_server
}

echo "== 2. SQLite"
measure sqlite "$WORK/sqlite"
echo "== 3. PostgreSQL"
measure pg "$WORK/pg" --db "$DB"

ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a / b}'; }
row() {  # label kind
  echo "| $1 | $(eval echo "\$rps_sqlite_$2")/s, p99 $(eval echo "\$p99_sqlite_$2") | $(eval echo "\$rps_pg_$2")/s, p99 $(eval echo "\$p99_pg_$2") |"
}
cat > "$OUT/search.md" <<MD
## Person search — $(date -u +%Y-%m-%d), $(nproc) cores, $PERSONS persons

\`bash bench/search.sh $PERSONS\` (seed 1; wrk 2 threads, $CONNS connections, $DURATION each, over
$QUERIES random persons; tokens and the disclosure log on, as deployed).

| measure | SQLite | PostgreSQL |
|---|---|---|
| generate with the search index | $gen_sqlite persons/s | $gen_pg persons/s |
| index bytes / register bytes | $(mb "$sq_index") / $(mb "$sq_register") MB ($(pct "$sq_index" "$sq_register") %) | $(mb "$pg_index") / $(mb "$pg_register") MB ($(pct "$pg_index" "$pg_register") %) |
$(row 'GET personer/{id} (reference)' lookup)
$(row 'soek navn + foedselsdato' navn_dato)
$(row 'soek adressenavn prefix + postnummer' adresse)
$(row 'soek navn + soekFonetisk' fonetisk)
$(row 'entydigsoek navn + foedselsdato' entydig)
| entydigsoek / lookup | $(ratio "$rps_sqlite_entydig" "$rps_sqlite_lookup") | $(ratio "$rps_pg_entydig" "$rps_pg_lookup") |

Non-2xx answers (400 for a search of more than 10 000 hits, 404 for entydig søk of a name and
birth date that two persons share): $(for s in sqlite pg; do for k in navn_dato adresse fonetisk entydig; do printf '%s/%s %s; ' "$s" "$k" "$(eval echo "\$bad_${s}_$k")"; done; done)
MD
cat "$OUT/search.md"
