#!/usr/bin/env bash
# s3_sigv4.sh: every kind of request the S3 lake sends passes an endpoint that checks SigV4 as
# AWS does (tests/s3/verify_proxy.py: the signature recomputed from what it received, every
# signed header present, host and x-amz-* signed), here also requiring a session token
# (AWS_SESSION_TOKEN, sent and signed as x-amz-security-token). The lake root has a space,
# '+', '=' and UTF-8 in its prefix; the endpoint is http://127.0.0.1:PORT without
# --s3-path-style (path style by itself for an IP literal), then http://localhost:PORT.
# Checked from the proxy's log of verified requests: PUT, CreateMultipartUpload, UploadPart
# 2+, CompleteMultipartUpload, CopyObject, DELETE, GET object, HEAD, ListObjectsV2 with
# continuation tokens, ListMultipartUploads; objects checked with awscli (an independent
# client). Refusals: a wrong secret (403 SignatureDoesNotMatch) and a missing session token
# (403 InvalidToken) make `pinpipe batch` exit non-zero naming the error, without secrets.
source "$(dirname "$0")/lib.bash"
source "$PP_SRC/tests/s3/s3.bash"
pp_need_data
command -v aws >/dev/null || { echo "SKIP: awscli (aws) not installed" >&2; exit 77; }
trap 'pp_s3_stop; pp_cleanup || true' EXIT
pp_s3_start "$PP_TMP/s3"
TOKEN='FwoGZXIvYXdzEJr//////////wEaDH+test/token=='
pp_s3_verify "$PP_TMP/s3" tok --key S3RVER:S3RVER --token "$TOKEN" --log-accepted
URL=$S3_VERIFY_URL
PORT=${URL##*:}
LOG=$PP_TMP/s3/tok.log
export AWS_SESSION_TOKEN=$TOKEN
# small parts (multipart) and list pages of 2 (continuation tokens): test knobs (lake_s3.h)
export PINPIPE_S3_PART_BYTES=64K PINPIPE_S3_MAX_KEYS=2
PREFIX='pre fix+a=b/é'
PREFIX_RE='pre fix\+a=b/é'
LAKE=(--lake "s3://lake/$PREFIX" --s3-endpoint "$URL")

dir=$PP_TMP/run
# objects rolled by size only (100K: the same sizes every run, as the replay is the same):
# full ones are multipart (64K + the rest), the last of a partition, at the stop, is smaller
# than a part for at least one partition of this sample: a single PUT
pp_start "$dir" run --listen 127.0.0.1:0 --partitions 3 --roll-bytes 100K "${LAKE[@]}"
"$PINPIPE" emulate --url "$PP_URL" --replay "$EVENTS" --concurrency 4 --quiet --json \
  >"$PP_TMP/emulate.json" || pp_fail "emulate"
sleep 3 # the lake consumer catches up with the log
pp_stop "$PP_PID"
[[ $(cat "$dir/stderr.log") == *lake_records=6786* ]] ||
  { tail -5 "$dir/stderr.log"; pp_fail "run lake_records"; }
refused=$(grep -c 'verify_proxy: refused' "$LOG" || true)
[ "$refused" = 0 ] || { grep refused "$LOG" | head -5; pp_fail "$refused requests refused"; }
echo "ok: run with the lake at s3://lake/$PREFIX through the verifying endpoint, no refusal"

# the awscli view: every object under the literal prefix, on the layout, records all there
pp_aws s3 ls --recursive "s3://lake/$PREFIX/" >"$PP_TMP/ls.txt" || pp_fail "aws s3 ls"
n=$(wc -l <"$PP_TMP/ls.txt")
[ "$n" -ge 9 ] || pp_fail "expected >= 9 objects (3 topics x 3 partitions), got $n"
# (a closed day's _SUCCESS marker is part of the layout)
bad=$(cut -c32- "$PP_TMP/ls.txt" | grep -Evc "^$PREFIX_RE/topic=(pin|geo|user)/dt=[0-9-]{10}/((pin|geo|user)\+[0-9]\+[0-9]{10}\.jsonl|_SUCCESS)$" || true)
[ "$bad" = 0 ] || { cat "$PP_TMP/ls.txt"; pp_fail "$bad keys off the layout under '$PREFIX/'"; }
mkdir -p "$PP_TMP/copy"
pp_aws s3 cp --recursive --only-show-errors "s3://lake/$PREFIX/" "$PP_TMP/copy/" || pp_fail "aws s3 cp"
lines=$(find "$PP_TMP/copy" -name '*.jsonl' -exec cat {} + | wc -l)
[ "$lines" = 6786 ] || pp_fail "awscli copy holds $lines records, want 6786"
echo "ok: awscli lists $n objects under '$PREFIX/' holding the 6786 records"

# a stale object past the committed offset: a restarted lake HEADs it at resume and deletes
# it (If-Match) after its first commit
day=$(cut -c32- "$PP_TMP/ls.txt" | grep -v '/_SUCCESS$' | sed -n '1s|.*/dt=\([^/]*\)/.*|\1|p')
stale="$PREFIX/topic=pin/dt=$day/pin+0+9000000000.jsonl"
echo '{"stale":1}' >"$PP_TMP/stale.jsonl"
pp_aws s3 cp --only-show-errors "$PP_TMP/stale.jsonl" "s3://lake/$stale" || pp_fail "aws s3 cp stale"
pp_start "$dir" lake "${LAKE[@]}"
lake=$PP_PID
for _ in $(seq 1 100); do
  pp_aws s3api head-object --bucket lake --key "$stale" >/dev/null 2>&1 || break
  sleep 0.2
done
pp_stop "$lake"
if pp_aws s3api head-object --bucket lake --key "$stale" >/dev/null 2>&1; then
  pp_fail "the stale object past the committed offset was not deleted"
fi
echo "ok: a restarted lake found a stale object past its committed offset and deleted it"

# batch reads the day back: listing pages and streamed GETs, all verified
"$PINPIPE" batch --date "$day" "${LAKE[@]}" --warehouse "$PP_TMP/batch.db" \
  >/dev/null 2>"$PP_TMP/batch.err" || { cat "$PP_TMP/batch.err"; pp_fail "batch"; }
[[ $(cat "$PP_TMP/batch.err") == *"pin=2262 geo=2262 user=2262"* ]] ||
  { cat "$PP_TMP/batch.err"; pp_fail "batch counts"; }
echo "ok: batch --date $day read the 3 x 2262 records back"

# each kind of request was verified (the proxy logs "verify_proxy: ok METHOD path ...")
want() { # want NAME ERE: the proxy verified at least one request matching ERE
  local c
  c=$(grep -Ec "^verify_proxy: ok conn=[0-9]+ $2" "$LOG" || true)
  [ "$c" -gt 0 ] || { tail -20 "$LOG"; pp_fail "no verified $1 request (/$2/)"; }
  echo "  verified: $1 x$c"
}
E='/lake/pre%20fix%2Ba%3Db/%C3%A9/' # the prefix as sent: each byte encoded once
want "PUT object" "PUT $E[^? ]+\.jsonl$"
want "CreateMultipartUpload" "POST $E[^ ]+\?uploads="
want "UploadPart 2+" "PUT $E[^ ]+\?partNumber=[2-9]"
want "CompleteMultipartUpload" "POST $E[^ ]+\?uploadId="
want "CopyObject" "PUT $E[^ ]+ copy=/lake/pre%20fix%2Ba%3Db/%C3%A9/_pending/"
want "DELETE pending key" "DELETE ${E}_pending/"
want "DELETE If-Match (stale)" "DELETE ${E}topic%3Dpin/dt%3D$day/pin%2B0%2B9000000000\.jsonl if-match"
want "HEAD" "HEAD $E"
want "GET object" "GET $E[^? ]+\.jsonl$"
want "ListObjectsV2" "GET /lake/\?list-type=2&max-keys=2&prefix=pre%20fix%2Ba%3Db%2F%C3%A9%2F"
want "ListObjectsV2 continuation" "GET /lake/\?continuation-token=[^ ]+&list-type=2"
want "ListMultipartUploads" "GET /lake/\?prefix=pre%20fix[^ ]+&uploads="
echo "ok: every kind of lake request passed the verifying endpoint with a session token"
# keep-alive through the proxy: the lake's requests share connections
reqs=$(grep -c '^verify_proxy: ok' "$LOG" || true)
conns=$(sed -n 's/^verify_proxy: ok conn=\([0-9]*\) .*/\1/p' "$LOG" | sort -u | wc -l)
[ "$conns" -gt 0 ] && [ $((conns * 4)) -le "$reqs" ] || pp_fail "keep-alive: $reqs requests on $conns connections"
echo "ok: $reqs verified requests on $conns connections (keep-alive)"

# the proxy itself: a chunked upload with Expect: 100-continue (botocore-signed) is verified
# and stored; the same request with an x-amz-* header added after signing is refused
"$PP_S3_PY" - "$URL" "$TOKEN" >"$PP_TMP/chunked.out" 2>&1 <<'PY' || { cat "$PP_TMP/chunked.out"; pp_fail "chunked upload"; }
import http.client, sys
try:
    import botocore
except ImportError:  # Debian 12's awscli 2 carries botocore: importable once awscli is
    import awscli
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
url, token = sys.argv[1], sys.argv[2]
host = url.split("//")[1]
body = b"chunked line 1\nchunked line 2\n" * 1000
def put(extra):
    req = AWSRequest(method="PUT", url=url + "/lake/chunked%20%3D%2B%C3%A9", data=body)
    S3SigV4Auth(Credentials("S3RVER", "S3RVER", token), "s3", "us-east-1").add_auth(req)
    c = http.client.HTTPConnection(host)
    c.putrequest("PUT", "/lake/chunked%20%3D%2B%C3%A9", skip_host=True, skip_accept_encoding=True)
    for k, v in list(req.headers.items()) + [("Host", host), ("Expect", "100-continue"),
                                            ("Transfer-Encoding", "chunked")] + extra:
        c.putheader(k, v)
    c.endheaders()
    for i in range(0, len(body), 4096):
        part = body[i:i + 4096]
        c.send(b"%x\r\n%s\r\n" % (len(part), part))
    c.send(b"0\r\n\r\n")
    r = c.getresponse()
    return r.status, r.read().decode()
status, text = put([])
assert status == 200, (status, text)
status, text = put([("x-amz-meta-late", "1")])
assert status == 403 and "<Code>AccessDenied</Code>" in text, (status, text)
print("ok")
PY
pp_aws s3 cp --only-show-errors "s3://lake/chunked =+é" "$PP_TMP/chunked.got" || pp_fail "aws get chunked"
[ "$(wc -l <"$PP_TMP/chunked.got")" = 2000 ] || pp_fail "the chunked upload did not arrive whole"
echo "ok: chunked + Expect: 100-continue upload verified; an x-amz header added after signing refused"

# path style by itself for localhost too (no --s3-path-style)
"$PINPIPE" batch --date "$day" --lake "s3://lake/$PREFIX" --s3-endpoint "http://localhost:$PORT" \
  --warehouse "$PP_TMP/local.db" >/dev/null 2>"$PP_TMP/local.err" ||
  { cat "$PP_TMP/local.err"; pp_fail "batch through http://localhost:$PORT"; }
echo "ok: http://localhost:$PORT without --s3-path-style"

# refusals: a wrong secret, then no session token; each fatal, named, no secret printed
if AWS_SECRET_ACCESS_KEY=wrong-secret-XYZ "$PINPIPE" batch --date "$day" "${LAKE[@]}" \
  --warehouse "$PP_TMP/w1.db" >/dev/null 2>"$PP_TMP/wrong.err"; then
  pp_fail "batch with a wrong secret succeeded"
fi
[[ $(cat "$PP_TMP/wrong.err") == *"HTTP 403 SignatureDoesNotMatch"* ]] ||
  { cat "$PP_TMP/wrong.err"; pp_fail "wrong secret: no SignatureDoesNotMatch"; }
if AWS_SECRET_ACCESS_KEY=wrong-secret-XYZ "$PINPIPE" lake "${LAKE[@]}" --data-dir "$dir" \
  >/dev/null 2>"$PP_TMP/wronglake.err"; then
  pp_fail "lake with a wrong secret succeeded"
fi
[[ $(cat "$PP_TMP/wronglake.err") == *"HTTP 403 SignatureDoesNotMatch"* ]] ||
  { cat "$PP_TMP/wronglake.err"; pp_fail "lake, wrong secret: no SignatureDoesNotMatch"; }
if env -u AWS_SESSION_TOKEN "$PINPIPE" batch --date "$day" "${LAKE[@]}" \
  --warehouse "$PP_TMP/w2.db" >/dev/null 2>"$PP_TMP/notoken.err"; then
  pp_fail "batch without the session token succeeded"
fi
[[ $(cat "$PP_TMP/notoken.err") == *"HTTP 403 InvalidToken"* ]] ||
  { cat "$PP_TMP/notoken.err"; pp_fail "no token: no InvalidToken"; }
leaks=$(grep -Fc -e "wrong-secret-XYZ" -e "$TOKEN" -e "$AWS_SECRET_ACCESS_KEY" \
  "$PP_TMP/wrong.err" "$PP_TMP/wronglake.err" "$PP_TMP/notoken.err" "$PP_TMP/batch.err" "$dir/stderr.log" | grep -vc ':0$' || true)
[ "$leaks" = 0 ] || pp_fail "credentials in pinpipe's output"
refused=$(grep -c 'verify_proxy: refused' "$LOG" || true)
[ "$refused" = 4 ] || { grep refused "$LOG"; pp_fail "want exactly the 4 refusals, got $refused"; }
echo "ok: wrong secret -> $(head -c 120 "$PP_TMP/wrong.err")"
echo "ok: wrong secret, lake -> $(head -c 120 "$PP_TMP/wronglake.err")"
echo "ok: no session token -> $(head -c 120 "$PP_TMP/notoken.err")"
