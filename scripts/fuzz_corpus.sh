#!/usr/bin/env bash
# fuzz_corpus.sh: build the fuzzers' seed corpora into build-fuzz/corpus/<name>/ (or $1) from
# the real sample in ../shared/data (read there, never copied into the repository): single
# records, API-shaped bodies of the three ingest shapes, log segments, S3 listings of lake keys.
# Without ../shared/data (or $PP_SHARED/data) it writes a few generated seeds only. The
# regression inputs tests/fuzz/regress/<name>/ are seeds too: scripts/fuzz.sh passes both.
# usage: scripts/fuzz_corpus.sh [OUT_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-build-fuzz/corpus}
shared=${PP_SHARED:-$PWD/../shared}
data="$shared/data"
[ -f "$data/aicore_events.jsonl" ] || { echo "fuzz_corpus: no $data/aicore_events.jsonl: generated seeds only" >&2; data=""; }
exec python3 - "$out" "$data" <<'PY'
import base64, json, os, struct, sys

out, data = sys.argv[1], sys.argv[2]
N_EVENTS = 300          # single-record seeds taken from the sample (of 2262 events)
written = {}

def put(name, blob):
    d = os.path.join(out, name)
    os.makedirs(d, exist_ok=True)
    n = written.get(name, 0)
    with open(os.path.join(d, "seed-%05d" % n), "wb") as f:
        f.write(blob)
    written[name] = n + 1

def enc(obj):
    return json.dumps(obj, ensure_ascii=False).encode()

# the events: {"pin": {...}, "geo": {...}, "user": {...}} per line
events = []
if data:
    with open(os.path.join(data, "aicore_events.jsonl"), encoding="utf-8") as f:
        for line in f:
            if line.strip():
                events.append(json.loads(line))
else:  # a tiny generated sample of the same shape
    for i in range(1, 6):
        events.append({
            "pin": {"index": i, "unique_id": "u-%d" % i, "title": "t\u00e9 %d" % i,
                    "description": "d", "poster_name": "User Info Error",
                    "follower_count": ["437", "12k", "1.2M", "User Info Error", ""][i % 5],
                    "tag_list": "a,b", "is_image_or_video": "image", "image_src": "x",
                    "downloaded": i % 2, "save_location": "Local save in /data/x",
                    "category": "x"},
            "geo": {"ind": i, "timestamp": "2020-08-28 03:52:47", "latitude": -89.97 + i,
                    "longitude": 17.5, "country": "Chad"},
            "user": {"ind": i, "first_name": "A", "last_name": "B", "age": 20 + i,
                     "date_joined": "2015-10-24 11:23:51"}})
