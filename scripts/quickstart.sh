#!/usr/bin/env bash
# quickstart.sh: install what is missing, build, and run the main job (`pinpipe demo`).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh --no-servers
scripts/build.sh
exec build/pinpipe demo "$@"
