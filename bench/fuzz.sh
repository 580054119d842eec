#!/usr/bin/env bash
# Every libFuzzer target (tests/fuzz/*_fuzz.cpp), built with clang, ASan + UBSan and optimised
# (the `fuzz` preset at RelWithDebInfo), run from its seed corpus for RUNS executions each
# (default 1 000 000), with -timeout=TIMEOUT seconds per input (default 1: a quadratic path on a
# large input fails) and at most MAX_TIME seconds per target. Usage: bash bench/fuzz.sh [TARGET…]
# Writes bench/results/fuzz.md: executions, seconds, executions/s, corpus before and after,
# crashes and timeouts per target. New inputs go to a scratch copy of the corpus, not the repo
# (add one to tests/fuzz/corpus/<target>/ by hand when it is worth keeping as a regression test).
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-1000000}
TIMEOUT=${TIMEOUT:-1}
MAX_TIME=${MAX_TIME:-600}
OUT=bench/results
WORK=$(mktemp -d /tmp/norreg-fuzz-XXXXXX)
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$OUT"
bash scripts/install-deps.sh >/dev/null
if [ $# -gt 0 ]; then
  targets=("$@")
else
  targets=()
  for src in tests/fuzz/*_fuzz.cpp; do targets+=("$(basename "$src" .cpp)"); done
fi
cmake --preset fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
nice cmake --build --preset fuzz -j2 --target "${targets[@]}" >/dev/null
BIN=build/fuzz/tests/fuzz

{
  echo "## Fuzzing — $(date -u +%Y-%m-%d), $(nproc) cores"
  echo
  echo "\`bash bench/fuzz.sh\` (clang $(clang++ --version | head -1 | sed 's/.*version //'), ASan + UBSan, RelWithDebInfo;"
  echo "-runs=$RUNS, -timeout=$TIMEOUT s per input, at most $MAX_TIME s per target)."
  echo
  echo "| target | executions | seconds | executions/s | corpus (seeds → after) | crashes | timeouts |"
  echo "|---|---|---|---|---|---|---|"
} > "$OUT/fuzz.md"

failed=0
for t in "${targets[@]}"; do
  corpus="$WORK/$t"
  mkdir -p "$corpus" "$WORK/artifacts-$t"
  cp tests/fuzz/corpus/"$t"/* "$corpus"/ 2>/dev/null || true
  seeds=$(find "$corpus" -type f | wc -l)
  log="$WORK/$t.log"
  status=0
  "$BIN/$t" "$corpus" -runs="$RUNS" -timeout="$TIMEOUT" -max_total_time="$MAX_TIME" \
    -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$WORK/artifacts-$t/" \
    > "$log" 2>&1 || status=$?
  runs=$(awk '/stat::number_of_executed_units/ {print $2}' "$log" | tail -1)
  secs=$(awk '/Done [0-9]+ runs in/ {print $(NF-1)}' "$log" | tail -1)
  secs=${secs:-$MAX_TIME}
  after=$(find "$corpus" -type f | wc -l)
  crashes=$(find "$WORK/artifacts-$t" -name 'crash-*' -o -name 'leak-*' -o -name 'oom-*' | wc -l)
  timeouts=$(find "$WORK/artifacts-$t" -name 'timeout-*' | wc -l)
  if [ "$status" -ne 0 ] && [ "$crashes" -eq 0 ] && [ "$timeouts" -eq 0 ]; then crashes="exit $status"; fi
  rate=$(awk -v r="${runs:-0}" -v s="$secs" 'BEGIN {printf "%.0f", (s > 0 ? r / s : 0)}')
  echo "| $t | ${runs:-0} | $secs | $rate | $seeds → $after | $crashes | $timeouts |" >> "$OUT/fuzz.md"
  echo "$t: ${runs:-0} runs in $secs s, crashes $crashes, timeouts $timeouts"
  if [ "$status" -ne 0 ]; then
    failed=1
    mkdir -p "$OUT/fuzz-artifacts"
    cp "$WORK/artifacts-$t"/* "$OUT/fuzz-artifacts/" 2>/dev/null || true
    tail -40 "$log" > "$OUT/fuzz-artifacts/$t.log"
  fi
done
cat "$OUT/fuzz.md"
exit "$failed"
