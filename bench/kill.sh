#!/usr/bin/env bash
# Faults during producer writes, mailbox uploads and confirms (issue 15), then every answered
# write checked present exactly once and the feed without gaps or reuse (bench/kill.py says what
# is checked). Usage: bash bench/kill.sh [KILLS] (default 200)
#   - SQLite: `kill -9` of the server KILLS times at random points, a restart after each;
#   - PostgreSQL (a throwaway cluster, scripts/pg-cluster.sh): the server's connections to the
#     database cut KILLS times at random points (pg_terminate_backend), the server running on.
# Release build; everything listens on 127.0.0.1 (or the cluster's socket) and is stopped at the
# end. Writes bench/results/kill.md.
set -euo pipefail
cd "$(dirname "$0")/.."
KILLS=${1:-200}
OUT=bench/results
WORK=$(mktemp -d /tmp/norreg-killbench-XXXXXX)
PGDIR=$(mktemp -d /tmp/nrpg-XXXXXX)
mkdir -p "$OUT"
bash scripts/install-deps.sh >/dev/null
cmake --preset release >/dev/null
nice -n 19 cmake --build --preset release -j2 --target norreg >/dev/null
cleanup() {
  pkill -KILL -f "norreg serve --data $WORK" 2>/dev/null || true
  bash scripts/pg-cluster.sh stop "$PGDIR" >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT
DB=$(bash scripts/pg-cluster.sh start "$PGDIR")
status=0
{
  echo "## Faults during writes — $(date -u +%Y-%m-%d), $(nproc) cores"
  echo
  echo "\`bash bench/kill.sh $KILLS\` (release; 100 demo persons; three clients writing at once; a"
  echo "fault after a random 50–600 ms each round: SIGKILL of the server on SQLite, every database"
  echo "connection cut on PostgreSQL)."
  echo
} > "$OUT/kill.md"
python3 bench/kill.py "$PWD/build/release/norreg" "$WORK/sqlite" "$KILLS" 18731 \
  >> "$OUT/kill.md" || status=1
python3 bench/kill.py "$PWD/build/release/norreg" "$WORK/pg" "$KILLS" 18732 "$DB" |
  tail -1 >> "$OUT/kill.md" || status=1
cat "$OUT/kill.md"
exit $status
