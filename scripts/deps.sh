#!/usr/bin/env bash
# deps.sh: install the Debian 12 packages pinpipe builds, tests and benchmarks with (if missing).
set -euo pipefail
pkgs=(build-essential cmake pkg-config libmicrohttpd-dev libjsmn-dev libsqlite3-dev
      libcurl4-openssl-dev sqlite3 python3 curl)
[ "${1:-}" = "--bench" ] && pkgs+=(wrk nginx-light hyperfine bc time)
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
