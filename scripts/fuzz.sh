#!/usr/bin/env bash
# fuzz.sh: build the libFuzzer harnesses (tests/fuzz, clang, build-fuzz/), build their seed
# corpora (scripts/fuzz_corpus.sh) and run each for a while. Every crash, leak, timeout or
# out-of-memory input is copied into tests/fuzz/regress/<name>/ (commit it: it becomes a
# regression test) and makes the exit status 1. Exit 0: nothing found. Runs one harness at a
# time; --jobs N runs that harness in N processes (libFuzzer -fork=N).
# usage: scripts/fuzz.sh [--time SECONDS] [--jobs N] [NAME...]
#   --time S       seconds per harness (default 60)
#   --jobs N       fuzzing processes per harness (default 1)
#   NAME           harnesses to run (default all: tests/fuzz/fuzz_<NAME>.c)
# Summary of each run (seconds, executions, execs/s, corpus size, findings): stdout and
# build-fuzz/fuzz-summary.txt.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=60 jobs=1 names=()
while [ $# -gt 0 ]; do
  case "$1" in
    --time) secs=$2; shift 2 ;;
    --jobs) jobs=$2; shift 2 ;;
    -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
    -*) echo "fuzz.sh: unknown option $1" >&2; exit 2 ;;
    *) names+=("$1"); shift ;;
  esac
done
if [ ${#names[@]} -eq 0 ]; then
  for f in tests/fuzz/fuzz_*.c; do n=${f##*/fuzz_}; names+=("${n%.c}"); done
fi
command -v clang >/dev/null || { echo "fuzz.sh: clang not found (scripts/deps.sh installs it)" >&2; exit 1; }

B=build-fuzz
cmake -S . -B $B -DCMAKE_C_COMPILER=clang -DPP_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build $B -j"$(nproc)" --target "${names[@]/#/fuzz_}" >/dev/null
scripts/fuzz_corpus.sh $B/corpus

# Largest input per harness: request bodies up to 1 MiB (serve's bodies are bigger, but the
# parsers are linear and 1 MiB keeps executions fast); smaller for the rest.
max_len() {
  case "$1" in
    fastapi|proxy|kinesis) echo 1048580 ;;
    json|s3xml) echo 262144 ;;
    clean|b64|log) echo 65536 ;;
    config) echo 16384 ;;
    cron) echo 256 ;;
    *) echo 65536 ;;
  esac
}
dict() {
  case "$1" in
    json|clean|fastapi|proxy|kinesis) echo tests/fuzz/dict/json.dict ;;
    s3xml) echo tests/fuzz/dict/xml.dict ;;
    cron) echo tests/fuzz/dict/cron.dict ;;
    config) echo tests/fuzz/dict/config.dict ;;
  esac
}

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
found=0 failed=0
summary=$B/fuzz-summary.txt
printf '%-8s %6s %12s %9s %7s %s\n' harness secs execs execs/s corpus findings | tee $summary
for name in "${names[@]}"; do
  bin=$B/fuzz_$name corpus=$B/corpus/$name art=$B/artifacts/$name
  regress=tests/fuzz/regress/$name
  mkdir -p "$corpus" "$art" "$regress"
  rm -f "$art"/*
  args=(-max_total_time="$secs" -max_len="$(max_len "$name")" -timeout=30 -rss_limit_mb=2048
        -print_final_stats=1 -artifact_prefix="$art/")
  d=$(dict "$name")
  [ -n "$d" ] && args+=(-dict="$d")
  [ "$jobs" -gt 1 ] && args+=(-fork="$jobs")
  log=$B/fuzz-$name.log
  start=$(date +%s)
  rc=0
  # new inputs go into the first folder (the corpus); the regression inputs are seeds too
  "$bin" "${args[@]}" "$corpus" "$regress" >"$log" 2>&1 || rc=$?
  took=$(( $(date +%s) - start ))
  n=0
  for f in "$art"/crash-* "$art"/leak-* "$art"/timeout-* "$art"/oom-*; do
    [ -f "$f" ] || continue
    n=$((n + 1))
    dup=""
    for r in "$regress"/*; do cmp -s "$f" "$r" && dup=$r && break; done
    if [ -n "$dup" ]; then # a regression input failing again
      echo "fuzz.sh: $name: finding ${f##*/} is $dup" >&2
      continue
    fi
    cp "$f" "$regress/"
    echo "fuzz.sh: $name: finding ${f##*/} -> $regress/" >&2
  done
  # executions: the final stats, or in fork mode (no final stats) the last status line's count
  execs=$(awk '/stat::number_of_executed_units/ {s += $2} END {print s + 0}' "$log")
  if [ "$execs" = 0 ]; then
    execs=$(awk 'match($0, /^#[0-9]+/) {n = substr($0, 2, RLENGTH - 1)} END {print n + 0}' "$log")
  fi
  rate=$(( took > 0 ? execs / took : 0 ))
  printf '%-8s %6s %12s %9s %7s %s\n' "$name" "$took" "${execs:-0}" "$rate" \
    "$(find "$corpus" -type f | wc -l)" "$n" | tee -a $summary
  if [ "$n" -gt 0 ]; then
    found=$((found + n))
    grep -a -m3 -E 'ERROR|invariant failed|SUMMARY' "$log" >&2 || true
  elif [ "$rc" -ne 0 ]; then
    echo "fuzz.sh: $name exited $rc without an artifact; see $log" >&2
    tail -20 "$log" >&2
    failed=1
  fi
done
if [ $found -gt 0 ]; then
  echo "fuzz.sh: $found finding(s) copied into tests/fuzz/regress/ (logs: $B/fuzz-*.log)" >&2
  exit 1
fi
exit $failed
