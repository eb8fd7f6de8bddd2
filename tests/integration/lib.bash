# lib.sh: helpers for the integration tests (sourced). Needs PINPIPE, PP_SRC, PP_SHARED.
set -euo pipefail
: "${PINPIPE:?PINPIPE must name the built pinpipe binary}"
PP_SRC=${PP_SRC:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
PP_SHARED=${PP_SHARED:-$PP_SRC/../shared}
EVENTS=$PP_SHARED/data/aicore_events.jsonl
PP_TMP=$(mktemp -d /tmp/pinpipe-test.XXXXXX)
PP_PIDS=()

pp_cleanup() {
  for p in "${PP_PIDS[@]:-}"; do [ -n "$p" ] && kill -9 "$p" 2>/dev/null || true; done
  if [ "${PP_KEEP:-0}" = 1 ]; then echo "kept $PP_TMP" >&2; else rm -rf "$PP_TMP"; fi
}
trap pp_cleanup EXIT

pp_need_data() {
  if [ ! -f "$EVENTS" ]; then echo "SKIP: $EVENTS not present" >&2; exit 77; fi
}

pp_fail() { echo "FAIL: $*" >&2; exit 1; }

# pp_start DIR CMD...: start `pinpipe CMD... --data-dir DIR` in the background, wait for
# DIR/listen when it serves; sets PP_PID and (for serving commands) PP_URL.
pp_start() {
  local dir=$1; shift
  mkdir -p "$dir"
  rm -f "$dir/listen"
  "$PINPIPE" "$@" --data-dir "$dir" >>"$dir/stdout.log" 2>>"$dir/stderr.log" &
  PP_PID=$!
  PP_PIDS+=("$PP_PID")
  case "$1" in
    run|serve)
      for _ in $(seq 1 500); do
        [ -s "$dir/listen" ] && break
        kill -0 "$PP_PID" 2>/dev/null || { cat "$dir/stderr.log" >&2; pp_fail "$1 exited early"; }
        sleep 0.02
      done
      [ -s "$dir/listen" ] || pp_fail "$1 did not write $dir/listen"
      PP_URL="http://$(cat "$dir/listen")";;
  esac
}

# pp_stop PID: SIGTERM and wait; fails the test on a non-zero exit.
pp_stop() {
  kill -TERM "$1" 2>/dev/null || true
  local rc=0
  wait "$1" || rc=$?
  [ "$rc" = 0 ] || pp_fail "process $1 exited with $rc on SIGTERM"
}

# pp_pstate PID: the process state letter (T while stopped), "" once gone
pp_pstate() { sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1 || true; }

# pp_wait_log FILE ERE [TIMEOUT_S]: wait until FILE has a line matching ERE (default 30 s);
# returns 1 on timeout (the caller says what failed).
pp_wait_log() {
  local i
  for i in $(seq 1 $((${3:-30} * 10))); do
    grep -Eq "$2" "$1" 2>/dev/null && return 0
    sleep 0.1
  done
  return 1
}

# pp_wait_rows WH N [TIMEOUT_S]: wait until pin, geo and user each hold N rows.
pp_wait_rows() {
  local wh=$1 n=$2 t=${3:-60} i
  for i in $(seq 1 $((t * 20))); do
    if [ -f "$wh" ]; then
      local got
      got=$(sqlite3 -cmd ".timeout 2000" "$wh" \
        "select (select count(*) from pin)||' '||(select count(*) from geo)||' '||(select count(*) from user)" 2>/dev/null || true)
      [ "$got" = "$n $n $n" ] && return 0
    fi
    sleep 0.05
  done
  pp_fail "warehouse $wh did not reach $n rows per table (has: ${got:-nothing})"
}

# pp_mock_start DIR: start librdkafka's mock cluster ($MOCK: 3 brokers, 6 partitions) with its
# output in DIR; sets MOCK_PID and MOCK_BROKERS (its bootstrap servers); fails the test if it
# does not start.
pp_mock_start() {
  mkdir -p "$1"
  "$MOCK" --brokers 3 --partitions 6 >"$1/out" 2>"$1/err" &
  MOCK_PID=$!
  PP_PIDS+=("$MOCK_PID")
  for _ in $(seq 1 100); do [ -s "$1/out" ] && break; sleep 0.05; done
  MOCK_BROKERS=$(head -1 "$1/out")
  [ -n "$MOCK_BROKERS" ] || pp_fail "mock cluster did not start: $(cat "$1/err")"
}
