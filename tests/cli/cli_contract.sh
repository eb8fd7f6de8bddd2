#!/usr/bin/env bash
# cli_contract.sh: every subcommand answers --help with exit 0 and usage on stdout; usage
# errors exit 2 and failures exit 1, each with a one-line reason on stderr. --quiet and
# --verbose work on every command (before or after it); colour only on a terminal and never
# with NO_COLOR; progress (batch, dag backfill, emulate) is a bar on a terminal and plain
# lines otherwise (terminals are made with script(1) from util-linux).
set -uo pipefail
: "${PINPIPE:?}"
fail=0; pass=0
expect() { # expect STATUS CMD...
  local want=$1; shift
  local err rc
  err=$("$@" 2>&1 >/dev/null); rc=$?
  if [ "$rc" != "$want" ]; then
    echo "FAIL: '$*' exited $rc, expected $want; stderr: $err" >&2; fail=$((fail+1)); return
  fi
  if [ "$want" != 0 ] && [ "$(printf '%s\n' "$err" | grep -c .)" -lt 1 ]; then
    echo "FAIL: '$*' exited $rc with no reason on stderr" >&2; fail=$((fail+1)); return
  fi
  pass=$((pass+1))
}
for c in demo run serve stream lake batch insights gen emulate clean log config status dag \
         quality schedule; do
  expect 0 "$PINPIPE" "$c" --help
  out=$("$PINPIPE" "$c" --help 2>/dev/null)
  if grep -q "usage: pinpipe $c" <<<"$out"; then pass=$((pass+1));
  else echo "FAIL: $c --help prints no 'usage: pinpipe $c' line" >&2; fail=$((fail+1)); fi
  expect 2 "$PINPIPE" "$c" --no-such-flag
  [ "$c" = config ] && continue # config reads no command line but --config and --help
  expect 0 "$PINPIPE" "$c" --quiet --help
  expect 0 "$PINPIPE" --verbose "$c" --help
