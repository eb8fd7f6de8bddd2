#!/usr/bin/env bash
# http_badinput.sh: replay the request corpus tests/data/http/*.req against `pinpipe serve`
# and check each answer against its .expect; then check the server is still up and that the
# log holds exactly the records of accepted requests/slots (and nothing of rejected ones).
#
# .req: "METHOD PATH", header lines, a blank line, then the body (its final newline is not
# sent; no blank line = no body). Pseudo-headers: "@no-body" (POST without Content-Length),
# "@chunked" (Transfer-Encoding: chunked), "@body-fill: N" (an N-byte JSON body), "@nest: N"
# (the body's @NEST@ becomes N nested arrays, "[[..]]", and @NEST64@ their base64).
# .expect: "status: N", "header: Name: value" (substring of the response headers),
# "body-contains: text" (substring), "body-exact: text", "stored: <topic> <id>" (a record this
# case stores). Lines starting with '#' are comments.
# Env: PINPIPE (binary), PP_SRC (repo); FSYNC (default "always": every ack waits for fsync).
set -u
PINPIPE=${PINPIPE:?set PINPIPE to the pinpipe binary}
PP_SRC=${PP_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
CORPUS=$PP_SRC/tests/data/http
FSYNC=${FSYNC:-always}
command -v curl >/dev/null || { echo "skip: curl missing"; exit 77; }

tmp=$(mktemp -d)
server=
cleanup() {
    [ -n "$server" ] && kill "$server" 2>/dev/null && wait "$server" 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT

# start_server LOG DATADIR [serve options]: sets $server and $port.
start_server() {
    local log=$1 dir=$2
    shift 2
    "$PINPIPE" serve --listen 127.0.0.1:0 --data-dir "$dir" --fsync "$FSYNC" "$@" 2>"$log" &
    server=$!
    port=
    for _ in $(seq 1 100); do
        port=$(sed -n 's/.*serving on http:\/\/[^ ]*:\([0-9][0-9]*\) .*/\1/p' "$log")
        [ -n "$port" ] && return 0
        kill -0 "$server" 2>/dev/null || break
        sleep 0.05
    done
    echo "FAIL: server did not start"
    cat "$log"
    exit 1
}
start_server "$tmp/serve.log" "$tmp/data" --max-body 16K --threads 2
base=http://127.0.0.1:$port

fails=0 cases=0
: >"$tmp/expected"
fail() { echo "FAIL $name: $*"; fails=$((fails + 1)); }

for req in "$CORPUS"/*.req; do
    name=$(basename "$req" .req)
    exp=${req%.req}.expect
    cases=$((cases + 1))
    read -r method path <"$req"
    blank=$(grep -n -m1 '^$' "$req" | cut -d: -f1)
    if [ -n "$blank" ]; then hdr_last=$((blank - 1)); else hdr_last=$(wc -l <"$req"); fi
    args=(-s -S -o "$tmp/resp" -D "$tmp/hdrs" -w '%{http_code}' -X "$method" -H 'Expect:')
    mode=data ct=0 fill= nest=
    while IFS= read -r h; do
        case "$h" in
        @no-body) mode=none ;;
        @chunked) args+=(-H 'Transfer-Encoding: chunked') ;;
        @body-fill:*) fill=${h#@body-fill: } ;;
        @nest:*) nest=${h#@nest: } ;;
        [Cc]ontent-[Tt]ype:*) ct=1; args+=(-H "$h") ;;
        *) args+=(-H "$h") ;;
        esac
    done < <(sed -n "2,${hdr_last}p" "$req")
    [ "$ct" = 0 ] && args+=(-H 'Content-Type:') # curl would add a form type otherwise
    if [ -n "$fill" ]; then
        { printf '{"x":"'; head -c "$fill" /dev/zero | tr '\0' a; printf '"}'; } >"$tmp/body"
    elif [ -n "$blank" ]; then
        tail -n +"$((blank + 1))" "$req" | head -c -1 >"$tmp/body"
        if [ -n "$nest" ]; then
            python3 -c 'import base64, sys
n = int(sys.argv[1]); b = open(sys.argv[2]).read(); v = "[" * n + "]" * n
b = b.replace("@NEST64@", base64.b64encode(v.encode()).decode()).replace("@NEST@", v)
open(sys.argv[2], "w").write(b)' "$nest" "$tmp/body"
        fi
    else
        mode=none
    fi
    [ "$mode" = data ] && args+=(--data-binary "@$tmp/body")
    status=$(curl "${args[@]}" "$base$path" 2>"$tmp/curl.err")
    want=$(sed -n 's/^status: //p' "$exp")
    [ "$status" = "$want" ] || fail "status $status, want $want ($(head -c 300 "$tmp/resp"))"
    while IFS= read -r line; do
        case "$line" in
        'header: '*)
            grep -qiF -- "${line#header: }" "$tmp/hdrs" || fail "no header '${line#header: }'" ;;
        'body-contains: '*)
            grep -qF -- "${line#body-contains: }" "$tmp/resp" ||
                fail "body lacks '${line#body-contains: }': $(head -c 300 "$tmp/resp")" ;;
        'body-exact: '*)
            [ "$(cat "$tmp/resp")" = "${line#body-exact: }" ] ||
                fail "body '$(head -c 300 "$tmp/resp")' != '${line#body-exact: }'" ;;
        'stored: '*) echo "${line#stored: }" >>"$tmp/expected" ;;
        esac
    done <"$exp"
    # no answer echoes invalid UTF-8 (client bytes such as %ff in a name)
    python3 -c 'import sys; open(sys.argv[1], "rb").read().decode("utf-8")' "$tmp/resp" \
        2>/dev/null || fail "answer is not valid UTF-8: $(head -c 200 "$tmp/resp" | od -c | head -3)"
    # every error answer is JSON naming the problem
    if [ "${status:0:1}" != 2 ] && ! grep -q '^[[:space:]]*[{[]' "$tmp/resp"; then
        fail "error body is not JSON: $(head -c 200 "$tmp/resp")"
    fi
done

# A body cut short by the client (Content-Length larger than what is sent, then close).
if command -v python3 >/dev/null; then
    python3 - "$port" <<'PY' || fail "truncated-body client failed"
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
body = b'{"index": 9099, "unique_id": "x", "title": "t"'
s.sendall(b"POST /pin/ HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
          b"Content-Length: 400\r\n\r\n" + body)
s.shutdown(socket.SHUT_WR)
s.settimeout(5)
try:
    s.recv(1024)
except Exception:
    pass
s.close()
PY
fi

name=server-alive
[ "$(curl -s "$base/healthz")" = '{"status":"ok"}' ] || fail "server not answering after the corpus"
kill -0 "$server" 2>/dev/null || fail "server died"

# Exactly the accepted records are in the log: compare (topic, id) lists.
name=stored-records
for t in pin geo user; do
    "$PINPIPE" log tail --data-dir "$tmp/data" --topic "$t" --from-beginning --value-only \
        >"$tmp/tail.$t" 2>"$tmp/tail.err" || { fail "log tail $t: $(cat "$tmp/tail.err")"; continue; }
    sed -n 's/^{"\(index\|ind\)": *"\{0,1\}\([0-9][0-9]*\).*/'"$t"' \2/p' "$tmp/tail.$t"
    n=$(wc -l <"$tmp/tail.$t")
    m=$(grep -c '^{"\(index\|ind\)": *"\{0,1\}[0-9]' "$tmp/tail.$t")
    [ "$n" = "$m" ] || fail "$t holds $((n - m)) values without a leading id"
done | sort >"$tmp/got"
sort "$tmp/expected" >"$tmp/want"
if ! diff "$tmp/want" "$tmp/got" >"$tmp/diff"; then
    fail "log content differs from the accepted records (< expected, > stored):"
    cat "$tmp/diff"
fi

# The key is the record id, so the three records of one post share a partition number.
name=same-partition
parts=$(for t in pin geo user; do
    "$PINPIPE" log tail --data-dir "$tmp/data" --topic "$t" --from-beginning |
        awk -F'\t' '$5 ~ /^\{"(index|ind)": 1001,/ {print $2}'
done | tr '\n' ' ')
case "$parts" in
"0 0 0 " | "1 1 1 ") ;;
*) fail "records of post 1001 are in partitions '$parts' of pin, geo, user" ;;
esac

