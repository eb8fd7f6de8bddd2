#!/usr/bin/env bash
# config.sh: pinpipe.conf, PINPIPE_* variables and flags, in that order of precedence;
# `pinpipe config` prints every key and masks secrets; unknown keys are refused.
set -uo pipefail
: "${PINPIPE:?}"
tmp=$(mktemp -d); pids=()
trap 'for p in "${pids[@]:-}"; do kill -9 "$p" 2>/dev/null; done; rm -rf "$tmp"' EXIT
pass=0 fail=0
ok() { if eval "$2"; then pass=$((pass+1)); else echo "FAIL: $1" >&2; fail=$((fail+1)); fi; }

out=$("$PINPIPE" config); rc=$?
ok "config without a file exits 0" '[ $rc = 0 ]'
for k in data_dir listen fsync partitions brokers roll_age s3_endpoint url batch; do
  ok "config prints key $k" 'grep -q "^#\? \?$k = " <<<"$out"'
done

cat >"$tmp/p.conf" <<CONF
[pinpipe]
data_dir = $tmp/from-file
[serve]
listen = 127.0.0.1:0
[log]
fsync = always
[kafka]
sasl.password = s3cret-value
client.id = pinpipe-test
CONF
out=$("$PINPIPE" config --config "$tmp/p.conf")
ok "config shows the file's value" 'grep -q "^fsync = always" <<<"$out"'
ok "config masks secrets" '! grep -q s3cret-value <<<"$out" && grep -q "sasl.password = \*\*\*\*" <<<"$out"'
ok "config shows plain kafka props" 'grep -q "client.id = pinpipe-test" <<<"$out"'
out=$(PINPIPE_LOG_FSYNC=never "$PINPIPE" config --config "$tmp/p.conf")
ok "environment beats the file" 'grep -q "^fsync = never" <<<"$out"'

# serve takes data_dir and listen from the file (it writes DATA_DIR/listen)
start_serve() { # DIR-EXPECTED ARGS...
  local want=$1; shift
  "$PINPIPE" serve --config "$tmp/p.conf" "$@" 2>>"$tmp/serve.log" & pids+=($!)
  for _ in $(seq 100); do [ -s "$want/listen" ] && break; sleep 0.05; done
  kill -TERM "${pids[-1]}"; wait "${pids[-1]}" 2>/dev/null
  [ -s "$want/listen" ]
}
ok "serve reads data_dir and listen from the file" 'start_serve "$tmp/from-file"'
ok "environment beats the file (PINPIPE_DATA_DIR)" \
   'PINPIPE_DATA_DIR=$tmp/from-env start_serve "$tmp/from-env"'
ok "a flag beats the environment" \
   'PINPIPE_DATA_DIR=$tmp/from-env2 start_serve "$tmp/from-flag" --data-dir "$tmp/from-flag"'
# (the output captured first: `| grep -q` ends the pipe early, SIGPIPE under pipefail)
PINPIPE_CONFIG=$tmp/p.conf "$PINPIPE" config >"$tmp/config.out"
ok "PINPIPE_CONFIG names the file" 'grep -q "^fsync = always" "$tmp/config.out"'

printf '[serve]\nlisten = x\nbogus = 1\n' >"$tmp/bad.conf"
err=$("$PINPIPE" serve --config "$tmp/bad.conf" 2>&1 >/dev/null); rc=$?
ok "unknown key exits 2" '[ $rc = 2 ]'
ok "unknown key names file, line and key" 'grep -q "bad.conf:3: unknown key .bogus. in \[serve\]" <<<"$err"'
err=$("$PINPIPE" serve --config "$tmp/missing.conf" 2>&1 >/dev/null); rc=$?
ok "missing file exits 2 with a reason" '[ $rc = 2 ] && grep -q "cannot read configuration file" <<<"$err"'
# The README's example, pasted as it is (inline "# env ..." comments after whitespace), parses
# to the documented values; a '#' inside a value (no whitespace before it) is kept.
PP_SRC=${PP_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
awk '/^```ini$/ {f = 1; next} /^```$/ {if (f) exit} f' "$PP_SRC/README.md" >"$tmp/readme.conf"
"$PINPIPE" config --config "$tmp/readme.conf" >"$tmp/readme.out" 2>"$tmp/readme.err"; rc=$?
ok "README example parses" '[ $rc = 0 ] && [ -s "$tmp/readme.conf" ]'
ok "README data_dir without its comment" 'grep -qx "data_dir = /var/lib/pinpipe" "$tmp/readme.out"'
ok "README listen without its comment" 'grep -qx "listen = 0.0.0.0:8080" "$tmp/readme.out"'
ok "README fsync" 'grep -qx "fsync = always" "$tmp/readme.out"'
ok "README kafka secret masked" 'grep -qx "sasl.password = \*\*\*\*" "$tmp/readme.out"'
printf '[pinpipe]\ndata_dir = %s/with#hash\t; a comment\n' "$tmp" >"$tmp/hash.conf"
"$PINPIPE" config --config "$tmp/hash.conf" >"$tmp/hash.out" 2>&1
ok "a '#' inside a value is kept" 'grep -qx "data_dir = $tmp/with#hash" "$tmp/hash.out"'
# what a user gets wrong, each named as what it is, exit 2
printf '[nope]\nx = 1\n' >"$tmp/section.conf"
err=$("$PINPIPE" config --config "$tmp/section.conf" 2>&1 >/dev/null); rc=$?
ok "unknown section named as a section" '[ $rc = 2 ] && grep -q "section.conf:2: unknown section \[nope\]" <<<"$err"'
printf '[serve]\nlisten 127.0.0.1:8080\n' >"$tmp/noeq.conf"
err=$("$PINPIPE" config --config "$tmp/noeq.conf" 2>&1 >/dev/null); rc=$?
ok "a line without '=' is said to lack it" '[ $rc = 2 ] && grep -q "noeq.conf:2: in \[serve\]: a line without .=." <<<"$err"'
mkdir -p "$tmp/conf.d"
err=$("$PINPIPE" config --config "$tmp/conf.d" 2>&1 >/dev/null); rc=$?
ok "a directory is no configuration file" '[ $rc = 2 ] && grep -q "conf.d is a directory, not a configuration file" <<<"$err"'
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
