#!/usr/bin/env bash
# unreachable.sh: every command that opens Kafka, S3 or PostgreSQL fails within a bound when
# the service cannot be reached (issue 12 item 5): exit 1 (not killed by `timeout`), within 3x
# --connect-timeout, one line on stderr naming the service and what to check, and never a raw
# librdkafka line ("%3|...") nor its "[thrd:...]" log lines. Each service twice: refused
# (nothing listens on 127.0.0.1:1) and silent (a python listener that accepts and never
# answers: a hung server or a firewall that lets the SYN through); PostgreSQL also hung after
# a completed startup. Last, `status` against a silent Kafka without the option shows the
# default bound (10 s).
set -euo pipefail
: "${PINPIPE:?PINPIPE must name the built pinpipe binary}"
command -v python3 >/dev/null || { echo "SKIP: python3 missing" >&2; exit 77; }

TMP=$(mktemp -d /tmp/pinpipe-unreach.XXXXXX)
LISTENER_PIDS=()
cleanup() {
  for p in "${LISTENER_PIDS[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null || true; done
  rm -rf "$TMP" || true
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

# listener.py MODE PORTFILE: silent: accepts every connection, reads nothing, answers
# nothing; pg-hung: a PostgreSQL server that completes the startup (no TLS, no password:
# AuthenticationOk, ReadyForQuery) and then never answers a query.
cat >"$TMP/listener.py" <<'PY'
import os, socket, struct, sys, threading
mode, portfile = sys.argv[1], sys.argv[2]
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 0))
s.listen(128)
with open(portfile + ".tmp", "w") as f:
    f.write("%d\n" % s.getsockname()[1])
os.rename(portfile + ".tmp", portfile)
held = []
def startup(c):
    def read(n):
        b = b""
        while len(b) < n:
            x = c.recv(n - len(b))
            if not x:
                raise EOFError
            b += x
        return b
    try:
        while True:
            n, code = struct.unpack("!ii", read(8))
            if code in (80877103, 80877104):  # SSLRequest, GSSENCRequest: refused
                c.sendall(b"N")
                continue
            read(n - 8)
            c.sendall(b"R" + struct.pack("!ii", 8, 0) + b"Z" + struct.pack("!i", 5) + b"I")
            return
    except EOFError:
        pass
while True:
    c = s.accept()[0]
    held.append(c)
    if mode == "pg-hung":
        threading.Thread(target=startup, args=(c,), daemon=True).start()
PY
listener() { # MODE: start one, print its address
  python3 "$TMP/listener.py" "$1" "$TMP/$1.port" &
  LISTENER_PIDS+=($!)
  for _ in $(seq 1 100); do [ -s "$TMP/$1.port" ] && break; sleep 0.05; done
  [ -s "$TMP/$1.port" ] || fail "$1 listener did not start"
}
listener silent
listener pg-hung
SILENT=127.0.0.1:$(cat "$TMP/silent.port")
PG_HUNG=127.0.0.1:$(cat "$TMP/pg-hung.port")
REFUSED=127.0.0.1:1

# no configuration file or PINPIPE_* variable of the caller's may change what is tested
cd "$TMP"
for v in $(env | sed -n 's/^\(PINPIPE_[A-Z0-9_]*\)=.*/\1/p'); do
  [ "$v" = PINPIPE ] || unset "$v"
done
export PINPIPE_CONFIG=/dev/null AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test NO_COLOR=1
unset AWS_ENDPOINT_URL AWS_ENDPOINT_URL_S3 AWS_PROFILE || true

# a data dir whose embedded log exists (stream and lake wait for one to appear otherwise)
D=$TMP/data
echo '{"index":1}' | "$PINPIPE" log append --topic pin --data-dir "$D" >/dev/null 2>"$TMP/append.err" ||
  fail "log append: $(cat "$TMP/append.err")"
DAY=2024-01-01
T=2 # --connect-timeout in the cases below

