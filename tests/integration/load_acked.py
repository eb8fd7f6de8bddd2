#!/usr/bin/env python3
"""load_acked.py: a load client for crash tests that records what the server acknowledged.

Posts the pin, geo and user records of each event (FastAPI shape, keep-alive, N threads) to
--url until --duration seconds pass, --events are exhausted --loops times, or the server is
gone; appends "<topic> <id>" to --out (flushed) for every 200 answer, before sending the next.
"""
import argparse
import http.client
import json
import sys
import threading
import time
import urllib.parse


def worker(idx, nthreads, events, url, deadline, out, lock, stats, loops):
    u = urllib.parse.urlparse(url)
    conn = None
    for _ in range(loops):
        for i in range(idx, len(events), nthreads):
            for topic in ("pin", "geo", "user"):
                if time.time() > deadline:
                    return
                body = events[i][topic]
                try:
                    if conn is None:
                        conn = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
                    conn.request("POST", f"/{topic}/", body, {"Content-Type": "application/json"})
                    resp = conn.getresponse()
                    resp.read()
                except (OSError, http.client.HTTPException):
                    stats["errors"] += 1
                    return  # server gone (killed): stop this worker
                if resp.status == 200:
                    ident = json.loads(body)["index" if topic == "pin" else "ind"]
                    with lock:
                        out.write(f"{topic} {ident}\n")
                        out.flush()
                        stats["acked"] += 1
                else:
                    stats["rejected"] += 1


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--url", required=True)
    ap.add_argument("--events", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--threads", type=int, default=8)
    ap.add_argument("--duration", type=float, default=10)
    ap.add_argument("--loops", type=int, default=1)
    a = ap.parse_args()
    events = []
    with open(a.events) as f:
        for line in f:
            ev = json.loads(line)
            events.append({k: json.dumps(v) for k, v in ev.items()})
    stats = {"acked": 0, "rejected": 0, "errors": 0}
    lock = threading.Lock()
    deadline = time.time() + a.duration
    with open(a.out, "a") as out:
        threads = [threading.Thread(target=worker, args=(i, a.threads, events, a.url, deadline,
                                                          out, lock, stats, a.loops))
                   for i in range(a.threads)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    print(json.dumps(stats))
    return 1 if stats["rejected"] else 0


if __name__ == "__main__":
    sys.exit(main())
