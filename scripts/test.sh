#!/usr/bin/env bash
# test.sh: install what is missing, build, run the whole test suite (unit, cli, integration),
# then the unit and CLI tests again under AddressSanitizer + UBSan.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
scripts/build.sh
# No re-runs: a test that fails fails the run (a flake is a bug to find; under sanitizers a
# re-run would hide exactly what they catch). Flakes found so far had real causes and were
# fixed (libmicrohttpd's quiesce race aborting serve on SIGTERM; `| head` under pipefail ending
# a test; a counter read before the library bumped it; ASan's quarantine counted in an RSS bound).
(cd build && ctest --output-on-failure -j2 "$@")
scripts/fuzz.sh --time 15 --jobs 2 # every libFuzzer harness briefly (docs/FUZZING.md)
if [ "${PP_SKIP_SANITIZE:-0}" != 1 ]; then
  BUILD_DIR=build-asan BUILD_TYPE=Debug scripts/build.sh -DPP_SANITIZE=address,undefined
  (cd build-asan && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
     ctest --output-on-failure -j2 -L 'unit|cli' "$@") # no re-run: a sanitizer report is final
fi
