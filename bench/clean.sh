#!/usr/bin/env bash
# clean.sh: throughput and memory of `pinpipe clean --kind pin` over 1M pin records.
#
# Records come from `pinpipe gen` (SOURCE=gen, the default) or, when gen is unavailable or
# SOURCE=sample, from the real sample ../shared/data/aicore_sample_pin.jsonl replicated with
# fresh indexes. Prints records/s (from pinpipe's summary line and from wall time) and the
# maximum RSS (GNU time). Env: PINPIPE (binary), ROWS (default 1000000), SOURCE, PP_SHARED,
# KEEP=1 keeps the work directory.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
PINPIPE=${PINPIPE:-$here/../build/pinpipe}
ROWS=${ROWS:-1000000}
SOURCE=${SOURCE:-gen}
PP_SHARED=${PP_SHARED:-$here/../../shared}
[ -x "$PINPIPE" ] || { echo "clean.sh: no pinpipe binary at $PINPIPE (set PINPIPE)" >&2; exit 2; }
[ -x /usr/bin/time ] || { echo "clean.sh: needs GNU time (apt-get install time)" >&2; exit 2; }

work=$(mktemp -d "${TMPDIR:-/tmp}/pp-bench-clean.XXXXXX")
[ "${KEEP:-0}" = 1 ] || trap 'rm -rf "$work"' EXIT

input=""
if [ "$SOURCE" = gen ] && "$PINPIPE" gen --rows "$ROWS" --out "$work" >/dev/null 2>&1 &&
    [ -s "$work/pin.jsonl" ]; then
    input=$work/pin.jsonl
    what="pinpipe gen"
else
    sample=$PP_SHARED/data/aicore_sample_pin.jsonl
    [ -r "$sample" ] || { echo "clean.sh: no gen and no $sample" >&2; exit 2; }
    # Replicate the real rows, renumbering "index" (their first field) so every record is
    # distinct. index()/substr() only: a regex sub() over 1M long UTF-8 lines crawls in mawk.
    awk -v rows="$ROWS" '
        { tail[NR] = substr($0, index($0, ",")) }
        END {
            for (i = 0; i < rows; i++)
                print "{\"index\": " i tail[i % NR + 1]
        }' "$sample" >"$work/pin.jsonl"
    input=$work/pin.jsonl
    what="aicore_sample_pin.jsonl replicated"
fi
bytes=$(wc -c <"$input")
lines=$(wc -l <"$input")
cat "$input" >/dev/null # warm the page cache

echo "input: $lines pin records, $((bytes / 1048576)) MiB ($what)"
# measure LABEL ARGS...: one run of pinpipe clean under GNU time.
measure() {
    local label=$1
    shift
    /usr/bin/time -v "$PINPIPE" clean --kind pin --in "$input" "$@" 2>"$work/stderr" || {
        echo "clean.sh: pinpipe clean failed:" >&2
        tail -5 "$work/stderr" >&2
        exit 1
    }
    local done_line rps rejected rss_kb wall user sys cpu_rps
    done_line=$(grep ' clean done ' "$work/stderr" | tail -1)
    rps=$(sed -n 's/.*records_per_s=\([0-9.]*\).*/\1/p' <<<"$done_line")
    rejected=$(sed -n 's/.*rejected=\([0-9]*\).*/\1/p' <<<"$done_line")
    rss_kb=$(sed -n 's/.*Maximum resident set size (kbytes): \([0-9]*\).*/\1/p' "$work/stderr")
    wall=$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): \(.*\)/\1/p' "$work/stderr")
    user=$(sed -n 's/.*User time (seconds): \(.*\)/\1/p' "$work/stderr")
    sys=$(sed -n 's/.*System time (seconds): \(.*\)/\1/p' "$work/stderr")
    cpu_rps=$(awk -v n="$lines" -v u="$user" -v s="$sys" 'BEGIN { printf "%.0f", n / (u + s) }')
    echo "pinpipe clean --kind pin $label: records/s=$rps rejected=$rejected"
    echo "  wall=$wall user_s=$user sys_s=$sys cpu_records/s=$cpu_rps max_rss_kib=$rss_kb"
}
measure "--check (clean only)" --check
measure "--out /dev/null (clean + JSONL output)" --out /dev/null
