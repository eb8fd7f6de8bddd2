#!/usr/bin/env python3
"""insights_check.py: an independent computation of the nine insights (PRODUCT.md "Insights").

Plain Python, no SQL: the end-to-end tests compare pinpipe's `insights --format json` output
against this. Input is either the cleaned rows of a warehouse (plain SELECT * of pin, geo,
user: that is the data, not the computation) or raw source records, which this script
cleans itself with its own reading of PRODUCT.md "Cleaning rules":

  insights_check.py --warehouse pinpipe-data/warehouse.db [--compare pinpipe.json]
  insights_check.py --events aicore_events.jsonl           [--compare pinpipe.json]
  insights_check.py --tables pin.jsonl geo.jsonl user.jsonl [--compare pinpipe.json]

Prints the insights as the PRODUCT.md JSON contract. With --compare FILE, compares the sets of
rows per insight (numbers within 1e-9), prints the differences and exits 1 on a mismatch.
"""
import argparse
import json
import math
import re
import sqlite3
import statistics
import sys
from datetime import datetime, timezone

INSIGHTS = [
    ("popular_category_by_country", ["country", "category", "category_count"]),
    ("popular_category_by_year", ["post_year", "category", "category_count"]),
    ("top_user_by_country", ["country", "poster_name", "follower_count"]),
    ("top_country_by_followers", ["country", "follower_count"]),
    ("popular_category_by_age_group", ["age_group", "category", "category_count"]),
    ("median_followers_by_age_group", ["age_group", "median_follower_count"]),
    ("users_joined_by_year", ["post_year", "number_users_joined"]),
    ("median_followers_by_join_year", ["post_year", "median_follower_count"]),
    ("median_followers_by_age_group_and_join_year",
     ["age_group", "post_year", "median_follower_count"]),
]

# ---- cleaning (PRODUCT.md "Cleaning rules"), used for --events and --tables ----------------

PLACEHOLDERS = {
    "title": {"No Title Data Available"},
    "description": {"No description available Story format", "No description available",
                    "Untitled"},
    "poster_name": {"User Info Error"},
    "follower_count": {"User Info Error"},
    "tag_list": {"N,o, ,T,a,g,s, ,A,v,a,i,l,a,b,l,e"},
    "image_src": {"Image src error."},
}


class Reject(Exception):
    pass


def text(rec, field):
    """A text column: placeholders and empty/all-blank strings become None."""
    v = rec.get(field)
    if v is None:
        return None
    if not isinstance(v, str):
        raise Reject(f"{field} is not a string")
    if v in PLACEHOLDERS.get(field, ()) or v.strip() == "" or v.isspace():
        return None
    return v


def integer(rec, field, required=False):
    v = rec.get(field)
    if v is None:
        if required:
            raise Reject(f"{field} missing")
        return None
    if isinstance(v, bool):
        raise Reject(f"{field} is not an integer")
    if isinstance(v, int):
        return v
    if isinstance(v, str) and re.fullmatch(r"[0-9]+", v):
        return int(v)
    raise Reject(f"{field} is not an integer")


def follower_count(s):
    """"437" -> 437, "124k" -> 124000, "1.2k" -> 1200, "2M" -> 2000000, else None."""
    if s is None:
        return None
    m = re.fullmatch(r"([0-9]+)(?:\.([0-9]+))?([kM]?)", s)
    if not m or (m.group(2) is not None and not m.group(3)):
        return None
    mult = {"": 1, "k": 1000, "M": 1000000}[m.group(3)]
    whole, frac = int(m.group(1)), m.group(2) or ""
    # exact decimal arithmetic; a fraction of one follower is dropped (toward zero)
    return whole * mult + int(frac or "0") * mult // (10 ** len(frac))


