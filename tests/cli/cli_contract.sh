#!/usr/bin/env bash
# cli_contract.sh: every subcommand answers --help with exit 0 and usage on stdout; usage
# errors exit 2 and failures exit 1, each with a one-line reason on stderr.
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
for c in demo run serve stream lake batch insights gen emulate clean log config status dag; do
  expect 0 "$PINPIPE" "$c" --help
  out=$("$PINPIPE" "$c" --help 2>/dev/null)
  if grep -q "usage: pinpipe $c" <<<"$out"; then pass=$((pass+1));
  else echo "FAIL: $c --help prints no 'usage: pinpipe $c' line" >&2; fail=$((fail+1)); fi
  expect 2 "$PINPIPE" "$c" --no-such-flag
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
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
