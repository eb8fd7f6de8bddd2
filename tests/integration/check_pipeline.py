#!/usr/bin/env python3
"""check_pipeline.py: exactly-once checks over one pinpipe data dir, independent of pinpipe's code.

Reads the log through `pinpipe log tail` (tab-separated topic, partition, offset, ts_ms, value;
with --log-arg ARG..., e.g. --log-arg=--log --log-arg=kafka --log-arg=--brokers --log-arg=HOST:PORT,
the arguments are passed to `pinpipe log` and the partitions come from `pinpipe log topics`),
the warehouse with sqlite3, and the lake files directly, and checks:
  - log: offsets contiguous from the low watermark; with --events, every record id of the
    events file is present; with --acked-ids FILE (lines "topic id"), every acked id is present;
  - warehouse (unless --no-warehouse): pin/geo/user each hold every id seen in the log exactly once (PRIMARY KEY makes
    duplicates impossible, so the check is count == distinct log ids), and the stream's stored
    offsets equal the log's high watermarks;
  - lake: per topic/partition the finished files tile the offsets exactly (file start offset +
    line count == next file's start), cover the whole log, and every line equals (as JSON) the
    log record at its offset.
Exit 0 when all hold, 1 with the failures listed otherwise.
"""
import argparse
import glob
import json
import os
import re
import sqlite3
import subprocess
import sys

KINDS = {"pin": "index", "geo": "ind", "user": "ind"}


def log_partitions(pinpipe, data_dir, log_args):
    """{topic: [partition, ...]} from `pinpipe log topics` (a non-embedded log)."""
    out = subprocess.run([pinpipe, "log", "topics", "--data-dir", data_dir] + log_args,
                         check=True, capture_output=True, text=True).stdout
    parts = {}
    for line in out.splitlines()[1:]:
        f = line.split("\t")
        if len(f) >= 2 and f[1].isdigit():
            parts.setdefault(f[0], []).append(int(f[1]))
    return parts


def read_log(pinpipe, data_dir, log_args=()):
    """{topic: {partition: [(offset, value_str), ...]}} for every on-disk partition."""
    log = {}
    log_args = list(log_args)
    listed = log_partitions(pinpipe, data_dir, log_args) if log_args else None
    for topic in KINDS:
        tdir = os.path.join(data_dir, "log", "topics", topic)
        if listed is not None:
            parts = sorted(listed.get(topic, []))
        else:
            parts = sorted(int(p) for p in os.listdir(tdir) if p.isdigit()) if os.path.isdir(tdir) else []
        log[topic] = {}
        for p in parts:
            out = subprocess.run([pinpipe, "log", "tail", "--data-dir", data_dir] + log_args + ["--topic", topic,
                                  "--partition", str(p), "--from-beginning", "-n", "100000000"],
                                 check=True, capture_output=True, text=True).stdout
            recs = []
            for line in out.splitlines():
                t, part, off, _ts, value = line.split("\t", 4)
                assert t == topic and int(part) == p, line
                recs.append((int(off), value))
            log[topic][p] = recs
    return log


def check_lake(lake, log, errors):
    """The lake files of every log partition tile its offsets (no gap, no overlap) and each line
    equals its log record; problems are appended to errors. Returns (files, {topic: lines})."""
    nfiles, lines_by = 0, {t: 0 for t in KINDS}
    for t in KINDS:
        for p, recs in log[t].items():
            files = []
            for path in glob.glob(os.path.join(lake, f"topic={t}", "dt=*", f"{t}+{p}+*.jsonl")):
                m = re.search(r"\+(\d{10})\.jsonl$", path)
                files.append((int(m.group(1)), path))
            files.sort()
            by_off = dict(recs)
            expect = recs[0][0] if recs else 0
            for start, path in files:
                if start != expect:
                    errors.append(f"lake {t}/{p}: file {os.path.basename(path)} starts at "
                                  f"{start}, expected {expect} (gap or overlap)")
                with open(path) as f:
                    lines = f.read().splitlines()
                for i, line in enumerate(lines):
                    v = by_off.get(start + i)
                    if v is None or json.loads(line) != json.loads(v):
                        errors.append(f"lake {t}/{p}: line {i} of {path} != log offset {start + i}")
                        break
                expect = start + len(lines)
                nfiles += 1
                lines_by[t] += len(lines)
            high = recs[-1][0] + 1 if recs else 0
            if expect != high:
                errors.append(f"lake {t}/{p}: files end at offset {expect}, log at {high}")
    return nfiles, lines_by


