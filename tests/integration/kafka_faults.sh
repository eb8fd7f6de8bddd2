#!/usr/bin/env bash
# kafka_faults.sh: answers on the Kafka log never claim what serve does not know.
# A REST-proxy batch of 600 records (over the 256 settled per chunk) answers an offset for every
# record, and each one is where Kafka holds that record. Then with the fault point
# log_ticket_records on (PINPIPE_TEST_FAULTS, src/core/pp_fault.h: the settled ticket's offsets
# are unknown, as for one forgotten since) a 300-record REST-proxy batch and a 300-record
# Kinesis PutRecords batch answer a retriable error per record (error_code 2 / ErrorCode), and a
# FastAPI post and a Kinesis PutRecord answer 503 (retriable), never 200 with offset -1;
# resending the batches without the fault stores every record.
source "$(dirname "$0")/lib.bash"
command -v kcat >/dev/null || { echo "SKIP: kcat missing" >&2; exit 77; }
MOCK=${PP_TOOLS:-$(dirname "$PINPIPE")}/pp_kafka_mock
[ -x "$MOCK" ] || { echo "SKIP: $MOCK not built" >&2; exit 77; }

pp_mock_start "$PP_TMP/mock"
B=$MOCK_BROKERS

"$PINPIPE" gen --rows 1200 --seed 11 --out "$PP_TMP/src" >/dev/null 2>&1 || pp_fail "gen failed"
python3 - "$PP_TMP/src/user.jsonl" "$PP_TMP" <<'PY'
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
d = sys.argv[2]
json.dump({"records": [{"value": r} for r in recs[:600]]}, open(d + "/big.json", "w"))
json.dump({"records": [{"value": r} for r in recs[600:900]]}, open(d + "/proxy.json", "w"))
json.dump({"records": [{"data": r, "partition-key": str(r["ind"])} for r in recs[900:1200]]},
          open(d + "/kinesis.json", "w"))
PY
proxy_post() { # $1: body file, $2: response file; fails on a transport error
  curl -s -o "$2" -w '%{http_code}' -H 'Content-Type: application/vnd.kafka.json.v2+json' \
    --data-binary @"$1" "$PP_URL/topics/x.user" || pp_fail "proxy post of $1 failed"
}
kinesis_put() {
  curl -s -o "$2" -w '%{http_code}' -X PUT -H 'Content-Type: application/json' \
    --data-binary @"$1" "$PP_URL/streams/streaming-x-user/records" || pp_fail "kinesis put failed"
}

# 1. no fault: 600 records, every answered offset is the record's place in Kafka
dir=$PP_TMP/ok
pp_start "$dir" serve --listen 127.0.0.1:0 --partitions 6 --log kafka --brokers "$B" \
  -X linger.ms=20
code=$(proxy_post "$PP_TMP/big.json" "$dir/big.resp")
[ "$code" = 200 ] || pp_fail "600-record batch answered $code: $(head -c 300 "$dir/big.resp")"
pp_stop "$PP_PID"
kcat -b "$B" -C -t user -o beginning -e -q -f '%p %o %k\n' >"$dir/kafka.txt" 2>"$dir/kcat.err" \
  || pp_fail "kcat -C failed: $(cat "$dir/kcat.err")"
python3 - "$PP_TMP/big.json" "$dir/big.resp" "$dir/kafka.txt" <<'PY' \
  || pp_fail "600-record answer wrong: $(head -c 400 "$dir/big.resp")"
import json, sys
batch = json.load(open(sys.argv[1]))["records"]
offs = json.load(open(sys.argv[2]))["offsets"]
kafka = {}
for line in open(sys.argv[3]):
    p, o, k = line.split()
    kafka[(int(p), int(o))] = k
assert len(offs) == len(batch) == 600, len(offs)
bad = [i for i, o in enumerate(offs) if o.get("error_code") is not None or o["offset"] < 0]
assert not bad, f"records without an offset: {bad[:10]}"
wrong = [i for i, (r, o) in enumerate(zip(batch, offs))
         if kafka.get((o["partition"], o["offset"])) != str(r["value"]["ind"])]
assert not wrong, f"answered offsets not holding their record: {wrong[:10]} (e.g. {offs[wrong[0]]})"
print("600-record batch: every offset answered, each holds its record in Kafka")
PY