def timestamp(rec, field):
    """A client datetime -> "YYYY-MM-DD HH:MM:SS" in UTC (fractions dropped)."""
    v = rec.get(field)
    if v is None:
        return None
    if not isinstance(v, str):
        raise Reject(f"{field} is not a datetime")
    s = v.strip()
    if s.endswith("Z") or s.endswith("z"):
        s = s[:-1] + "+00:00"
    m = re.fullmatch(r"(.*[T ]\d\d:\d\d(?::\d\d(?:\.\d+)?)?)([+-]\d\d)(\d\d)", s)
    if m:  # +HHMM -> +HH:MM
        s = f"{m.group(1)}{m.group(2)}:{m.group(3)}"
    try:
        d = datetime.fromisoformat(s)
    except ValueError:
        raise Reject(f"{field} is not a datetime")
    if d.tzinfo is not None:
        d = d.astimezone(timezone.utc).replace(tzinfo=None)
    return d.strftime("%Y-%m-%d %H:%M:%S")


def clean_pin(rec):
    save = text(rec, "save_location")
    if save is not None and save.startswith("Local save in "):
        save = save[len("Local save in "):]
    return {
        "ind": integer(rec, "index", required=True),
        "follower_count": follower_count(text(rec, "follower_count")),
        "poster_name": text(rec, "poster_name"),
        "category": text(rec, "category"),
        "save_location": save,
        "downloaded": integer(rec, "downloaded"),
    }


def clean_geo(rec):
    return {"ind": integer(rec, "ind", required=True), "country": text(rec, "country"),
            "timestamp": timestamp(rec, "timestamp")}


def clean_user(rec):
    first, last = text(rec, "first_name"), text(rec, "last_name")
    return {"ind": integer(rec, "ind", required=True),
            "user_name": None if first is None or last is None else f"{first} {last}",
            "age": integer(rec, "age"), "date_joined": timestamp(rec, "date_joined")}


# The data model (PRODUCT.md "Data model"): every field is required but may be null, as the
# FastAPI/pydantic models of the existing clients have it; a record missing one is rejected.
MODEL = {
    "pin": ["index", "unique_id", "title", "description", "poster_name", "follower_count",
            "tag_list", "is_image_or_video", "image_src", "downloaded", "save_location",
            "category"],
    "geo": ["ind", "timestamp", "latitude", "longitude", "country"],
    "user": ["ind", "first_name", "last_name", "age", "date_joined"],
}
NUMBERS = {"latitude", "longitude"}


def validate(kind, rec):
    for field in MODEL[kind]:
        if field not in rec:
            raise Reject(f"{field} missing")
        v = rec[field]
        if field in NUMBERS and v is not None and (
                isinstance(v, bool) or not isinstance(v, (int, float))):
            raise Reject(f"{field} is not a number")


def clean(kind, rec):
    validate(kind, rec)
    return {"pin": clean_pin, "geo": clean_geo, "user": clean_user}[kind](rec)


def load_records(pairs):
    """pairs: (kind, raw record) in arrival order. Dedup by id: the latest record wins."""
    tables = {"pin": {}, "geo": {}, "user": {}}
    rejects = 0
    for kind, rec in pairs:
        try:
            if not isinstance(rec, dict):
                raise Reject("not an object")
            row = clean(kind, rec)
        except Reject:
            rejects += 1
            continue
        tables[kind][row["ind"]] = row
    return tables, rejects


def read_events(path):
    pairs = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.strip():
                ev = json.loads(line)
                for kind in ("pin", "geo", "user"):
                    if kind in ev:
                        pairs.append((kind, ev[kind]))
    return load_records(pairs)[0]


def read_tables(pin, geo, user):
    pairs = []
    for kind, path in (("pin", pin), ("geo", geo), ("user", user)):
        with open(path, encoding="utf-8") as f:
            for line in f:
                try:
                    pairs.append((kind, json.loads(line)))
                except ValueError:  # not JSON: a dead letter, as in pinpipe
                    if line.strip():
                        pairs.append((kind, None))
    return load_records(pairs)[0]


def read_warehouse(path):
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    db.row_factory = sqlite3.Row
    tables = {}
    for kind in ("pin", "geo", "user"):
        tables[kind] = {r["ind"]: dict(r) for r in db.execute(f'SELECT * FROM "{kind}"')}
    db.close()
    return tables

