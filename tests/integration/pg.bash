# pg.bash: start/stop a throwaway PostgreSQL for the tests (sourced after lib.bash).
# pg_start [postgres -c options...]: initdb + pg_ctl on a free 127.0.0.1 port in a temp dir,
# trust auth, as the `postgres` user when running as root; sets PG_URL, PG_PORT, PG_DIR and
# stops the server on exit. Skips the test (77) when Debian's postgresql is not installed.
PG_BIN=${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)}
PG_DIR=
PG_RUN=()

pg_stop() {
  [ -n "$PG_DIR" ] && [ -f "$PG_DIR/data/postmaster.pid" ] || return 0
  "${PG_RUN[@]}" "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m immediate -w stop >/dev/null 2>&1 || true
}

pg_cleanup() {
  pg_stop
  [ -n "$PG_DIR" ] && [ "${PP_KEEP:-0}" != 1 ] && rm -rf "$PG_DIR"
  pp_cleanup
}

pg_free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

pg_start() {
  if [ -z "$PG_BIN" ] || [ ! -x "$PG_BIN/initdb" ]; then
    echo "SKIP: PostgreSQL server binaries not installed" >&2; exit 77
  fi
  PG_DIR=$(mktemp -d /tmp/pinpipe-pg.XXXXXX)
  if [ "$(id -u)" = 0 ]; then
    chown postgres: "$PG_DIR"
    PG_RUN=(runuser -u postgres --)
  fi
  trap pg_cleanup EXIT
  "${PG_RUN[@]}" "$PG_BIN/initdb" -D "$PG_DIR/data" -U postgres -A trust -E UTF8 \
    --locale=C.UTF-8 >"$PG_DIR/initdb.log" 2>&1 || { cat "$PG_DIR/initdb.log" >&2; pp_fail "initdb"; }
  local opts="-c listen_addresses=127.0.0.1 -k $PG_DIR -c max_connections=50" o
  for o in "$@"; do opts="$opts -c $o"; done
  local i
  for i in 1 2 3; do
    PG_PORT=$(pg_free_port)
    if "${PG_RUN[@]}" "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w -t 60 \
         -o "-p $PG_PORT $opts" start >/dev/null 2>&1; then
      PG_URL="postgresql://postgres@127.0.0.1:$PG_PORT/postgres"
      return 0
    fi
  done
  cat "$PG_DIR/server.log" >&2
  pp_fail "pg_ctl start"
}

# pg_restart: stop (immediate: as a crash) and start again on the same port.
pg_restart() {
  "${PG_RUN[@]}" "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m immediate -w stop >/dev/null 2>&1 || true
  "${PG_RUN[@]}" "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w -t 60 \
    -o "-p $PG_PORT -c listen_addresses=127.0.0.1 -k $PG_DIR" start >/dev/null 2>&1 || pp_fail "pg restart"
}

# pg_sql SQL: run SQL, print unaligned tuples only.
pg_sql() { psql -X -q -A -t -v ON_ERROR_STOP=1 "$PG_URL" -c "$1"; }

# pg_wait_rows N [TIMEOUT_S]: wait until pin, geo and user each hold N rows.
pg_wait_rows() {
  local n=$1 t=${2:-60} i got=
  for i in $(seq 1 $((t * 10))); do
    got=$(pg_sql 'select (select count(*) from pin)||$$ $$||(select count(*) from geo)||$$ $$||(select count(*) from "user")' 2>/dev/null || true)
    [ "$got" = "$n $n $n" ] && return 0
    sleep 0.1
  done
  pp_fail "PostgreSQL warehouse did not reach $n rows per table (has: ${got:-nothing})"
}
