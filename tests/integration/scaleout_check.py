#!/usr/bin/env python3
"""scaleout_check.py: exactly-once checks for the scale-out stack (Kafka log, PostgreSQL warehouse,
S3 lake copied out with awscli), independent of pinpipe's code.

The log is read through `pinpipe log tail` with --log-arg ARG... (as check_pipeline.py does), the
warehouse with psql, the lake from a local copy of the objects (`aws s3 cp --recursive`), and:
  - log: offsets contiguous; every record id of --events is present in pin, geo and user (the
    emulators exited 0: every event was acknowledged);
  - warehouse: pin/geo/user each hold every id seen in the log exactly once (count == distinct ==
    the log's id set) and pp_offsets of group 'stream' equal the log's high watermarks;
  - lake: per topic/partition the objects tile the offsets exactly from the low to the high
    watermark, every line equals (as JSON) the log record at its offset; a summary line
    "lake records: pin=N geo=N user=N" gives the per-topic totals (for batch's counts).
Exit 0 when all hold, 1 with the failures listed otherwise.
"""
import argparse
import json
import os
import re
import subprocess
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from check_pipeline import KINDS, check_lake, read_log  # noqa: E402


def psql(url, sql):
    out = subprocess.run(["psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", url, "-c", sql],
                         check=True, capture_output=True, text=True).stdout
    return [line for line in out.splitlines() if line.strip()]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--pinpipe", required=True)
    ap.add_argument("--data-dir", required=True, help="any directory (pinpipe log's --data-dir)")
    ap.add_argument("--log-arg", action="append", default=[])
    ap.add_argument("--events", required=True)
    ap.add_argument("--pg-url", required=True)
    ap.add_argument("--lake", required=True, help="local copy of the lake prefix")
    a = ap.parse_args()
    errors = []
    log = read_log(a.pinpipe, a.data_dir, a.log_arg)
    ids = {t: set() for t in KINDS}
    totals = {t: 0 for t in KINDS}
    for topic, parts in log.items():
        if not parts:
            errors.append(f"log {topic}: no partitions")
        for p, recs in parts.items():
            offs = [o for o, _ in recs]
            if offs and offs != list(range(offs[0], offs[0] + len(offs))):
                errors.append(f"log {topic}/{p}: offsets not contiguous")
            for _, v in recs:
                ids[topic].add(int(json.loads(v)[KINDS[topic]]))
            totals[topic] += len(recs)
    print("log: " + ", ".join(f"{t}={totals[t]} records/{len(ids[t])} ids" for t in KINDS)
          + ", partitions " + ", ".join(f"{t}={len(log[t])}" for t in KINDS))

    want = set()
    with open(a.events) as f:
        for line in f:
            if line.strip():
                want.add(int(json.loads(line)["pin"]["index"]))
    for t in KINDS:
        if ids[t] != want:
            errors.append(f"log {t}: {len(want - ids[t])} acknowledged event ids missing, "
                          f"{len(ids[t] - want)} unexpected")

    counts = {}
    for t in KINDS:
        rows = [int(x) for x in psql(a.pg_url, f'select ind from "{t}"')]
        counts[t] = len(rows)
        if len(rows) != len(set(rows)) or set(rows) != ids[t]:
            errors.append(f"warehouse {t}: {len(rows)} rows, {len(set(rows))} distinct, "
                          f"{len(ids[t] - set(rows))} log ids missing, "
                          f"{len(set(rows) - ids[t])} extra")
        offs = {}
        for line in psql(a.pg_url, "select partition||' '||next_offset from pp_offsets "
                                   f"where consumer_group='stream' and topic='{t}'"):
            p, n = line.split()
            offs[int(p)] = int(n)
        for p, recs in log[t].items():
            high = recs[-1][0] + 1 if recs else 0
            if offs.get(p, 0) != high:
                errors.append(f"warehouse offsets {t}/{p}: {offs.get(p)} != high watermark {high}")
    print("warehouse: " + ", ".join(f"{t}={n}" for t, n in counts.items()))

    nobj, lines_by = check_lake(a.lake, log, errors)
    # besides the data: the _SUCCESS markers of closed days (their folders' own names)
    everything = [os.path.join(d, f) for d, _, fs in os.walk(a.lake) for f in fs
                  if not (f == "_SUCCESS" and re.search(r"/topic=\w+/dt=[\d-]+$", d))]
    if len(everything) != nobj:
        errors.append(f"lake: {len(everything)} objects under the prefix, {nobj} of them on the "
                      "layout of a log partition")
    print(f"lake: {nobj} objects")
    print("lake records: " + " ".join(f"{t}={lines_by[t]}" for t in KINDS))
    for e in errors[:40]:
        print("FAIL:", e, file=sys.stderr)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