# ---- the insights ---------------------------------------------------------------------------


def age_group(age):
    if age is None:
        return None
    if 18 <= age <= 24:
        return "18-24"
    if 25 <= age <= 35:
        return "25-35"
    if 36 <= age <= 50:
        return "36-50"
    if age > 50:
        return "+50"
    return None


AGE_ORDER = {"18-24": 1, "25-35": 2, "36-50": 3, "+50": 4}

KEYS = {
    "popular_category_by_country": ["country", "category"],
    "popular_category_by_year": ["post_year", "category"],
    "top_user_by_country": ["country", "poster_name"],
    "top_country_by_followers": ["country"],
    "popular_category_by_age_group": ["age_group", "category"],
    "median_followers_by_age_group": ["age_group"],
    "users_joined_by_year": ["post_year"],
    "median_followers_by_join_year": ["post_year"],
    "median_followers_by_age_group_and_join_year": ["age_group", "post_year"],
}


def sort_value(col, v):
    if v is None:  # NULL first, as SQL sorts it
        return (0, 0)
    return (1, AGE_ORDER[v] if col == "age_group" else v)


def year(ts):
    return None if ts is None else int(ts[:4])


def joined(tables):
    """Inner join of pin, geo, user on ind (each already one row per ind)."""
    rows = []
    for ind, p in tables["pin"].items():
        g, u = tables["geo"].get(ind), tables["user"].get(ind)
        if g is None or u is None:
            continue
        rows.append({
            "category": p["category"], "follower_count": p["follower_count"],
            "poster_name": p["poster_name"], "country": g["country"],
            "post_year": year(g["timestamp"]), "join_year": year(u["date_joined"]),
            "user_name": u["user_name"], "date_joined": u["date_joined"],
            "age_group": age_group(u["age"]),
        })
    return rows


def top_category(rows, key, keep):
    counts = {}
    for r in rows:
        k = r[key]
        if k is None or r["category"] is None or not keep(r):
            continue
        counts.setdefault(k, {}).setdefault(r["category"], 0)
        counts[k][r["category"]] += 1
    out = []
    for k, cats in counts.items():
        best = max(cats.values())
        out += [{key: k, "category": c, "category_count": n} for c, n in cats.items() if n == best]
    return out


def medians(rows, keys, keep):
    groups = {}
    for r in rows:
        k = tuple(r[x] for x in keys)
        if None in k or r["follower_count"] is None or not keep(r):
            continue
        groups.setdefault(k, []).append(r["follower_count"])
    return [dict(zip(keys, k), median_follower_count=statistics.median(v))
            for k, v in groups.items()]


def compute(tables):
    rows = joined(tables)
    by_join = lambda r: r["join_year"] is not None and 2015 <= r["join_year"] <= 2020  # noqa
    out = {}
    out["popular_category_by_country"] = top_category(rows, "country", lambda r: True)
    out["popular_category_by_year"] = top_category(
        rows, "post_year", lambda r: 2018 <= r["post_year"] <= 2022)
    best = {}
    for r in rows:
        if r["country"] is not None and r["follower_count"] is not None:
            best[r["country"]] = max(best.get(r["country"], r["follower_count"]),
                                     r["follower_count"])
    top = {(r["country"], r["poster_name"], r["follower_count"]) for r in rows
           if r["country"] is not None and r["follower_count"] is not None
           and r["follower_count"] == best[r["country"]]}
    out["top_user_by_country"] = [
        {"country": c, "poster_name": p, "follower_count": f} for c, p, f in top]
    overall = max(best.values()) if best else None
    out["top_country_by_followers"] = [
        {"country": c, "follower_count": f} for c, f in best.items() if f == overall]
    out["popular_category_by_age_group"] = top_category(rows, "age_group", lambda r: True)
    out["median_followers_by_age_group"] = medians(rows, ["age_group"], lambda r: True)
    users = {}
    for r in rows:
        if by_join(r) and r["user_name"] is not None:
            users.setdefault(r["join_year"], set()).add((r["user_name"], r["date_joined"]))
    out["users_joined_by_year"] = [
        {"post_year": y, "number_users_joined": len(s)} for y, s in users.items()]
    out["median_followers_by_join_year"] = [
        {"post_year": m["join_year"], "median_follower_count": m["median_follower_count"]}
        for m in medians(rows, ["join_year"], by_join)]
    out["median_followers_by_age_group_and_join_year"] = [
        {"age_group": m["age_group"], "post_year": m["join_year"],
         "median_follower_count": m["median_follower_count"]}
        for m in medians(rows, ["age_group", "join_year"], by_join)]
    for name, cols in INSIGHTS:  # sorted by key columns (age groups in age order)
        out[name].sort(key=lambda r, name=name: tuple(sort_value(c, r[c]) for c in KEYS[name]))
    return out