# check NAME SERVICE MAX_S CMD...: run CMD under `timeout 30`, then assert exit 1, at most
# MAX_S seconds, one line (at most 2) on stderr naming SERVICE, no raw librdkafka line.
check() {
  local name=$1 service=$2 max_s=$3
  shift 3
  local t0 t1 rc=0 ms lines
  t0=$(date +%s%N)
  timeout 30 "$@" >"$TMP/out" 2>"$TMP/err" </dev/null || rc=$?
  t1=$(date +%s%N)
  ms=$(((t1 - t0) / 1000000))
  lines=$(wc -l <"$TMP/err")
  printf '%-34s rc=%-3s %6d ms  stderr=%s line(s)\n' "$name" "$rc" "$ms" "$lines"
  [ "$rc" != 124 ] || fail "$name: still running after 30 s (killed by timeout)"
  [ "$rc" = 1 ] || fail "$name: exit $rc, want 1; stderr: $(cat "$TMP/err")"
  [ "$ms" -le $((max_s * 1000)) ] || fail "$name: took $ms ms, bound ${max_s} s"
  [ "$lines" -ge 1 ] && [ "$lines" -le 2 ] ||
    fail "$name: $lines lines on stderr, want 1 (at most 2):
$(cat "$TMP/err")"
  grep -qi -- "$service" "$TMP/err" || fail "$name: stderr does not name $service: $(cat "$TMP/err")"
  grep -q -- "check" "$TMP/err" || fail "$name: stderr says nothing to check: $(cat "$TMP/err")"
  if grep -Eq '%[0-7]\||\[thrd:' "$TMP/err"; then
    fail "$name: a raw librdkafka line reached stderr: $(cat "$TMP/err")"
  fi
  sed 's/^/    /' "$TMP/err"
}

bound=$((3 * T))
for mode in refused silent; do
  addr=$REFUSED
  [ $mode = silent ] && addr=$SILENT
  K=(--log kafka --brokers "$addr" --connect-timeout $T)
  echo "== kafka $mode ($addr)"
  check "status kafka $mode" kafka $bound "$PINPIPE" status --data-dir "$D" "${K[@]}"
  check "stream kafka $mode" kafka $bound "$PINPIPE" stream --data-dir "$D" "${K[@]}"
  check "lake kafka $mode" kafka $bound "$PINPIPE" lake --data-dir "$D" "${K[@]}"
  check "lake --publish kafka $mode" kafka $bound "$PINPIPE" lake --publish --data-dir "$D" "${K[@]}"
  check "quality kafka $mode" kafka $bound "$PINPIPE" quality --date $DAY --data-dir "$D" "${K[@]}"
  check "serve kafka $mode" kafka $bound "$PINPIPE" serve --listen 127.0.0.1:0 \
    --data-dir "$TMP/serve-$mode" "${K[@]}"
  check "run kafka $mode" kafka $bound "$PINPIPE" run --listen 127.0.0.1:0 --no-schedule \
    --data-dir "$TMP/run-k-$mode" "${K[@]}"
  check "log topics kafka $mode" kafka $bound "$PINPIPE" log topics "${K[@]}"
  check "log offsets kafka $mode" kafka $bound "$PINPIPE" log offsets "${K[@]}"
  check "log tail kafka $mode" kafka $bound "$PINPIPE" log tail --topic pin "${K[@]}"
  check "log append kafka $mode" kafka $bound "$PINPIPE" log append --topic pin "${K[@]}"

  W=(--warehouse "postgresql://pinpipe@$addr/pinpipe" --connect-timeout $T)
  echo "== postgresql $mode ($addr)"
  check "status postgresql $mode" postgresql $bound "$PINPIPE" status --data-dir "$D" "${W[@]}"
  check "stream postgresql $mode" postgresql $bound "$PINPIPE" stream --data-dir "$D" "${W[@]}"
  check "batch postgresql $mode" postgresql $bound "$PINPIPE" batch --date $DAY \
    --step insights --data-dir "$D" "${W[@]}"
  check "insights postgresql $mode" postgresql $bound "$PINPIPE" insights "${W[@]}"
  check "quality postgresql $mode" postgresql $bound "$PINPIPE" quality --date $DAY \
    --data-dir "$D" "${W[@]}"
  check "dag run postgresql $mode" postgresql $bound "$PINPIPE" dag run --date $DAY \
    --data-dir "$D" "${W[@]}"
  check "run postgresql $mode" postgresql $bound "$PINPIPE" run --listen 127.0.0.1:0 \
    --no-schedule --data-dir "$TMP/run-w-$mode" "${W[@]}"

  S=(--lake s3://pinpipe-lake/raw --s3-endpoint "http://$addr" --s3-path-style
     --connect-timeout $T)
  echo "== s3 $mode ($addr)"
  check "lake s3 $mode" s3 $bound "$PINPIPE" lake --data-dir "$D" "${S[@]}"
  check "lake --publish s3 $mode" s3 $bound "$PINPIPE" lake --publish --data-dir "$D" "${S[@]}"
  check "batch s3 $mode" s3 $bound "$PINPIPE" batch --date $DAY --step load --data-dir "$D" \
    "${S[@]}"
  check "quality s3 $mode" s3 $bound "$PINPIPE" quality --date $DAY --data-dir "$D" "${S[@]}"
  check "run s3 $mode" s3 $bound "$PINPIPE" run --listen 127.0.0.1:0 --no-schedule \
    --data-dir "$TMP/run-s-$mode" "${S[@]}"
