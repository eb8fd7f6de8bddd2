#!/usr/bin/env bash
# deps.sh: install the Debian 12 packages pinpipe builds, tests and benchmarks with (if missing).
# usage: scripts/deps.sh [--no-servers] [--bench]
#   default       build + test packages, including the real servers the scale-out tests start
#                 (PostgreSQL, MariaDB) and their clients (kcat, awscli, npm for s3rver), and
#                 Chromium for the dashboard's browser test
#   --no-servers  only what building and the embedded default need (the quick start)
#   --bench       also wrk, nginx, hyperfine, bc, GNU time for bench/
set -euo pipefail
servers=1 bench=0
for a in "$@"; do
  case "$a" in
    --no-servers) servers=0 ;;
    --bench) bench=1 ;;
    *) echo "deps.sh: unknown option $a" >&2; exit 2 ;;
  esac
done
pkgs=(build-essential cmake pkg-config libmicrohttpd-dev libjsmn-dev libsqlite3-dev
      libcurl4-openssl-dev libssl-dev libgnutls28-dev libinih-dev libpq-dev librdkafka-dev libmariadb-dev sqlite3 python3 curl
      clang libclang-rt-14-dev) # clang + libFuzzer/ASan runtimes: scripts/fuzz.sh
# the build takes the dashboard's charting library from npm (web/package-lock.json); a machine
# may already have Node.js with its own npm (e.g. NodeSource): keep it
command -v npm >/dev/null || pkgs+=(nodejs npm)
if [ $servers = 1 ]; then
  pkgs+=(postgresql mariadb-server kcat awscli chromium python3-jinja2) # jinja2: airflow_dag.sh
fi
[ $bench = 1 ] && pkgs+=(wrk nginx-light hyperfine bc time)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "deps: installing ${missing[*]}" >&2
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
