#!/usr/bin/env bash
# max_body.sh: --max-body (serve, run) is bounded at 256M (the JSON tokenizer keeps int offsets):
# past it, from the flag, the environment or the configuration file, a one-line usage error and
# exit 2 before anything starts; 256M itself is accepted; --help says the bound.
set -uo pipefail
: "${PINPIPE:?}"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
fail=0; pass=0
usage_error() { # usage_error DESCRIPTION CMD...: exit 2, one line on stderr naming --max-body
  local what=$1; shift
  local err rc
  err=$("$@" 2>&1 >/dev/null </dev/null); rc=$?
  if [ "$rc" != 2 ] || [ "$(grep -c . <<<"$err")" != 1 ] || ! grep -q -- "--max-body" <<<"$err"; then
    echo "FAIL: $what: exit $rc, stderr: $err" >&2; fail=$((fail+1))
  else
    pass=$((pass+1))
  fi
}
for c in serve run; do
  for v in 257M 268435457 1G 17179869185G 99999999999999999999; do
    usage_error "$c --max-body $v" "$PINPIPE" "$c" --max-body "$v" --data-dir "$tmp/$c" \
      --listen 127.0.0.1:0
  done
  usage_error "$c with PINPIPE_SERVE_MAX_BODY=1G" env PINPIPE_SERVE_MAX_BODY=1G "$PINPIPE" "$c" \
    --data-dir "$tmp/$c" --listen 127.0.0.1:0
  printf '[serve]\nmax_body = 512M\n' >"$tmp/big.conf"
  usage_error "$c with max_body = 512M in the config" "$PINPIPE" "$c" --config "$tmp/big.conf" \
    --data-dir "$tmp/$c" --listen 127.0.0.1:0
  [ -e "$tmp/$c/listen" ] && { echo "FAIL: $c started with a refused --max-body" >&2; fail=$((fail+1)); }
  help=$("$PINPIPE" "$c" --help) # whole, not piped into grep -q (SIGPIPE under pipefail)
  if grep -q "at most.*256M" <<<"$help"; then pass=$((pass+1))
  else echo "FAIL: $c --help does not say the 256M bound" >&2; fail=$((fail+1)); fi
done

# the bound itself is fine: serve starts with --max-body 256M and answers
"$PINPIPE" serve --max-body 256M --data-dir "$tmp/ok" --listen 127.0.0.1:0 --no-dashboard \
  >"$tmp/ok.out" 2>"$tmp/ok.err" &
pid=$!
for _ in $(seq 1 250); do [ -s "$tmp/ok/listen" ] && break; kill -0 "$pid" 2>/dev/null || break; sleep 0.02; done
if [ -s "$tmp/ok/listen" ] && curl -sf "http://$(cat "$tmp/ok/listen")/healthz" >/dev/null; then
  pass=$((pass+1))
else
  echo "FAIL: serve --max-body 256M did not start: $(cat "$tmp/ok.err")" >&2; fail=$((fail+1))
fi
kill -TERM "$pid" 2>/dev/null; wait "$pid"
echo "max-body: $pass passed, $fail failed"
[ "$fail" = 0 ]