# ---- output and comparison ------------------------------------------------------------------


def normal(v):
    """Integral floats print as integers, as pinpipe prints them."""
    if isinstance(v, float) and v.is_integer() and abs(v) < 1e15:
        return int(v)
    return v


def dump(out):
    doc = {name: [{c: normal(r[c]) for c in cols} for r in out[name]] for name, cols in INSIGHTS}
    return json.dumps(doc, ensure_ascii=False, indent=2)


def same(a, b):
    if isinstance(a, (int, float)) and isinstance(b, (int, float)) \
            and not isinstance(a, bool) and not isinstance(b, bool):
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)
    return a == b


def compare(out, other):
    problems = []
    if not isinstance(other, dict):
        return ["pinpipe output is not a JSON object"]
    names = [n for n, _ in INSIGHTS]
    if list(other.keys()) != names:
        problems.append(f"insight keys/order differ: {list(other.keys())} != {names}")
    for name, cols in INSIGHTS:
        mine, theirs = out[name], other.get(name)
        if not isinstance(theirs, list):
            problems.append(f"{name}: missing or not an array")
            continue
        for r in theirs:
            if not isinstance(r, dict) or list(r.keys()) != cols:
                problems.append(f"{name}: row {r!r} does not have exactly columns {cols}")
        if len(theirs) != len({json.dumps(r, sort_keys=True) for r in theirs}):
            problems.append(f"{name}: duplicate rows in pinpipe output")
        left = list(theirs)
        for r in mine:
            hit = next((i for i, t in enumerate(left) if isinstance(t, dict) and
                        all(same(r[c], t.get(c)) for c in cols)), None)
            if hit is None:
                problems.append(f"{name}: missing in pinpipe: {dict((c, r[c]) for c in cols)}")
            else:
                left.pop(hit)
        for t in left:
            problems.append(f"{name}: unexpected in pinpipe: {t}")
    return problems


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    src = ap.add_mutually_exclusive_group(required=True)
    src.add_argument("--warehouse", metavar="PATH", help="SQLite warehouse file")
    src.add_argument("--events", metavar="FILE", help='JSONL of {"pin":..,"geo":..,"user":..}')
    src.add_argument("--tables", nargs=3, metavar=("PIN", "GEO", "USER"),
                     help="one JSONL source table per kind")
    ap.add_argument("--compare", metavar="FILE", help="pinpipe insights --format json output")
    ap.add_argument("--quiet", action="store_true", help="do not print the computed insights")
    args = ap.parse_args()
    if args.warehouse:
        tables = read_warehouse(args.warehouse)
    elif args.events:
        tables = read_events(args.events)
    else:
        tables = read_tables(*args.tables)
    out = compute(tables)
    if not args.quiet:
        print(dump(out))
    if args.compare:
        with open(args.compare, encoding="utf-8") as f:
            other = json.load(f)
        problems = compare(out, other)
        for p in problems:
            print(f"insights_check: {p}", file=sys.stderr)
        if problems:
            print(f"insights_check: MISMATCH ({len(problems)} differences)", file=sys.stderr)
            return 1
        rows = sum(len(out[n]) for n, _ in INSIGHTS)
        print(f"insights_check: all 9 insights agree ({rows} rows)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