# 2. fault on: the offsets are unknown; the answers say retriable, per record
dir=$PP_TMP/fault
PINPIPE_TEST_FAULTS=log_ticket_records pp_start "$dir" serve --listen 127.0.0.1:0 \
  --partitions 6 --log kafka --brokers "$B" -X linger.ms=20
code=$(proxy_post "$PP_TMP/proxy.json" "$dir/proxy.resp")
kcode=$(kinesis_put "$PP_TMP/kinesis.json" "$dir/kinesis.resp")
# the one-record shapes have no per-record errors: the request itself is refused, retriable
head -1 "$PP_TMP/src/pin.jsonl" >"$dir/one.json"
fcode=$(curl -s -o "$dir/fastapi.resp" -w '%{http_code}' -H 'Content-Type: application/json' \
  --data-binary @"$dir/one.json" "$PP_URL/pin/") || pp_fail "FastAPI post failed"
python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print(json.dumps({"Data": r, "PartitionKey": "k"}))' \
  "$dir/one.json" >"$dir/put1.json"
pcode=$(curl -s -o "$dir/put1.resp" -w '%{http_code}' -X PUT -H 'Content-Type: application/json' \
  --data-binary @"$dir/put1.json" "$PP_URL/streams/streaming-x-pin/record") \
  || pp_fail "Kinesis PutRecord failed"
[ "$fcode" = 503 ] && grep -q '"detail"' "$dir/fastapi.resp" \
  || pp_fail "FastAPI record with an unknown offset answered $fcode: $(cat "$dir/fastapi.resp")"
[ "$pcode" = 503 ] && grep -q '"__type"' "$dir/put1.resp" \
  || pp_fail "Kinesis PutRecord with an unknown offset answered $pcode: $(cat "$dir/put1.resp")"
echo "fault on: FastAPI $fcode, Kinesis PutRecord $pcode"
python3 - "$code" "$dir/proxy.resp" "$kcode" "$dir/kinesis.resp" <<'PY' \
  || pp_fail "unknown offsets answered as stored: $code $(head -c 300 "$dir/proxy.resp") / $kcode $(head -c 300 "$dir/kinesis.resp")"
import json, sys
code, kcode = int(sys.argv[1]), int(sys.argv[3])
if code == 200:
    offs = json.load(open(sys.argv[2]))["offsets"]
    assert len(offs) == 300, len(offs)
    assert all(o.get("error_code") == 2 and o["offset"] is None for o in offs), \
        [o for o in offs if o.get("error_code") != 2][:3]
else:
    assert code in (500, 503), code
if kcode == 200:
    resp = json.load(open(sys.argv[4]))
    assert resp["FailedRecordCount"] == 300, resp["FailedRecordCount"]
    assert all(r.get("ErrorCode") == "ProvisionedThroughputExceededException"
               for r in resp["Records"]), resp["Records"][:3]
else:
    assert kcode in (500, 503), kcode
print(f"fault on: REST proxy {code}, Kinesis {kcode}: every record retriable, no offset -1")
PY
pp_stop "$PP_PID"

# 3. the clients' resends (no fault) are stored: Kafka holds every record (some twice: the
#    first tries were stored too; downstream deduplicates by id)
dir=$PP_TMP/resend
pp_start "$dir" serve --listen 127.0.0.1:0 --partitions 6 --log kafka --brokers "$B" \
  -X linger.ms=20
code=$(proxy_post "$PP_TMP/proxy.json" "$dir/proxy.resp")
kcode=$(kinesis_put "$PP_TMP/kinesis.json" "$dir/kinesis.resp")
[ "$code" = 200 ] && ! grep -q '"error_code"' "$dir/proxy.resp" \
  || pp_fail "resend refused: $code $(head -c 300 "$dir/proxy.resp")"
[ "$kcode" = 200 ] && grep -q '"FailedRecordCount":0' "$dir/kinesis.resp" \
  || pp_fail "Kinesis resend refused: $kcode $(head -c 300 "$dir/kinesis.resp")"
pp_stop "$PP_PID"
kcat -b "$B" -C -t user -o beginning -e -q -f '%k\n' >"$dir/keys.txt" 2>"$dir/kcat.err" \
  || pp_fail "kcat -C failed: $(cat "$dir/kcat.err")"
n=$(sort -u "$dir/keys.txt" | wc -l)
[ "$n" = 1200 ] || pp_fail "Kafka holds $n distinct user records, want 1200"
kill -TERM "$MOCK_PID"; wait "$MOCK_PID" || true
echo "kafka faults: passed"
