# s3.bash: start/stop an S3 API server (npm s3rver, pinned in tests/s3/package.json) on a free
# loopback port for the S3 lake tests (sourced). pp_s3_start DIR [BUCKET]: runs `npm ci` here
# if node_modules is missing, starts s3rver with data in DIR and BUCKET (default lake)
# created (its request log in DIR/s3rver.log, its port S3_SERVER_PORT), and in front of it
# verify_proxy.py, which refuses (403 SignatureDoesNotMatch...) any request whose SigV4
# signature AWS S3 would refuse (s3rver itself is lenient; its log in DIR/verify.log): S3_URL
# and S3_PORT name the proxy, so every S3 test talks to a strict endpoint. Exports the AWS_*
# variables of s3rver's default credentials (S3RVER/S3RVER) for pinpipe and awscli.
# pp_s3_stop kills them all (also call it in a trap). PP_S3_PY: a python3 with botocore.
# Exits 77 (skip) only when node, npm or botocore are absent.
PP_S3_HOME=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
S3_PID=

pp_s3_start() {
  local dir=$1 bucket=${2:-lake}
  if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    echo "SKIP: node/npm not installed (needed for the s3rver test server)" >&2; exit 77
  fi
  # a python3 with botocore: pip's, or Debian 12's awscli 2 (which carries it, /usr/bin/python3)
  local py
  for py in python3 /usr/bin/python3 ""; do
    [ -n "$py" ] && "$py" -c 'import importlib.util as u, sys
u.find_spec("botocore") or __import__("awscli"); import botocore.auth' 2>/dev/null && break
  done
  [ -n "$py" ] || { echo "SKIP: no python3 with botocore (needed by verify_proxy.py)" >&2; exit 77; }
  PP_S3_PY=$py
  if [ ! -x "$PP_S3_HOME/node_modules/.bin/s3rver" ]; then
    # tests run in parallel (ctest -j): one npm ci at a time, the others wait and reuse it
    (cd "$PP_S3_HOME" && flock .npm-install.lock sh -c \
      '[ -x node_modules/.bin/s3rver ] || npm ci --no-audit --no-fund' >&2) \
      || { echo "FAIL: npm ci in $PP_S3_HOME" >&2; exit 1; }
  fi
  mkdir -p "$dir/data"
  S3_SERVER_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  # s3rver 3.7 makes ListObjectsV2 continuation tokens with DES: OpenSSL 3 needs the legacy provider
  node --openssl-legacy-provider "$PP_S3_HOME/node_modules/.bin/s3rver" -d "$dir/data" -p "$S3_SERVER_PORT" -a 127.0.0.1 \
    --configure-bucket "$bucket" >"$dir/s3rver.log" 2>&1 &
  S3_PID=$!
  local server=http://127.0.0.1:$S3_SERVER_PORT
  export AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER AWS_REGION=us-east-1
  export AWS_DEFAULT_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true AWS_PAGER=
  unset AWS_SESSION_TOKEN AWS_PROFILE AWS_ENDPOINT_URL AWS_ENDPOINT_URL_S3
  local i
  for i in $(seq 1 300); do
    if curl -s -o /dev/null "$server/"; then
      pp_s3_verify "$dir" verify
      S3_URL=$S3_VERIFY_URL
      S3_PORT=${S3_URL##*:}
      return 0
    fi
    kill -0 "$S3_PID" 2>/dev/null || { cat "$dir/s3rver.log" >&2; echo "FAIL: s3rver exited" >&2; exit 1; }
    sleep 0.05
  done
  cat "$dir/s3rver.log" >&2; echo "FAIL: s3rver did not listen on $server" >&2; exit 1
}

# pp_s3_verify DIR NAME [ARGS...]: start one more verify_proxy.py in front of s3rver (log
# DIR/NAME.log; ARGS as verify_proxy.py's, default --key S3RVER:S3RVER, e.g. --token T to
# require a session token); sets S3_VERIFY_URL. pp_s3_stop stops them all.
S3_VERIFY_PIDS=()
pp_s3_verify() {
  local dir=$1 name=$2 i; shift 2
  [ $# -gt 0 ] || set -- --key S3RVER:S3RVER
  rm -f "$dir/$name.port"
  "$PP_S3_PY" "$PP_S3_HOME/verify_proxy.py" "$S3_SERVER_PORT" "$dir/$name.port" "$@" \
    2>"$dir/$name.log" &
  S3_VERIFY_PIDS+=($!)
  for i in $(seq 1 200); do [ -s "$dir/$name.port" ] && break; sleep 0.05; done
  [ -s "$dir/$name.port" ] || { cat "$dir/$name.log" >&2; echo "FAIL: verify_proxy did not start" >&2; exit 1; }
  S3_VERIFY_URL=http://127.0.0.1:$(cat "$dir/$name.port")
}

pp_s3_stop() {
  pp_s3_faulty_stop
  local p
  for p in "${S3_VERIFY_PIDS[@]:-}"; do
    [ -n "$p" ] && { kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; }
  done
  S3_VERIFY_PIDS=()
  if [ -n "${S3_PID:-}" ]; then
    kill "$S3_PID" 2>/dev/null || true
    wait "$S3_PID" 2>/dev/null || true
    S3_PID=
  fi
}

# pp_aws ARGS...: the independent client, awscli, pointed at the test server.
pp_aws() { aws --endpoint-url "$S3_URL" "$@"; }

# pp_s3_faulty DIR [N] [M]: start faulty_proxy.py in front of S3_URL (the verifying proxy, then
# the server: 503 SlowDown on every Nth request, a dropped connection on every Mth); sets
# S3_FAULTY_URL and S3_FAULTY_PID.
pp_s3_faulty() {
  local dir=$1 i
  rm -f "$dir/proxy.port"
  python3 "$PP_S3_HOME/faulty_proxy.py" "$S3_PORT" "$dir/proxy.port" --slowdown "${2:-5}" \
    --drop "${3:-7}" 2>"$dir/proxy.log" &
  S3_FAULTY_PID=$!
  for i in $(seq 1 200); do [ -s "$dir/proxy.port" ] && break; sleep 0.05; done
  [ -s "$dir/proxy.port" ] || { echo "FAIL: faulty proxy did not start" >&2; exit 1; }
  S3_FAULTY_URL=http://127.0.0.1:$(cat "$dir/proxy.port")
}

pp_s3_faulty_stop() {
  if [ -n "${S3_FAULTY_PID:-}" ]; then
    kill "$S3_FAULTY_PID" 2>/dev/null || true
    wait "$S3_FAULTY_PID" 2>/dev/null || true
    S3_FAULTY_PID=
  fi
}
