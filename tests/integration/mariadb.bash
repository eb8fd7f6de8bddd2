# mariadb.bash: start and stop a throwaway MariaDB server on 127.0.0.1 for the tests (sourced).
#
#   source tests/integration/mariadb.bash
#   pp_mariadb_start          # skips the test (exit 77) when mariadbd is not installed
#   ... "$PP_MY_URL" (mysql://pinpipe:<pw>@127.0.0.1:<port>/pinpipe), pp_mariadb_sql 'SQL' ...
#   (stopped by the EXIT trap; pp_mariadb_stop stops it earlier)
#
# The server runs from a fresh datadir (mariadb-install-db) in its own temp dir, with
# --no-defaults (nothing read from /etc/mysql), on a free loopback port and a private socket.
# mariadbd refuses to run as root, so as root it runs as the `mysql` user (runuser). The root
# account (no password, socket only) creates the database and a password user for pinpipe.

PP_MY_DIR= PP_MY_PID= PP_MY_PORT= PP_MY_SOCK= PP_MY_URL= PP_MY_USER=pinpipe PP_MY_DB=pinpipe
PP_MY_PASS=pp-secret-$$

pp_mariadb_bin() {
  local b
  for b in "$@"; do
    command -v "$b" 2>/dev/null && return 0
    [ -x "/usr/sbin/$b" ] && { echo "/usr/sbin/$b"; return 0; }
  done
  return 1
}

# pp_mariadb_sql SQL...: run SQL as the server's root over the socket (batch output, no headers).
pp_mariadb_sql() {
  "$PP_MY_CLIENT" --no-defaults --default-character-set=utf8mb4 --socket="$PP_MY_SOCK" -uroot \
    -N -B -e "$*"
}

# pp_mariadb_client ARGS...: the mariadb client as the pinpipe user over TCP (stdin = SQL).
pp_mariadb_client() {
  MYSQL_PWD=$PP_MY_PASS "$PP_MY_CLIENT" --no-defaults --default-character-set=utf8mb4 \
    --protocol=tcp -h127.0.0.1 \
    -P"$PP_MY_PORT" -u"$PP_MY_USER" -N -B "$@" "$PP_MY_DB"
}

pp_mariadb_stop() {
  [ -n "$PP_MY_DIR" ] || return 0
  # signal mariadbd itself (its pid file), not runuser, so that runuser reaps it
  local spid i
  spid=$(cat "$PP_MY_DIR/pid" 2>/dev/null || true)
  [ -n "$spid" ] || spid=$PP_MY_PID
  if [ -n "$spid" ] && kill -0 "$spid" 2>/dev/null; then
    kill -TERM "$spid" 2>/dev/null || true
    for i in $(seq 1 150); do kill -0 "$spid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$spid" 2>/dev/null || true
  fi
  [ -z "$PP_MY_PID" ] || wait "$PP_MY_PID" 2>/dev/null || true
  if [ "${PP_KEEP:-0}" = 1 ]; then echo "kept $PP_MY_DIR" >&2; else rm -rf "$PP_MY_DIR"; fi
  PP_MY_DIR= PP_MY_PID=
}

pp_mariadb_start() {
  local server install
  server=$(pp_mariadb_bin mariadbd mysqld) || { echo "SKIP: mariadbd not installed" >&2; exit 77; }
  install=$(pp_mariadb_bin mariadb-install-db mysql_install_db) ||
    { echo "SKIP: mariadb-install-db not installed" >&2; exit 77; }
  PP_MY_CLIENT=$(pp_mariadb_bin mariadb mysql) ||
    { echo "SKIP: mariadb client not installed" >&2; exit 77; }
  PP_MY_DIR=$(mktemp -d /tmp/pp-mariadb.XXXXXX)
  # the trap of lib.bash (if sourced) cleans up pinpipe; this one adds the server
  if declare -F pp_cleanup >/dev/null; then
    trap 'pp_mariadb_stop; pp_cleanup' EXIT
  else
    trap 'pp_mariadb_stop' EXIT
  fi
  PP_MY_SOCK=$PP_MY_DIR/sock
  PP_MY_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  local run=() user
  user=$(id -un)
  if [ "$(id -u)" = 0 ]; then
    id mysql >/dev/null 2>&1 || { echo "FAIL: running as root but there is no mysql user" >&2; exit 1; }
    chown mysql: "$PP_MY_DIR"
    run=(runuser -u mysql --)
    user=mysql
  fi
  "${run[@]}" "$install" --no-defaults --datadir="$PP_MY_DIR/data" --user="$user" \
    --auth-root-authentication-method=normal --skip-test-db --skip-name-resolve \
    >"$PP_MY_DIR/install.log" 2>&1 ||
    { cat "$PP_MY_DIR/install.log" >&2; echo "FAIL: mariadb-install-db" >&2; exit 1; }
  "${run[@]}" "$server" --no-defaults --datadir="$PP_MY_DIR/data" --port="$PP_MY_PORT" \
    --bind-address=127.0.0.1 --socket="$PP_MY_SOCK" --pid-file="$PP_MY_DIR/pid" \
    --log-error="$PP_MY_DIR/error.log" --tmpdir="$PP_MY_DIR" --skip-name-resolve \
    --skip-log-bin --innodb-buffer-pool-size=64M --innodb-log-file-size=48M \
    --innodb-flush-log-at-trx-commit=2 --max-allowed-packet=64M >/dev/null 2>&1 &
  PP_MY_PID=$!
  local i
  for i in $(seq 1 300); do
    "$PP_MY_CLIENT" --no-defaults --socket="$PP_MY_SOCK" -uroot -e 'select 1' >/dev/null 2>&1 && break
    kill -0 "$PP_MY_PID" 2>/dev/null ||
      { cat "$PP_MY_DIR/error.log" >&2; echo "FAIL: mariadbd exited" >&2; exit 1; }
    sleep 0.1
  done
  pp_mariadb_sql "select 1" >/dev/null ||
    { cat "$PP_MY_DIR/error.log" >&2; echo "FAIL: mariadbd did not answer in 30 s" >&2; exit 1; }
  pp_mariadb_sql "CREATE DATABASE $PP_MY_DB CHARACTER SET utf8mb4;
    CREATE USER '$PP_MY_USER'@'%' IDENTIFIED BY '$PP_MY_PASS';
    GRANT ALL ON $PP_MY_DB.* TO '$PP_MY_USER'@'%';" ||
    { echo "FAIL: creating the test database and user" >&2; exit 1; }
  PP_MY_URL="mysql://$PP_MY_USER:$PP_MY_PASS@127.0.0.1:$PP_MY_PORT/$PP_MY_DB"
}
