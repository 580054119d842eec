#!/usr/bin/env bash
# Installs what is needed, builds with ASan + UBSan (the `dev` preset) and runs every test:
# unit tests and functional tests against the real binary.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
cmake --preset dev >/dev/null
cmake --build --preset dev -j "$(nproc)"
ctest --preset dev -j "$(nproc)" "$@"