done
expect 0 "$PINPIPE" --help
expect 2 "$PINPIPE"
expect 2 "$PINPIPE" frobnicate
expect 2 "$PINPIPE" run --fsync sometimes
expect 2 "$PINPIPE" serve --fsync interval:abc
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
expect 1 "$PINPIPE" insights --warehouse "$tmp/missing/dir/wh.db"
expect 1 "$PINPIPE" batch --date 2020-01-01 --data-dir "$tmp/empty"
expect 2 "$PINPIPE" batch --date 2020-13-45 --data-dir "$tmp/empty"
ok() { if eval "$2"; then pass=$((pass+1)); else echo "FAIL: $1" >&2; fail=$((fail+1)); fi; }
esc=$(printf '\033')
cr=$(printf '\r')
# --quiet / --verbose: diagnostics from warnings up / with debug lines
printf '%s\n' '{"index": 1, "title": "t"}' >"$tmp/pin.jsonl"
"$PINPIPE" clean --kind pin --in "$tmp/pin.jsonl" --check 2>"$tmp/normal.err" >/dev/null
"$PINPIPE" clean --kind pin --in "$tmp/pin.jsonl" --check --quiet 2>"$tmp/quiet.err" >/dev/null
"$PINPIPE" --verbose clean --kind pin --in "$tmp/pin.jsonl" --check 2>"$tmp/verbose.err" >/dev/null
ok "info lines by default" 'grep -q " info clean done" "$tmp/normal.err" && ! grep -q " debug " "$tmp/normal.err"'
ok "--quiet drops info lines" '! grep -q " info " "$tmp/quiet.err"'
ok "--verbose adds debug lines" 'grep -q " debug clean start" "$tmp/verbose.err" && grep -q " info clean done" "$tmp/verbose.err"'
# colour: a failure's "pinpipe <cmd>:" is red on a terminal only, and never with NO_COLOR
on_tty() { TERM=xterm script -qefc "$1" /dev/null </dev/null >"$tmp/$2" 2>&1 || true; } # CMD OUT
P="'$PINPIPE'"
bad="$P batch --date 2020-01-01 --data-dir '$tmp/none'"
on_tty "$bad" tty.err
on_tty "NO_COLOR=1 $bad" nocolor.err
on_tty "NO_COLOR= $bad" emptynocolor.err
TERM=xterm "$PINPIPE" batch --date 2020-01-01 --data-dir "$tmp/none" 2>"$tmp/pipe.err"
ok "colour on a terminal" 'grep -q "${esc}\[1;31mpinpipe batch:" "$tmp/tty.err"'
ok "no colour with NO_COLOR" 'grep -q "pinpipe batch:" "$tmp/nocolor.err" && ! grep -q "$esc" "$tmp/nocolor.err"'
ok "no colour off a terminal" 'grep -q "pinpipe batch:" "$tmp/pipe.err" && ! grep -q "$esc" "$tmp/pipe.err"'
ok "NO_COLOR empty means colour" 'grep -q "$esc" "$tmp/emptynocolor.err"'
# progress: a bar on a terminal, nothing redrawn off it, none with --quiet
d=$tmp/d; today=$(date -u +%F); yesterday=$(date -u -d yesterday +%F)
"$PINPIPE" demo --generate --events 100 --data-dir "$d" >/dev/null 2>&1
# backfills through today run on the test clock at 00:10 tomorrow: today is closed then
export PINPIPE_TEST_CLOCK_OFFSET_MS=$(( $(date -u -d "$(date -u -d tomorrow +%F) 00:10" +%s%3N) - $(date +%s%3N) ))
on_tty "NO_COLOR=1 $P batch --date $today --data-dir '$d' --format csv" batch.tty
on_tty "$P batch --quiet --date $today --data-dir '$d'" quiet.tty
"$PINPIPE" batch --date "$today" --data-dir "$d" --format csv >/dev/null 2>"$tmp/batch.err"
ok "batch draws a bar on a terminal" 'grep -q "${cr}batch [0-9]* records" "$tmp/batch.tty"'
ok "batch off a terminal: no bar, no escapes" '! grep -q "[$cr$esc]" "$tmp/batch.err" && grep -q "^batch: dt=$today" "$tmp/batch.err"'
ok "batch --quiet on a terminal: no bar" 'grep -q "^batch: dt=$today" "$tmp/quiet.tty" && ! grep -q "${cr}batch [0-9]" "$tmp/quiet.tty"'
on_tty "$P dag backfill --from $yesterday --to $today --data-dir '$d' --retries 0" backfill.tty
on_tty "NO_COLOR=1 $P dag backfill --from $yesterday --to $today --data-dir '$d' --retries 0" backfill-nc.tty
"$PINPIPE" dag backfill --from "$yesterday" --to "$today" --data-dir "$d" --retries 0 \
  >/dev/null 2>"$tmp/backfill.err"
ok "backfill draws a bar on a terminal" 'grep -q "backfill \[.*\] *[0-9]*% [0-9]/2 days" "$tmp/backfill.tty"'
ok "the bar is green on a terminal" 'grep -q "backfill \[${esc}\[32m#" "$tmp/backfill.tty"'
ok "no colour in the bar with NO_COLOR" 'grep -q "backfill \[#" "$tmp/backfill-nc.tty" && ! grep -q "${esc}\[32m" "$tmp/backfill-nc.tty"'
ok "backfill off a terminal: no bar" '! grep -q "[$cr$esc]" "$tmp/backfill.err" && ! grep -q "^backfill" "$tmp/backfill.err"'
unset PINPIPE_TEST_CLOCK_OFFSET_MS
# plain lines off a terminal: emulate at 5 events/s for 6 s prints one after 5 s, and a last one
"$PINPIPE" serve --listen 127.0.0.1:0 --data-dir "$tmp/s" 2>/dev/null & spid=$!
for _ in $(seq 100); do [ -s "$tmp/s/listen" ] && break; sleep 0.05; done
"$PINPIPE" emulate --url "http://$(cat "$tmp/s/listen")" --rows 10 --events 30 --rate 5 \
  >/dev/null 2>"$tmp/emu.err"
kill -TERM $spid; wait $spid
ok "emulate off a terminal: plain progress lines" 'grep -q "^emulate: [0-9]*/30 events ([0-9]*%)" "$tmp/emu.err" && grep -q "^emulate: 30/30 events (100%)" "$tmp/emu.err" && ! grep -q "[$cr$esc]" "$tmp/emu.err"'
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