done

# a PostgreSQL that completes the startup, then hangs: open's first query is bounded too
W=(--warehouse "postgresql://pinpipe@$PG_HUNG/pinpipe" --connect-timeout $T)
echo "== postgresql hung after the startup ($PG_HUNG)"
check "status postgresql hung" postgresql $bound "$PINPIPE" status --data-dir "$D" "${W[@]}"
check "stream postgresql hung" postgresql $bound "$PINPIPE" stream --data-dir "$D" "${W[@]}"
check "batch postgresql hung" postgresql $bound "$PINPIPE" batch --date $DAY --step insights \
  --data-dir "$D" "${W[@]}"
check "insights postgresql hung" postgresql $bound "$PINPIPE" insights "${W[@]}"
check "quality postgresql hung" postgresql $bound "$PINPIPE" quality --date $DAY \
  --data-dir "$D" "${W[@]}"
check "dag run postgresql hung" postgresql $bound "$PINPIPE" dag run --date $DAY \
  --data-dir "$D" "${W[@]}"

# The DAG's tasks are pinpipe commands: the option reaches them and the run fails at its first
# task (--retries 0), whose one line is in the run's table on stdout (the DAG's report).
check_dag() {
  local name=$1 service=$2
  shift 2
  local t0 t1 rc=0 ms
  t0=$(date +%s%N)
  timeout 30 "$@" >"$TMP/out" 2>"$TMP/err" </dev/null || rc=$?
  t1=$(date +%s%N)
  ms=$(((t1 - t0) / 1000000))
  printf '%-34s rc=%-3s %6d ms  stderr=%s line(s)\n' "$name" "$rc" "$ms" "$(wc -l <"$TMP/err")"
  [ "$rc" = 1 ] || fail "$name: exit $rc, want 1: $(cat "$TMP/out" "$TMP/err")"
  [ "$ms" -le $((3 * T * 1000)) ] || fail "$name: took $ms ms, bound $((3 * T)) s"
  grep -Eq "day_closed +failed .*$service.*check" "$TMP/out" ||
    fail "$name: the failed task does not name $service: $(cat "$TMP/out")"
  [ ! -s "$TMP/err" ] || fail "$name: stderr not empty: $(cat "$TMP/err")"
  grep -E "day_closed" "$TMP/out" | sed 's/^/    /'
}
echo "== dag run: its first task against an unreachable service"
check_dag "dag run kafka silent" "kafka:" env PINPIPE_LOG_BACKEND=kafka \
  PINPIPE_LOG_BROKERS="$SILENT" "$PINPIPE" dag run --date $DAY --retries 0 --data-dir "$D" \
  --connect-timeout $T
check_dag "dag run s3 silent" "s3 GET" env PINPIPE_LAKE_S3_ENDPOINT="http://$SILENT" \
  PINPIPE_LAKE_S3_PATH_STYLE=true \
  "$PINPIPE" dag run --date $DAY --retries 0 --data-dir "$D" --lake s3://pinpipe-lake/raw \
  --connect-timeout $T

# the environment variable stands for the option
check "status kafka silent (env 2 s)" kafka $bound env PINPIPE_CONNECT_TIMEOUT=$T \
  "$PINPIPE" status --data-dir "$D" --log kafka --brokers "$SILENT"

# the default bound: 10 s, without the option
echo "== default --connect-timeout (10 s)"
check "status kafka silent (default)" kafka 30 "$PINPIPE" status --data-dir "$D" --log kafka \
  --brokers "$SILENT"
grep -q "within 10 s" "$TMP/err" || fail "the default bound is not 10 s: $(cat "$TMP/err")"
echo "PASS"
