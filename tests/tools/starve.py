#!/usr/bin/env python3
"""starve.py: connection-starvation load for tests/integration/starve.sh (standard library only).

  starve.py attack --port P --out FILE [--ready FILE] ...   attackers from 127.0.0.2 and up
  starve.py normal --port P --records FILE --out FILE ...   a normal client from 127.0.0.1
  starve.py check  --attack FILE --normal FILE --log-tail FILE ...   the assertions

attack: every attacker socket is bound to its own loopback address before connect (127.0.0.2,
127.0.0.3, ...), so the server's per-IP limit applies to each address. The first --mix-ips
addresses each keep --per-ip connections open, a third of each kind, reopening each as soon
as the server closes it, until --duration seconds pass:
  idle       connect and send nothing;
  slowloris  a request line and headers that never end, one byte a second;
  slowbody   complete headers with Content-Length 100000, then one body byte a second.
The next --over-ips addresses open waves of --per-ip-limit + --over idle connections at once:
the server must refuse or close at least --over of each wave before any header timeout could
have fired (the per-IP limit), then the rest by the header timeout. Each connection is
watched until the server closes it, up to its bound (the header or body timeout + --margin
from its connect; past that it counts as "open" and is closed by us).

normal: for --duration seconds, two clients post valid records to /pin/ one per request, one
opening a new connection per request, one on a keep-alive connection; each request has
--liveness seconds to be answered (a hang, not a latency target).

check: asserts (exit 1 with the reasons on failure): every normal request answered 200 within
its liveness bound; every acknowledged record in the log dump (`pinpipe log tail` output) at its
answered partition and offset; every slow attacker connection closed by the server within its
bound; every over-limit wave cut to the limit early; thousands of attacker connections in all.
Prints the normal client's latency median and p99 (information only, never asserted).
"""
import argparse
import asyncio
import json
import resource
import statistics
import sys
import time

REQ_BODY_SIZE = 100000


def raise_nofile():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


# ---- attack ----

