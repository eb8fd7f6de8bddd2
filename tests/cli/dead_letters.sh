#!/usr/bin/env bash
# dead_letters.sh: every record or ingestion request `serve` refuses with a 4xx lands in the
# dead-letter topic pinpipe.rejected as one JSON record (ts, api, path, kind, status, error);
# accepted records and non-ingestion 404s do not; --rejects-topic '' turns it off.
set -uo pipefail
: "${PINPIPE:?}"
tmp=$(mktemp -d); pid=
trap '[ -n "$pid" ] && kill -9 $pid 2>/dev/null; rm -rf "$tmp"' EXIT
pass=0 fail=0
check() { if [ "$2" = "$3" ]; then pass=$((pass+1)); else
  echo "FAIL: $1: got '$2', expected '$3'" >&2; fail=$((fail+1)); fi; }
start() { # $1: data dir, rest: extra serve flags
  local d=$1; shift
  "$PINPIPE" serve --listen 127.0.0.1:0 --data-dir "$d" "$@" 2>"$d.log" &
  pid=$!
  for _ in $(seq 100); do [ -s "$d/listen" ] && break; sleep 0.05; done
  url=http://$(cat "$d/listen")
}
post() { # $1 content type, $2 path, $3 body: prints the status
  curl -s -o /dev/null -w '%{http_code}' -H "Content-Type: $1" --data-binary "$3" "$url$2"
}
J=application/json
P=application/vnd.kafka.json.v2+json
USER1='{"ind": 1, "first_name": "A", "last_name": "B", "age": 30, "date_joined": "2015-10-24 11:23:51"}'

start "$tmp/d"
check "valid record" "$(post $J /user/ "$USER1")" 200
check "invalid field" "$(post $J /pin/ '{"index": "x"}')" 422
check "not JSON" "$(post $J /geo/ 'not json')" 400
check "wrong content type" "$(post text/plain /pin/ 'x')" 415
check "unknown topic" "$(post $P /topics/nope '{"records":[{"value":{}}]}')" 404
check "proxy batch" "$(post $P /topics/x.user "{\"records\":[{\"value\":$USER1},{\"value\":{\"ind\":\"bad\"}},{\"value\":{\"ind\":2}}]}")" 200
check "non-ingestion 404" "$(curl -s -o /dev/null -w '%{http_code}' "$url/no/such/route")" 404
# Kinesis (PUT, as documented) refused as a whole: dead-lettered like POSTs
check "kinesis PUT refused" "$(curl -s -o /dev/null -w '%{http_code}' -X PUT -H "Content-Type: $J" \
  --data-binary '{"Data":{"ind":"bad"}}' "$url/streams/x.user/record")" 400
# 300 invalid records in one batch: one dead letter standing for all of them (bounded)
big=$(python3 -c 'import json; print(json.dumps({"records":[{"value":{"ind":"x%d" % i}} for i in range(300)]}))')
check "invalid batch" "$(post $P /topics/x.user "$big")" 200
kill -TERM $pid; wait $pid; pid=
"$PINPIPE" log tail --data-dir "$tmp/d" --topic pinpipe.rejected --from-beginning --value-only \
  >"$tmp/dl.jsonl" 2>"$tmp/tail.err" || { echo "FAIL: log tail: $(cat "$tmp/tail.err")" >&2; exit 1; }
# summarize as "api path kind status" lines, sorted; and check every line's shape
python3 - "$tmp/dl.jsonl" >"$tmp/got" <<'PY' || fail=$((fail+1))
import json, re, sys
for line in open(sys.argv[1]):
    d = json.loads(line)
    assert set(d) == {"ts", "api", "path", "kind", "status", "error", "records"}, d
    assert len(d["error"]) <= 1024, d
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", d["ts"]), d
    assert isinstance(d["error"], str) and d["error"], d
    print(d["api"], d["path"], d["kind"], d["status"], d["records"])
PY
sort -o "$tmp/got" "$tmp/got"
sort >"$tmp/want" <<'EOF'
fastapi /pin/ pin 422 1
fastapi /geo/ geo 400 1
fastapi /pin/ pin 415 1
proxy /topics/nope None 404 1
proxy /topics/x.user user 422 2
proxy /topics/x.user user 422 300
kinesis /streams/x.user/record user 400 1
EOF
check "dead letters" "$(diff "$tmp/want" "$tmp/got" && echo same)" same
check "invalid record's message" \
  "$(grep -c '"error":"records\[1\]: ind: value is not a valid integer' "$tmp/dl.jsonl")" 1
check "first reasons and the count of the rest" \
  "$(grep -c 'records\[9\]: ind: .*; and 290 more invalid records"' "$tmp/dl.jsonl")" 1
check "accepted records stay in user" \
  "$("$PINPIPE" log tail --data-dir "$tmp/d" --topic user --from-beginning --value-only | wc -l)" 2

start "$tmp/off" --rejects-topic ''
check "refused with dead letters off" "$(post $J /pin/ '{"index": "x"}')" 422
kill -TERM $pid; wait $pid; pid=
check "no dead-letter topic when off" \
  "$("$PINPIPE" log topics --data-dir "$tmp/off" | grep -c pinpipe.rejected)" 0
echo "dead_letters: $pass passed, $fail failed"
[ "$fail" = 0 ]
