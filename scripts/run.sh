#!/usr/bin/env bash
# Quick start: installs what is needed, builds the release binary and starts `norreg serve` on the
# embedded default (SQLite register in ./data, generated with a demo population on first start).
# Extra arguments go to `norreg serve` (e.g. --listen 127.0.0.1:9090 --demo-persons 100000).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
cmake --preset release >/dev/null
cmake --build --preset release --target norreg
exec build/release/norreg serve "$@"
