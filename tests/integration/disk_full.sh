#!/usr/bin/env bash
# disk_full.sh: serve on a small filesystem (a 24 MiB tmpfs). Once it is full, appends fail:
# every API answers retriable (503 + Retry-After; REST proxy error_code 2 per record), one
# warning per episode, /readyz not ready; when space returns, appends succeed again and
# /readyz is ready by itself; every acknowledged record is in the log once.
source "$(dirname "$0")/lib.bash"
mnt=$PP_TMP/mnt
mkdir -p "$mnt"
if ! mount -t tmpfs -o size=24m tmpfs "$mnt" 2>"$PP_TMP/mount.err"; then
  echo "SKIP: cannot mount a tmpfs here ($(cat "$PP_TMP/mount.err"))" >&2; exit 77
fi
trap 'kill -9 ${PP_PIDS[*]:-} 2>/dev/null || true; umount -l "$mnt" 2>/dev/null || true; pp_cleanup' EXIT
d=$mnt/d
pp_start "$d" serve --listen 127.0.0.1:0 --fsync always --segment-bytes 1M
# leave ~1 MiB free: the log fills it within a few thousand records
avail=$(df --output=avail -B1 "$mnt" | tail -1)
fallocate -l $((avail - (1 << 20))) "$mnt/filler" 2>/dev/null ||
  dd if=/dev/zero of="$mnt/filler" bs=1M count=$((avail / 1048576 - 1)) status=none || true
python3 - "$PP_URL" "$mnt/filler" "$PP_TMP/acked" <<'PY' || pp_fail "disk-full client checks"
import http.client, json, os, sys, time, urllib.parse
url, filler, acked_path = sys.argv[1:]
u = urllib.parse.urlparse(url)
conn = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
def req(method, path, body=None, ctype="application/json"):
    h = {"Content-Type": ctype} if body is not None else {}
    conn.request(method, path, body=json.dumps(body) if body is not None else None, headers=h)
    r = conn.getresponse()
    return r.status, r.getheader("Retry-After"), r.read().decode()
def pin(i):
    return {"index": i, "unique_id": "u%d" % i, "title": "t" * 200, "description": "d" * 200,
            "follower_count": "1k", "poster_name": "p", "tag_list": "a,b",
            "is_image_or_video": "image", "image_src": "x", "downloaded": 1,
            "save_location": "Local save in /data/x", "category": "x"}
acked, i = [], 0
# 1. fill: single FastAPI records until the log refuses one
while True:
    i += 1
    st, ra, body = req("POST", "/pin/", pin(i))
    if st == 200:
        acked.append(i); continue
    assert st == 503 and ra, (st, ra, body)
    assert "retry" in body.lower(), body
    break
    if i > 200000: raise SystemExit("the disk never filled")
print("disk full after", len(acked), "records", file=sys.stderr)
# 2. every API answers retriable while full
st, ra, body = req("POST", "/topics/x.pin", {"records": [{"value": pin(10**6 + k)} for k in range(3)]},
                   "application/vnd.kafka.json.v2+json")
if st == 200:
    offs = json.loads(body)["offsets"]
    assert all(o["error_code"] == 2 for o in offs if o.get("error_code")), body
    acked += [10**6 + k for k, o in enumerate(offs) if o.get("error_code") is None]
    assert any(o.get("error_code") == 2 for o in offs), body
else:
    assert st == 503 and ra, (st, body)
    assert json.loads(body)["error_code"] == 50003, body
st, ra, body = req("PUT", "/streams/x.pin/record", {"Data": pin(2 * 10**6)})
assert st == 503 and ra and json.loads(body)["__type"] == "ServiceUnavailableException", (st, body)
st, ra, body = req("GET", "/readyz")
assert st == 503 and "disk full" in body, (st, body)
st, _, body = req("GET", "/healthz")
assert st == 200, (st, body)
# 3. space returns: appends succeed again, /readyz ready by itself
os.unlink(filler)
deadline = time.time() + 30
while True:
    i += 1
    st, ra, body = req("POST", "/pin/", pin(i))
    if st == 200:
        acked.append(i); break
    assert st == 503, (st, body)
    assert time.time() < deadline, "appends did not succeed again"
st, _, body = req("GET", "/readyz")
assert st == 200, (st, body)
open(acked_path, "w").write("\n".join(map(str, acked)) + "\n")
PY
pp_stop "$PP_PID"
n=$(grep -c "log appends fail" "$d/stderr.log" || true)
[ "$n" = 1 ] || pp_fail "expected one warning for the episode, got $n: $(cat "$d/stderr.log")"
grep -q "log appends succeed again" "$d/stderr.log" || pp_fail "no line when appends recovered"
"$PINPIPE" log tail --data-dir "$d" --topic pin --from-beginning --value-only >"$PP_TMP/pins" ||
  pp_fail "log tail"
python3 - "$PP_TMP/acked" "$PP_TMP/pins" <<'PY' || pp_fail "acknowledged records missing or doubled"
import collections, json, sys
acked = {int(x) for x in open(sys.argv[1]) if x.strip()}
ids = collections.Counter(json.loads(l)["index"] for l in open(sys.argv[2]))
missing = acked - set(ids)
doubled = [k for k, c in ids.items() if c > 1]
assert not missing, "missing: %s" % sorted(missing)[:10]
assert not doubled, "doubled: %s" % doubled[:10]
print("disk_full: %d acknowledged records, all in the log once" % len(acked))
PY
echo "disk_full: ok"