# A REST proxy client's key is kept, as Confluent's proxy keeps it: it picks the partition, so
# 16 posts with different ids and one key land in one partition (by id they would spread).
name=client-key
recs=$(python3 -c 'import json; print(json.dumps({"records": [{"key": "k1", "value": {
    "index": 9200 + i, "unique_id": "u", "title": "t", "description": "d", "follower_count": "1",
    "poster_name": "p", "tag_list": "a", "is_image_or_video": "image", "image_src": "s",
    "downloaded": 1, "save_location": "Local save in /data/x", "category": "c"}}
    for i in range(16)]}))')
st=$(curl -s -o "$tmp/resp" -w '%{http_code}' -H 'Content-Type: application/vnd.kafka.json.v2+json' \
    --data-binary "$recs" "$base/topics/x.pin")
[ "$st" = 200 ] || fail "keyed batch: status $st ($(head -c 200 "$tmp/resp"))"
kparts=$("$PINPIPE" log tail --data-dir "$tmp/data" --topic pin --from-beginning |
    awk -F'\t' '$5 ~ /^\{"index": 92[01][0-9],/ {print $2}' | sort | uniq -c | wc -l)
[ "$kparts" = 1 ] || fail "records keyed k1 are in $kparts partitions"

# Graceful stop: SIGTERM, exit 0.
name=graceful-stop
kill -TERM "$server"
wait "$server"
rc=$?
server=
[ "$rc" = 0 ] || fail "serve exited $rc after SIGTERM"
grep -q "stopped" "$tmp/serve.log" || fail "no 'stopped' line: $(tail -3 "$tmp/serve.log")"

