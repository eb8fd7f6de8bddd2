#!/usr/bin/env bash
# starve.sh: connection starvation (issue 11 item 2). `pinpipe serve` (embedded log) with short
# timeouts (--header-timeout 3 --body-timeout 5) and --max-conns-per-ip 50 is attacked from 40
# other loopback addresses (127.0.0.2 ... 127.0.0.41) with thousands of connections in all:
# idle ones, slowloris ones (a header byte a second), slow-body ones (Content-Length 100000,
# then a byte a second) and waves past the per-IP limit (tests/tools/starve.py), while a normal
# client on 127.0.0.1 posts valid records for ~20 s, a new connection per request and on a
# keep-alive one. Asserted: every normal request is answered 200 (each within 5 s: a hang, not
# a latency target), every slow connection is closed by the server within its timeout + 4 s,
# each wave past the per-IP limit is cut to the limit at once, serve still answers /healthz,
# and every acknowledged record is in the log at the offset it was answered with. The normal
# client's latency median/p99 are printed, not asserted.
source "$(dirname "$0")/lib.bash"
STARVE=$PP_SRC/tests/tools/starve.py
# ~2000 attacker sockets here and as many in serve (which inherits this limit)
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
[ "$(ulimit -n)" = unlimited ] || [ "$(ulimit -n)" -ge 8192 ] \
  || { echo "SKIP: cannot raise the open-file limit to 8192 (have $(ulimit -n))" >&2; exit 77; }

dir=$PP_TMP/serve
"$PINPIPE" gen --rows 200 --seed 7 --out "$PP_TMP/src" >/dev/null 2>&1 || pp_fail "gen failed"
pp_start "$dir" serve --listen 127.0.0.1:0 --no-dashboard --header-timeout 3 --body-timeout 5 \
  --max-conns-per-ip 50
port=${PP_URL##*:}

python3 "$STARVE" attack --port "$port" --out "$PP_TMP/attack.json" --ready "$PP_TMP/ready" \
  --duration 24 --mix-ips 30 --per-ip 45 --over-ips 10 --per-ip-limit 50 --over 10 \
  --header-timeout 3 --body-timeout 5 --margin 4 >"$PP_TMP/attack.out" 2>&1 &
attack=$!
PP_PIDS+=("$attack")
for _ in $(seq 1 600); do # every attacker slot has connected once (bounded: 30 s)
  [ -s "$PP_TMP/ready" ] && break
  kill -0 "$attack" 2>/dev/null || pp_fail "attacker exited early: $(cat "$PP_TMP/attack.out")"
  sleep 0.05
done
[ -s "$PP_TMP/ready" ] || pp_fail "attackers did not get going within 30 s"
echo "attack under way: $(cat "$PP_TMP/ready") connections opened"

python3 "$STARVE" normal --port "$port" --records "$PP_TMP/src/pin.jsonl" --duration 20 \
  --liveness 5 --out "$PP_TMP/normal.json" || pp_fail "normal client failed"
wait "$attack" || pp_fail "attacker failed: $(cat "$PP_TMP/attack.out")"
cat "$PP_TMP/attack.out"

kill -0 "$PP_PID" 2>/dev/null || pp_fail "serve died under the attack: $(tail -5 "$dir/stderr.log")"
curl -sf --max-time 5 "$PP_URL/healthz" >/dev/null || pp_fail "serve does not answer /healthz"
pp_stop "$PP_PID"
"$PINPIPE" log tail --data-dir "$dir" --topic pin --from-beginning -n 100000000 \
  >"$PP_TMP/pin.tsv" 2>"$PP_TMP/tail.err" || pp_fail "log tail failed: $(cat "$PP_TMP/tail.err")"
python3 "$STARVE" check --attack "$PP_TMP/attack.json" --normal "$PP_TMP/normal.json" \
  --log-tail "$PP_TMP/pin.tsv" --min-attack 2000 || pp_fail "starvation check failed"
echo "starve: passed"
