#!/usr/bin/env bash
# quickstart.sh: install what is missing, build, and run the main job (`pinpipe demo`).
# The build's output goes to build/quickstart-build.log, shown only when the build fails.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh --no-servers
mkdir -p build
log=build/quickstart-build.log
echo "quickstart: building (log: $log) ..." >&2
if ! scripts/build.sh >"$log" 2>&1; then
  cat "$log" >&2
  echo "quickstart: the build failed (above, and in $log)" >&2
  exit 1
fi
exec build/pinpipe demo "$@"
