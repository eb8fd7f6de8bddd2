#!/bin/sh
# install.sh: `npm ci` in web/ when node_modules is missing or older than package-lock.json
# (the build runs it before embedding the charting library). Parallel builds share one
# node_modules: one installs at a time, the others wait and reuse it.
set -eu
cd "$(dirname "$0")"
fresh() {
  [ -f node_modules/chart.js/dist/chart.umd.min.js ] && [ -f node_modules/.package-lock.json ] &&
    [ ! package-lock.json -nt node_modules/.package-lock.json ]
}
fresh && exit 0
if ! command -v npm >/dev/null 2>&1; then
  echo "web/install.sh: npm is missing (the dashboard embeds chart.js from npm): run scripts/deps.sh" >&2
  exit 1
fi
exec 9>.npm-install.lock
flock 9
fresh && exit 0
npm ci --no-audit --no-fund --loglevel=error >&2