def check_warehouse(wh, log, ids, errors):
    """pin/geo/user hold every log id exactly once; the stream's offsets equal the high
    watermarks. Problems are appended to errors."""
    db = sqlite3.connect(wh, timeout=10)
    for t in KINDS:
        n, d = db.execute(f'select count(*), count(distinct ind) from "{t}"').fetchone()
        have = {r[0] for r in db.execute(f'select ind from "{t}"')}
        if n != d or have != ids[t]:
            errors.append(f"warehouse {t}: {n} rows, {d} distinct, {len(ids[t] - have)} log ids "
                          f"missing, {len(have - ids[t])} extra")
        for p, recs in log[t].items():
            row = db.execute("select next_offset from pp_offsets where consumer_group='stream' "
                             "and topic=? and partition=?", (t, p)).fetchone()
            high = recs[-1][0] + 1 if recs else 0
            if (row[0] if row else 0) != high:
                errors.append(f"warehouse offsets {t}/{p}: {row} != high watermark {high}")
    counts = {t: db.execute('select count(*) from "%s"' % t).fetchone()[0] for t in KINDS}
    print("warehouse: " + ", ".join(f"{t}={n}" for t, n in counts.items()))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--pinpipe", required=True)
    ap.add_argument("--data-dir", required=True)
    ap.add_argument("--events")
    ap.add_argument("--acked-ids")
    ap.add_argument("--emulate-summary")
    ap.add_argument("--expect-distinct", type=int)
    ap.add_argument("--no-lake", action="store_true")
    ap.add_argument("--no-warehouse", action="store_true",
                    help="skip the warehouse checks (a run without a stream consumer)")
    ap.add_argument("--warehouse")
    ap.add_argument("--lake")
    ap.add_argument("--log-arg", action="append", default=[],
                    help="an argument for `pinpipe log` (repeat), e.g. --log-arg=--log --log-arg=kafka")
    a = ap.parse_args()
    errors = []
    log = read_log(a.pinpipe, a.data_dir, a.log_arg)
    ids = {t: set() for t in KINDS}
    total = 0
    for topic, parts in log.items():
        for p, recs in parts.items():
            offs = [o for o, _ in recs]
            if offs and offs != list(range(offs[0], offs[0] + len(offs))):
                errors.append(f"log {topic}/{p}: offsets not contiguous")
            for _, v in recs:
                ids[topic].add(int(json.loads(v)[KINDS[topic]]))
            total += len(recs)
    print(f"log: {total} records, distinct ids " + ", ".join(f"{t}={len(s)}" for t, s in ids.items()))

    if a.events:
        want = set()
        with open(a.events) as f:
            for line in f:
                ev = json.loads(line)
                want.add(int(ev["pin"]["index"]))
        for t in KINDS:
            if ids[t] != want:
                errors.append(f"log {t}: {len(want - ids[t])} event ids missing, "
                              f"{len(ids[t] - want)} unexpected")
    if a.acked_ids:
        with open(a.acked_ids) as f:
            acked = [line.split() for line in f if line.strip()]
        missing = [(t, i) for t, i in acked if int(i) not in ids[t]]
        print(f"acked: {len(acked)} records, missing from the log: {len(missing)}")
        if missing:
            errors.append(f"{len(missing)} acknowledged records missing from the log, e.g. {missing[:5]}")
    if a.emulate_summary:
        with open(a.emulate_summary) as f:
            s = json.load(f)
        acked = next((s[k] for k in ("acknowledged", "acked") if k in s), None)
        if acked is None:
            errors.append(f"emulate summary has no acknowledged count: {s}")
        elif total < acked:
            errors.append(f"log holds {total} records but {acked} requests were acknowledged")
    if a.expect_distinct is not None:
        for t in KINDS:
            if len(ids[t]) != a.expect_distinct:
                errors.append(f"log {t}: {len(ids[t])} distinct ids, expected {a.expect_distinct}")

    if not a.no_warehouse:
        check_warehouse(a.warehouse or os.path.join(a.data_dir, "warehouse.db"), log, ids, errors)

    if not a.no_lake:
        lake = a.lake or os.path.join(a.data_dir, "lake")
        nfiles, lines_by = check_lake(lake, log, errors)
        nlines = sum(lines_by.values())
        print(f"lake: {nfiles} files, {nlines} lines")
    for e in errors[:40]:
        print("FAIL:", e, file=sys.stderr)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