# Acknowledged means stored, also across a graceful stop under load: clients post records
# with unique ids while the server gets SIGTERM; every id answered 200 must be in the log.
name=stop-under-load
start_server "$tmp/serve2.log" "$tmp/data2"
poster() { # $1: first id; appends "id status" lines to $tmp/acks.$1
    local id=$1 end=$(($1 + 400)) st
    while [ "$id" -lt "$end" ]; do
        st=$(curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' \
            --data-binary "{\"ind\": $id, \"first_name\": \"A\", \"last_name\": \"B\", \"age\": 30, \"date_joined\": \"2015-10-24 11:23:51\"}" \
            "http://127.0.0.1:$port/user/")
        echo "$id $st" >>"$tmp/acks.$1"
        [ "$st" = 000 ] && break # connection refused: the server has stopped listening
        id=$((id + 1))
    done
}
pids=
for first in 20000 30000 40000 50000; do
    poster "$first" &
    pids="$pids $!"
done
sleep 1
kill -TERM "$server"
wait "$server"
rc=$?
server=
wait $pids
[ "$rc" = 0 ] || fail "serve exited $rc after SIGTERM under load"
cat "$tmp"/acks.* | awk '$2 == 200 {print "user " $1}' | sort >"$tmp/acked"
"$PINPIPE" log tail --data-dir "$tmp/data2" --topic user --from-beginning --value-only |
    sed -n 's/^{"ind": \([0-9]*\),.*/user \1/p' | sort >"$tmp/stored2"
others=$(cat "$tmp"/acks.* | awk '$2 != 200 && $2 != 503 && $2 != "000"' | head -3)
[ -z "$others" ] || fail "unexpected answers during stop: $others"
missing=$(comm -23 "$tmp/acked" "$tmp/stored2" | head -5)
[ -z "$missing" ] || fail "acknowledged but not stored: $missing"
[ -s "$tmp/acked" ] || fail "no request was acknowledged before the stop"
echo "stop under load: $(wc -l <"$tmp/acked") acked, $(wc -l <"$tmp/stored2") stored," \
    "$(cat "$tmp"/acks.* | awk '$2 == 503' | wc -l) answered 503"

# Graceful stop semantics, with two keep-alive connections: B is mid-upload when SIGTERM
# comes; A then sends a new request and gets 503; B completes and gets 200 (stored).
name=graceful-503
if command -v python3 >/dev/null; then
    start_server "$tmp/serve4.log" "$tmp/data4"
    python3 - "$port" "$server" >"$tmp/graceful.out" 2>&1 <<'PY' || fail "$(cat "$tmp/graceful.out")"
import os, signal, socket, sys, time
port, pid = int(sys.argv[1]), int(sys.argv[2])
def rec(i):
    return ('{"ind": %d, "first_name": "A", "last_name": "B", "age": 30, '
            '"date_joined": "2015-10-24 11:23:51"}' % i).encode()
def head(n):
    return (b"POST /user/ HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Content-Length: %d\r\n\r\n" % n)
def answer(s):
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = s.recv(4096)
        if not chunk:
            break
        data += chunk
    hdr, _, body = data.partition(b"\r\n\r\n")
    n = 0
    for line in hdr.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            n = int(line.split(b":")[1])
    while len(body) < n:
        body += s.recv(4096)
    return hdr.decode(), body.decode()
a = socket.create_connection(("127.0.0.1", port))
b = socket.create_connection(("127.0.0.1", port))
a.settimeout(10)
b.settimeout(10)
r = rec(61001)
a.sendall(head(len(r)) + r)
h, body = answer(a)
assert h.startswith("HTTP/1.1 200"), h
r = rec(61002)
b.sendall(head(len(r)) + r[:20])
time.sleep(0.2)
os.kill(pid, signal.SIGTERM)
time.sleep(0.5)
r3 = rec(61003)
a.sendall(head(len(r3)) + r3)
h, body = answer(a)
assert h.startswith("HTTP/1.1 503"), "new request during stop: " + h
assert "retry-after: 1" in h.lower(), h
assert body.startswith("{") and "shutting down" in body, body
b.sendall(r[20:])
h, body = answer(b)
assert h.startswith("HTTP/1.1 200"), "in-flight request during stop: " + h + body
PY
    wait "$server" || fail "serve exited $? after the graceful stop"
    server=
    got=$("$PINPIPE" log tail --data-dir "$tmp/data4" --topic user --from-beginning --value-only |
        sed -n 's/^{"ind": \([0-9]*\),.*/\1/p' | sort | tr '\n' ' ')
    [ "$got" = "61001 61002 " ] || fail "stored after graceful stop: '$got', want '61001 61002 '"
fi

# Back-pressure: a log that refuses appends (--max-pending smaller than any record) makes
# every shape answer 503 + Retry-After: 1 with a JSON body, and stores nothing.
name=back-pressure
start_server "$tmp/serve3.log" "$tmp/data3" --max-pending 64 --fsync always
rec='{"ind": 77, "first_name": "A", "last_name": "B", "age": 30, "date_joined": "2015-10-24"}'
check_503() { # $1 method, $2 path, $3 content type, $4 body, $5 expected body text
    local st
    st=$(curl -s -o "$tmp/resp" -D "$tmp/hdrs" -w '%{http_code}' -X "$1" -H "Content-Type: $3" \
        --data-binary "$4" "http://127.0.0.1:$port$2")
    [ "$st" = 503 ] || fail "$1 $2: status $st, want 503 ($(head -c 200 "$tmp/resp"))"
    grep -qi '^Retry-After: 1' "$tmp/hdrs" || fail "$1 $2: no Retry-After: 1"
    grep -qF -- "$5" "$tmp/resp" || fail "$1 $2: body lacks '$5': $(head -c 200 "$tmp/resp")"
}
check_503 POST /user/ application/json "$rec" '{"detail":"log full'
check_503 POST /topics/a.user application/vnd.kafka.json.v2+json \
    "{\"records\":[{\"value\":$rec},{\"value\":{\"ind\":\"x\"}},{\"value\":$rec}]}" \
    '{"error_code":50003,"message":"log full'
check_503 PUT /streams/s-user/record application/json "{\"Data\":$rec}" \
    '{"__type":"ProvisionedThroughputExceededException"'
check_503 PUT /streams/s-user/records application/json "{\"records\":[{\"data\":$rec}]}" \
    '"__type":"ProvisionedThroughputExceededException"'
kill -TERM "$server"
wait "$server" || fail "serve (back-pressure) exited $?"
server=
n=$("$PINPIPE" log tail --data-dir "$tmp/data3" --topic user --from-beginning | wc -l)
[ "$n" = 0 ] || fail "$n records stored although every request got 503"

name=sanitizers
if grep -q "Sanitizer\|runtime error" "$tmp"/serve*.log; then
    fail "sanitizer report:"
    cat "$tmp"/serve*.log
fi

echo "$cases cases, $(wc -l <"$tmp/want") records expected stored, $fails failures (fsync $FSYNC)"
[ "$fails" = 0 ]
