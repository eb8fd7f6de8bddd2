#!/usr/bin/env bash
# test.sh: install what is missing, build, run the whole test suite (unit, cli, integration),
# then the unit and CLI tests again under AddressSanitizer + UBSan.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
scripts/build.sh
# A test that fails is run once more (ctest --repeat until-pass:2); a second failure fails the
# run, and the first failure's output stays in the log. Why: the CI machine has 2 cores and the
# crash/integration tests are timing-sensitive under load. Flakes found so far had real causes
# and were fixed (libmicrohttpd's quiesce race aborting serve on SIGTERM; `| head` under
# pipefail ending a test); one pg_warehouse failure under heavy load is still unexplained.
# Every test that needed the re-run is named at the end (a flake is a bug to find, not to hide).
(cd build && ctest --output-on-failure -j2 --repeat until-pass:2 "$@" 2>&1 | tee ctest-main.log)
rerun=$(grep -E '^ *[0-9]+/[0-9]+ Test +#[0-9]+: .*\*\*\*(Failed|Timeout|Exception)' build/ctest-main.log |
  sed -E 's/.*Test +#[0-9]+: ([^ ]+) .*/\1/' | sort -u || true)
[ -z "$rerun" ] || echo "test.sh: passed only when re-run (investigate): $(echo $rerun)" >&2
scripts/fuzz.sh --time 15 --jobs 2 # every libFuzzer harness briefly (docs/FUZZING.md)
if [ "${PP_SKIP_SANITIZE:-0}" != 1 ]; then
  BUILD_DIR=build-asan BUILD_TYPE=Debug scripts/build.sh -DPP_SANITIZE=address,undefined
  (cd build-asan && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
     ctest --output-on-failure -j2 -L 'unit|cli' "$@") # no re-run: a sanitizer report is final
fi
