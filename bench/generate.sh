#!/usr/bin/env bash
# `norreg generate` into SQLite and into PostgreSQL, in turns. Usage:
#   bash bench/generate.sh [PERSONS] [RUNS]      (default 1 000 000 persons, 3 runs of each)
# With BASELINE_BIN=/path/to/an/older/norreg, that binary's PostgreSQL generation runs in the
# same turns (baseline, this build, SQLite; the order rotates each run), so a change is measured
# against what it replaces on the same machine in the same minutes. Each run generates into an
# empty store (seed 1): persons/s including the search index and every key, and the PostgreSQL
# server's log of the index builds. PostgreSQL is a throwaway cluster (scripts/pg-cluster.sh) on a
# Unix socket with the settings of bench/postgres.sh. Writes bench/results/generate.md.
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/measure.sh  # now, secs
PERSONS=${1:-1000000}
RUNS=${2:-3}
OUT=bench/results
WORK=$(mktemp -d /tmp/norreg-genbench-XXXXXX)
PGDIR=$(mktemp -d /tmp/nrpg-XXXXXX)
mkdir -p "$OUT"
bash scripts/install-deps.sh >/dev/null
cmake --preset release >/dev/null
nice -n 19 cmake --build --preset release -j2 --target norreg >/dev/null
BIN=$PWD/build/release/norreg
cleanup() {
  bash scripts/pg-cluster.sh stop "$PGDIR" >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT
DB=$(PG_CLUSTER_CONF="shared_buffers = ${PG_SHARED_BUFFERS:-2GB}
max_wal_size = 8GB
checkpoint_timeout = 30min
maintenance_work_mem = 512MB
log_min_duration_statement = 1000" bash scripts/pg-cluster.sh start "$PGDIR")
rate() { awk -v n="$1" -v s="$2" 'BEGIN {printf "%.0f", n / s}'; }
median() { sort -n | awk '{a[NR] = $1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }

# run KIND BINARY: one generation; prints its seconds.
run() {
  local kind=$1 bin=$2 t0 t1
  if [ "$kind" = sqlite ]; then
    rm -rf "$WORK/sqlite"
    t0=$(now); "$bin" generate --quiet --data "$WORK/sqlite" --persons "$PERSONS" --seed 1 >/dev/null
  else
    psql -X -q "$DB" -c "DROP SCHEMA public CASCADE; CREATE SCHEMA public" >/dev/null 2>&1
    t0=$(now); "$bin" generate --quiet --data "$WORK/pg" --db "$DB" --persons "$PERSONS" --seed 1 >/dev/null
  fi
  t1=$(now); secs "$t0" "$t1"
}

kinds=(sqlite postgres)
[ -n "${BASELINE_BIN:-}" ] && kinds=(baseline postgres sqlite)
declare -A times
for ((r = 0; r < RUNS; r++)); do
  n=${#kinds[@]}
  for ((k = 0; k < n; k++)); do
    kind=${kinds[$(((k + r) % n))]}
    case $kind in
      baseline) s=$(run postgres "$BASELINE_BIN") ;;
      *) s=$(run "$kind" "$BIN") ;;
    esac
    times[$kind]="${times[$kind]:-} $s"
    echo "run $((r + 1)) $kind: $s s ($(rate "$PERSONS" "$s") persons/s)"
  done
done

{
  echo "# norreg generate, $PERSONS persons, $RUNS runs each in turns ($(date -u +%Y-%m-%d), $(nproc) cores)"
  echo
  echo "| store | runs (s) | median | persons/s (median) |"
  echo "|---|---|---|---|"
  for kind in "${kinds[@]}"; do
    m=$(echo "${times[$kind]}" | tr ' ' '\n' | grep . | median)
    label=$kind
    [ "$kind" = baseline ] && label="postgres, $BASELINE_BIN"
    echo "| $label | ${times[$kind]# } | $m | $(rate "$PERSONS" "$m") |"
  done
  echo
  echo "PostgreSQL statements over 1 s (last run):"
  echo
  grep -ho "duration: [0-9.]* ms .*" "$PGDIR"/postgres.log | tail -8 | cut -c1-120 | sed 's/^/    /'
} | tee "$OUT/generate.md"
