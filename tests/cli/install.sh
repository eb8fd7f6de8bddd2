#!/usr/bin/env bash
# install.sh: `cmake --install` puts a working pinpipe and the deployment examples under a
# prefix; `cpack -G DEB` builds a Debian package whose contents and Depends are what README
# says (the binary in /usr/bin, examples and README in /usr/share/doc/pinpipe, the runtime
# libraries as dependencies).
set -euo pipefail
: "${PINPIPE:?}" "${PP_TOOLS:?the build directory}"
tmp=$(mktemp -d); trap 'rm -rf "$tmp" || true' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
cmake --install "$PP_TOOLS" --prefix "$tmp/prefix" >/dev/null
v=$("$tmp/prefix/bin/pinpipe" --version)
[ "$v" = "$("$PINPIPE" --version)" ] || fail "installed pinpipe says '$v'"
for f in share/doc/pinpipe/README.md share/doc/pinpipe/examples/pinpipe.conf.example \
         share/doc/pinpipe/examples/airflow/pinpipe_dag.py \
         share/doc/pinpipe/examples/systemd/pinpipe-serve.service; do
  [ -s "$tmp/prefix/$f" ] || fail "cmake --install did not put $f"
done
echo "ok: cmake --install: $v and the examples under the prefix"
command -v cpack >/dev/null && command -v dpkg-deb >/dev/null || { echo "SKIP: no cpack/dpkg-deb" >&2; exit 77; }
(cd "$PP_TOOLS" && cpack -G DEB -B "$tmp/pkg" >"$tmp/cpack.log" 2>&1) || { cat "$tmp/cpack.log"; fail "cpack"; }
deb=$(ls "$tmp"/pkg/pinpipe_*.deb)
dpkg-deb -c "$deb" | awk '{print $6}' >"$tmp/contents"
for f in ./usr/bin/pinpipe ./usr/share/doc/pinpipe/README.md \
         ./usr/share/doc/pinpipe/examples/airflow/pinpipe_dag.py; do
  grep -qx "$f" "$tmp/contents" || fail "$deb lacks $f: $(cat "$tmp/contents")"
done
deps=$(dpkg-deb -f "$deb" Depends)
for lib in libmicrohttpd libsqlite3 libpq librdkafka libcurl; do
  [[ $deps == *$lib* ]] || fail "Depends lacks $lib: $deps"
done
echo "ok: $(basename "$deb"): $(wc -l <"$tmp/contents") entries, Depends: $deps"