kinds = ["pin", "geo", "user"]
# spread over the sample, not just its start
step = max(1, len(events) // N_EVENTS)
picked = events[::step][:N_EVENTS]

for i, ev in enumerate(picked):
    for k, kind in enumerate(kinds):
        rec = enc(ev[kind])
        digit = str(k).encode()
        put("json", rec)
        put("clean", digit + rec)
        put("fastapi", digit + rec)
        put("b64", rec if i % 2 else base64.b64encode(rec))
        # Kinesis PutRecord: embedded object or base64 Data
        if i % 2:
            put("kinesis", digit + b"0" + enc({"StreamName": "streaming-0a1b2c-" + kind,
                                                "Data": ev[kind], "PartitionKey": "1"}))
        else:
            put("kinesis", digit + b"0" + enc({"Data": base64.b64encode(rec).decode(),
                                                "PartitionKey": "1"}))
    put("json", enc(ev))

# batches: REST proxy and Kinesis PutRecords, 1..64 records, plus a few big ones (~1 MiB cap)
sizes = [1, 2, 3, 5, 8, 16, 64]
for j, n in enumerate(sizes * 3):
    kind = kinds[j % 3]
    digit = str(j % 3).encode()
    recs = [ev[kind] for ev in picked[j:j + n]] or [picked[0][kind]]
    put("proxy", digit + b"000" + enc({"records": [{"value": r} for r in recs]}))
    put("proxy", digit + b"120" + enc({"records": [
        {"key": str(r.get("index", r.get("ind"))), "partition": 0,
         "value": base64.b64encode(enc(r)).decode()} for r in recs]}))
    put("kinesis", digit + b"1" + enc({"records": [
        {"data": base64.b64encode(enc(r)).decode(), "partition-key": "k"} for r in recs]}))
for kind in range(3):
    recs, body = [], b""
    for ev in events:  # as many records as fit in ~900 KiB
        recs.append({"value": ev[kinds[kind]]})
        if len(recs) % 200 == 0 and len(enc({"records": recs})) > 900 * 1024:
            break
    put("proxy", str(kind).encode() + b"000" + enc({"records": recs}))

# Kafka consumer dumps and the 2022 pin table, when present: real documents as they are
if data:
    for name in ["regnixs_pin_consumer.json", "regnixs_geo_consumer.json",
                 "regnixs_user_consumer.json"]:
        p = os.path.join(data, name)
        if os.path.exists(p):
            with open(p, "rb") as f:
                put("json", f.read())
    p = os.path.join(data, "pascallipookim_pinterest_data_2022.json")
    if os.path.exists(p):
        with open(p, encoding="utf-8") as f:
            dec, s, pos = json.JSONDecoder(), f.read(), 0
        for i in range(40):  # objects concatenated without a separator
            while pos < len(s) and s[pos].isspace():
                pos += 1
            if pos >= len(s):
                break
            obj, pos = dec.raw_decode(s, pos)
            put("clean", b"0" + enc(obj))
            put("fastapi", b"0" + enc(obj))

# log segments: frames as the log writes them; mode 3 lets the harness fix CRCs and offsets
def frame(off, key, val, ts=1764000000000):
    body = struct.pack("<qqI", off, ts, len(key)) + key + val
    return struct.pack("<II", 0, 20 + len(key) + len(val)) + body
for j, n in enumerate([1, 2, 3, 10, 40]):
    seg = b"".join(frame(i, str(i).encode(), enc(ev["pin"])) for i, ev in enumerate(picked[:n]))
    put("log", b"3" + seg)
    put("log", b"7" + seg)
    put("log", b"3" + seg[:-7])  # torn in the last frame
    put("log", b"1" + seg[:31])  # after the valid records: a torn frame

# S3 listings of lake keys (ListObjectsV2, ListMultipartUploads), errors, multipart answers
keys = ["lake/topic=%s/dt=2026-12-0%d/%s+%d+%010d.jsonl" % (k, 1 + i % 7, k, i % 2, i * 1000)
        for i, k in enumerate(kinds * 5)]
def xml_list(ks, truncated):
    body = "".join("<Contents><Key>%s</Key><LastModified>2026-12-07T00:00:00.000Z</LastModified>"
                   "<ETag>&quot;%032x&quot;</ETag><Size>%d</Size></Contents>" % (k, i, 100 + i)
                   for i, k in enumerate(ks))
    t = "<IsTruncated>true</IsTruncated><NextContinuationToken>1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=</NextContinuationToken>" if truncated else "<IsTruncated>false</IsTruncated>"
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
            "<Name>bucket</Name><Prefix>lake/</Prefix><KeyCount>%d</KeyCount>%s%s</ListBucketResult>" % (len(ks), t, body)).encode()
put("s3xml", xml_list(keys[:3], False))
put("s3xml", xml_list(keys, True))
put("s3xml", ('<ListMultipartUploadsResult><Bucket>b</Bucket>' + "".join(
    "<Upload><Key>%s</Key><UploadId>%s</UploadId></Upload>" % (k.replace("lake/", "lake/_pending/"), "2~" + "x" * 20)
    for k in keys[:4]) + "</ListMultipartUploadsResult>").encode())
put("s3xml", b'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message><RequestId>1</RequestId></Error>')
put("s3xml", b"<InitiateMultipartUploadResult><Bucket>b</Bucket><Key>k</Key><UploadId>VXBsb2Fk</UploadId></InitiateMultipartUploadResult>")
put("s3xml", b'<CompleteMultipartUploadResult><ETag>"3858f62230ac3c915f300c664312c11f-9"</ETag></CompleteMultipartUploadResult>')
put("s3xml", b"\n".join(enc(ev["pin"]) for ev in picked[:20]) + b"\n")  # a lake object body

for e in ["0 3 * * *", "@daily", "*/5 * * * *", "0 0 1 1 *", "0 12 * * 1-5", "15,45 */2 1-7 * 0",
          "0 0 29 2 *", "0 0 31 4 *", "59 23 31 12 7", "0-59/7 0-23/5 */3 */2 */3"]:
    put("cron", e.encode())
for c in range(3):
    put("config", str(c).encode() + b"[pinpipe]\ndata_dir = /var/lib/pinpipe\n[serve]\n"
        b"listen = 127.0.0.1:0\nmax_body = 8M\n[log]\nfsync = interval:5\n[lake]\n"
        b"url = s3://bucket/lake\ns3_path_style = yes\n[kafka]\nsecurity.protocol = SASL_SSL\n"
        b"sasl.password = x\n")

print("fuzz_corpus: " + ", ".join("%s %d" % kv for kv in sorted(written.items())), file=sys.stderr)
PY
