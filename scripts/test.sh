#!/usr/bin/env bash
# Installs what is needed, builds with ASan + UBSan (the `dev` preset) and runs every test:
# unit tests and functional tests against the real binary. The PostgreSQL store's tests run
# against a throwaway cluster started here (scripts/pg-cluster.sh) and stopped at the end, unless
# NORREG_TEST_PG already names a server.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
cmake --preset dev >/dev/null
cmake --build --preset dev -j "$(nproc)"
if [ -z "${NORREG_TEST_PG:-}" ]; then
  pg_dir=$(mktemp -d "${TMPDIR:-/tmp}/norreg-pg.XXXXXX")
  trap 'bash scripts/pg-cluster.sh stop "$pg_dir"' EXIT
  NORREG_TEST_PG=$(bash scripts/pg-cluster.sh start "$pg_dir")
  export NORREG_TEST_PG
fi
ctest --preset dev -j "$(nproc)" "$@"