class Attack:
    def __init__(self, a):
        self.a = a
        self.conns = []  # one dict per connection
        self.waves = []  # over-limit waves: {ip, size, early, closed, open}
        self.connect_sem = asyncio.Semaphore(a.connect_concurrency)
        self.end = time.monotonic() + a.duration

    async def connect(self, ip):
        async with self.connect_sem:
            return await asyncio.wait_for(
                asyncio.open_connection(self.a.host, self.a.port, local_addr=(ip, 0)),
                timeout=self.a.connect_timeout)

    async def watch(self, rec, reader, writer, trickle, deadline):
        """Wait for the server to close the connection (EOF, reset) until deadline, sending one
        byte of trickle a second meanwhile (if any). Sets rec's outcome."""
        sent = 0
        next_send = time.monotonic() + 1.0
        while True:
            now = time.monotonic()
            if now >= deadline:
                rec["outcome"] = "open"
                break
            wait = min(deadline, next_send if trickle else deadline) - now
            try:
                data = await asyncio.wait_for(reader.read(4096), timeout=max(wait, 0.001))
            except asyncio.TimeoutError:
                data = None
            except (ConnectionError, OSError):
                rec["outcome"] = "closed"
                break
            if data == b"":
                rec["outcome"] = "closed"
                break
            if data:
                rec["answered"] = data[:12].decode("latin-1")  # e.g. "HTTP/1.1 408"
                continue
            if trickle and time.monotonic() >= next_send:
                try:
                    writer.write(trickle[sent % len(trickle):sent % len(trickle) + 1])
                    await writer.drain()
                    sent += 1
                except (ConnectionError, OSError):
                    rec["outcome"] = "closed"
                    break
                next_send += 1.0
        rec["t_end"] = time.monotonic()
        rec["sent"] = sent
        writer.close()

    async def one(self, ip, kind, rec=None):
        a = self.a
        rec = rec if rec is not None else {}
        rec.update(kind=kind, ip=ip, t0=time.monotonic())
        self.conns.append(rec)
        try:
            reader, writer = await self.connect(ip)
        except (ConnectionError, OSError, asyncio.TimeoutError) as e:
            rec.update(outcome="refused", t_end=time.monotonic(), error=type(e).__name__)
            return rec
        rec["t_conn"] = time.monotonic()
        trickle = b""
        bound = a.header_timeout
        if kind == "slowloris":
            trickle = b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 4000
        elif kind == "slowbody":
            head = ("POST /pin/ HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                    f"Content-Length: {REQ_BODY_SIZE}\r\n\r\n").encode()
            try:
                writer.write(head)
                await writer.drain()
            except (ConnectionError, OSError):
                rec.update(outcome="closed", t_end=time.monotonic())
                writer.close()
                return rec
            trickle = b" " * 64
            bound = a.body_timeout
        await self.watch(rec, reader, writer, trickle, rec["t0"] + bound + a.margin)
        return rec

    async def slot(self, ip, kind):
        while time.monotonic() < self.end:
            await self.one(ip, kind)

    async def wave_loop(self, ip):
        a = self.a
        size = a.per_ip_limit + a.over
        while time.monotonic() < self.end:
            recs = await asyncio.gather(*(self.one(ip, "overlimit") for _ in range(size)))
            # closed before its header timeout could have fired (counted from the server's
            # accept, which follows our connect; 1 s less for a timer of 1 s granularity):
            # only the per-IP limit does that
            early = sum(1 for r in recs if r["outcome"] in ("closed", "refused")
                        and r["t_end"] - r["t0"] < a.header_timeout - 1.0)
            self.waves.append({"ip": ip, "size": size, "early": early,
                               "open": sum(1 for r in recs if r["outcome"] == "open")})

    async def run(self):
        a = self.a
        kinds = ("idle", "slowloris", "slowbody")
        tasks = []
        for i in range(a.mix_ips):
            ip = f"127.0.{(2 + i) // 256}.{(2 + i) % 256}"
            for j in range(a.per_ip):
                tasks.append(asyncio.ensure_future(self.slot(ip, kinds[j % 3])))
        for i in range(a.over_ips):
            n = 2 + a.mix_ips + i
            tasks.append(asyncio.ensure_future(self.wave_loop(f"127.0.{n // 256}.{n % 256}")))
        if a.ready:
            # ready once the first connection of every slot has been attempted
            want = a.mix_ips * a.per_ip + a.over_ips * (a.per_ip_limit + a.over)
            while len(self.conns) < want and time.monotonic() < self.end:
                await asyncio.sleep(0.05)
            with open(a.ready, "w") as f:
                f.write(f"{len(self.conns)}\n")
        await asyncio.gather(*tasks)


def cmd_attack(a):
    nofile = raise_nofile()
    need = a.mix_ips * a.per_ip + a.over_ips * (a.per_ip_limit + a.over) + 64
    if nofile < need:
        sys.exit(f"starve.py: RLIMIT_NOFILE {nofile} < {need} needed (raise ulimit -n)")
    async def main():
        att = Attack(a)
        await att.run()
        return att
    att = asyncio.run(main())
    for r in att.conns:  # relative times keep the file readable
        for k in ("t_conn", "t_end"):
            if k in r:
                r[k] = round(r[k] - r["t0"], 3)
        del r["t0"]
    with open(a.out, "w") as f:
        json.dump({"header_timeout": a.header_timeout, "body_timeout": a.body_timeout,
                   "margin": a.margin, "over": a.over, "conns": att.conns,
                   "waves": att.waves}, f)
    print(f"attack: {len(att.conns)} connections, {len(att.waves)} over-limit waves")


# ---- normal client ----

def request_bytes(rec, keepalive):
    body = json.dumps(rec).encode()
    return (f"POST /pin/ HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n"
            f"Connection: {'keep-alive' if keepalive else 'close'}\r\n\r\n").encode() + body


async def read_response(reader):
    """One HTTP/1.1 response with a Content-Length body. @returns (status, headers, body)."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    headers = {}
    for line in lines[1:]:
        if ":" in line:
            k, v = line.split(":", 1)
            headers[k.strip().lower()] = v.strip()
    n = int(headers.get("content-length", "0"))
    body = await reader.readexactly(n) if n else b""
    return status, headers, body


class Normal:
    def __init__(self, a, records):
        self.a = a
        self.records = records
        self.next_index = 0
        self.results = []

    def next_record(self, mode):
        k = self.next_index
        self.next_index += 1
        rec = dict(self.records[k % len(self.records)])
        rec["index"] = self.a.index_base + k  # unique per request: found again in the log
        return rec

    def note(self, mode, rec, t0, status=None, body=b"", error=None):
        r = {"mode": mode, "index": rec["index"], "latency": round(time.monotonic() - t0, 4),
             "status": status}
        if error:
            r["error"] = error
        if status == 200:
            try:
                ans = json.loads(body)
                r["partition"], r["offset"] = ans["partition"], ans["offset"]
            except (ValueError, KeyError) as e:
                r["error"] = f"bad 200 body: {e}: {body[:200]!r}"
        self.results.append(r)

    async def fresh(self, end):
        while time.monotonic() < end:
            rec = self.next_record("fresh")
            t0 = time.monotonic()

            async def one():
                reader, writer = await asyncio.open_connection(
                    self.a.host, self.a.port, local_addr=("127.0.0.1", 0))
                try:
                    writer.write(request_bytes(rec, False))
                    await writer.drain()
                    return await read_response(reader)
                finally:
                    writer.close()
            try:
                status, _, body = await asyncio.wait_for(one(), timeout=self.a.liveness)
                self.note("fresh", rec, t0, status, body)
            except asyncio.TimeoutError:
                self.note("fresh", rec, t0, error=f"no answer within {self.a.liveness}s")
            except (ConnectionError, OSError, asyncio.IncompleteReadError, ValueError) as e:
                self.note("fresh", rec, t0, error=f"{type(e).__name__}: {e}")

    async def keepalive(self, end):
        conn = None
        while time.monotonic() < end:
            rec = self.next_record("keepalive")
            t0 = time.monotonic()

            async def one():
                nonlocal conn
                if conn is None:
                    conn = await asyncio.open_connection(
                        self.a.host, self.a.port, local_addr=("127.0.0.1", 0))
                reader, writer = conn
                writer.write(request_bytes(rec, True))
                await writer.drain()
                status, headers, body = await read_response(reader)
                if headers.get("connection", "").lower() == "close":
                    writer.close()
                    conn = None
                return status, body
            try:
                status, body = await asyncio.wait_for(one(), timeout=self.a.liveness)
                self.note("keepalive", rec, t0, status, body)
            except asyncio.TimeoutError:
                self.note("keepalive", rec, t0, error=f"no answer within {self.a.liveness}s")
                conn = self.drop(conn)
            except (ConnectionError, OSError, asyncio.IncompleteReadError, ValueError) as e:
                self.note("keepalive", rec, t0, error=f"{type(e).__name__}: {e}")
                conn = self.drop(conn)

    @staticmethod
    def drop(conn):
        if conn:
            conn[1].close()
        return None

    async def run(self):
        end = time.monotonic() + self.a.duration
        await asyncio.gather(self.fresh(end), self.keepalive(end))


def cmd_normal(a):
    raise_nofile()
    with open(a.records) as f:
        records = [json.loads(line) for line in f if line.strip()]
    if not records:
        sys.exit("starve.py: no records in " + a.records)
    n = Normal(a, records)
    asyncio.run(n.run())
    with open(a.out, "w") as f:
        json.dump({"liveness": a.liveness, "requests": n.results}, f)
    ok = sum(1 for r in n.results if r["status"] == 200)
    print(f"normal: {len(n.results)} requests, {ok} answered 200")


# ---- check ----

def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(p * len(xs)))] if xs else float("nan")


def cmd_check(a):
    att = json.load(open(a.attack))
    nor = json.load(open(a.normal))
    bad = []

    reqs = nor["requests"]
    if len(reqs) < a.min_requests:
        bad.append(f"normal client made only {len(reqs)} requests (want >= {a.min_requests})")
    failed = [r for r in reqs if r["status"] != 200 or r.get("error")]
    if failed:
        bad.append(f"{len(failed)} of {len(reqs)} normal requests not answered 200 within "
                   f"{nor['liveness']}s, e.g. {failed[:2]}")
    for mode in ("fresh", "keepalive"):
        lat = [r["latency"] for r in reqs if r["mode"] == mode and r["status"] == 200]
        if lat:
            print(f"normal {mode}: {len(lat)} answered, latency median "
                  f"{statistics.median(lat) * 1000:.1f} ms, p99 {pct(lat, 0.99) * 1000:.1f} ms, "
                  f"max {max(lat) * 1000:.1f} ms (information, not asserted)")
        else:
            bad.append(f"normal {mode}: no request answered")

    # every acknowledged record is in the log at the partition and offset it was answered with
    stored = {}
    for line in open(a.log_tail):
        parts = line.rstrip("\n").split("\t", 4)
        if len(parts) == 5 and parts[0] == "pin":
            try:
                stored[(int(parts[1]), int(parts[2]))] = json.loads(parts[4]).get("index")
            except ValueError:
                pass
    acked = [r for r in reqs if r["status"] == 200 and "offset" in r]
    missing = [r for r in acked if stored.get((r["partition"], r["offset"])) != r["index"]]
    if missing:
        bad.append(f"{len(missing)} of {len(acked)} acknowledged records not in the log at their "
                   f"offset, e.g. {missing[:2]}")
    else:
        print(f"log: all {len(acked)} acknowledged records found at their partition and offset")

    conns = att["conns"]
    if len(conns) < a.min_attack:
        bad.append(f"only {len(conns)} attacker connections (want >= {a.min_attack})")
    for kind in ("idle", "slowloris", "slowbody", "overlimit"):
        ks = [c for c in conns if c["kind"] == kind]
        by = {}
        for c in ks:
            by[c["outcome"]] = by.get(c["outcome"], 0) + 1
        closed = [c["t_end"] for c in ks if c["outcome"] == "closed" and "t_conn" in c]
        bound = (att["body_timeout"] if kind == "slowbody" else att["header_timeout"]) \
            + att["margin"]
        print(f"attack {kind}: {len(ks)} connections, outcomes {by}, closed after median "
              f"{statistics.median(closed) if closed else float('nan'):.2f} s, "
              f"max {max(closed) if closed else float('nan'):.2f} s (bound {bound} s)")
        if not ks:
            bad.append(f"no {kind} attacker connections")
        still = [c for c in ks if c["outcome"] == "open"]
        if still:
            bad.append(f"{len(still)} {kind} connections still open {bound} s after connect "
                       f"(not closed by the server), e.g. {still[:2]}")
    # the slow ones must have been let in (not all refused): otherwise nothing was tested
    for kind in ("idle", "slowloris", "slowbody"):
        n = sum(1 for c in conns if c["kind"] == kind and c["outcome"] == "closed")
        if n < a.min_closed:
            bad.append(f"only {n} {kind} connections were accepted and then closed by the server "
                       f"(want >= {a.min_closed})")
    waves = att["waves"]
    short = [w for w in waves if w["early"] < att["over"]]
    if not waves:
        bad.append("no over-limit waves")
    elif short:
        bad.append(f"{len(short)} of {len(waves)} over-limit waves had fewer than {att['over']} "
                   f"connections refused or closed before a header timeout could fire, "
                   f"e.g. {short[:2]}")
    else:
        print(f"per-IP limit: {len(waves)} waves, each cut by >= {att['over']} at once "
              f"(early closes per wave: {sorted({w['early'] for w in waves})})")
    sys.stdout.flush()
    if bad:
        for b in bad:
            print("FAIL: " + b, file=sys.stderr)
        sys.exit(1)
    print("starve check: passed")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    at = sub.add_parser("attack")
    at.add_argument("--host", default="127.0.0.1")
    at.add_argument("--port", type=int, required=True)
    at.add_argument("--out", required=True)
    at.add_argument("--ready", help="written once every slot has made its first connection")
    at.add_argument("--duration", type=float, default=22)
    at.add_argument("--mix-ips", type=int, default=30)
    at.add_argument("--per-ip", type=int, default=45, help="connections per mix address")
    at.add_argument("--over-ips", type=int, default=10)
    at.add_argument("--per-ip-limit", type=int, default=50, help="serve's --max-conns-per-ip")
    at.add_argument("--over", type=int, default=10, help="connections past the limit per wave")
    at.add_argument("--header-timeout", type=float, default=3)
    at.add_argument("--body-timeout", type=float, default=5)
    at.add_argument("--margin", type=float, default=4)
    at.add_argument("--connect-concurrency", type=int, default=256)
    at.add_argument("--connect-timeout", type=float, default=10)
    no = sub.add_parser("normal")
    no.add_argument("--host", default="127.0.0.1")
    no.add_argument("--port", type=int, required=True)
    no.add_argument("--records", required=True, help="pin records, JSON lines")
    no.add_argument("--out", required=True)
    no.add_argument("--duration", type=float, default=20)
    no.add_argument("--liveness", type=float, default=5)
    no.add_argument("--index-base", type=int, default=10_000_000)
    ch = sub.add_parser("check")
    ch.add_argument("--attack", required=True)
    ch.add_argument("--normal", required=True)
    ch.add_argument("--log-tail", required=True, help="`pinpipe log tail --topic pin` output")
    ch.add_argument("--min-requests", type=int, default=50)
    ch.add_argument("--min-attack", type=int, default=2000)
    ch.add_argument("--min-closed", type=int, default=100)
    a = ap.parse_args()
    {"attack": cmd_attack, "normal": cmd_normal, "check": cmd_check}[a.cmd](a)


if __name__ == "__main__":
    main()
