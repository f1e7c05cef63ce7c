#!/usr/bin/env bash
# Start or stop a private, throw-away MariaDB for tests and benchmarks.
#
#   scripts/mariadb-private.sh start [DIR]   # prints the store URL on stdout
#   scripts/mariadb-private.sh stop  [DIR]
#
# The server lives entirely in DIR (default .ci/tmp/mariadb): its own data
# directory, a unix socket and a loopback TCP port, no systemd. It runs as
# root when we are root (CI), as the calling user otherwise. The URL it prints
# is what the tests read from SITETRUTH_TEST_MYSQL_URL.
set -euo pipefail

cmd=${1:-}
dir=${2:-$(cd "$(dirname "$0")/.." && pwd)/.ci/tmp/mariadb}
port=${SITETRUTH_TEST_MYSQL_PORT:-13306}

find_bin() {
  for b in "$@"; do
    command -v "$b" 2>/dev/null && return 0
    [ -x "/usr/sbin/$b" ] && { echo "/usr/sbin/$b"; return 0; }
  done
  echo "mariadb-private: none of $* found; install mariadb-server" >&2
  return 1
}

case "$cmd" in
start)
  mariadbd=$(find_bin mariadbd mysqld)
  installdb=$(find_bin mariadb-install-db mysql_install_db)
  client=$(find_bin mariadb mysql)
  mkdir -p "$dir"
  if [ -S "$dir/mysqld.sock" ] && "$client" --socket="$dir/mysqld.sock" -uroot -e 'SELECT 1' >/dev/null 2>&1; then
    echo "mysql://root@127.0.0.1:$port/sitetruth?unix_socket=$dir/mysqld.sock"
    exit 0
  fi
  user_opt=()
  [ "$(id -u)" = 0 ] && user_opt=(--user=root)
  if [ ! -d "$dir/data/mysql" ]; then
    "$installdb" "${user_opt[@]}" --datadir="$dir/data" --auth-root-authentication-method=normal \
      --skip-test-db >"$dir/install.log" 2>&1 || { cat "$dir/install.log" >&2; exit 1; }
  fi
  # Durability settings are the production ones (flush at commit): the
  # store tests kill writers with SIGKILL and the benchmarks must be honest.
  "$mariadbd" --no-defaults "${user_opt[@]}" --datadir="$dir/data" \
    --socket="$dir/mysqld.sock" --pid-file="$dir/mysqld.pid" \
    --port="$port" --bind-address=127.0.0.1 --skip-name-resolve \
    --log-error="$dir/error.log" --character-set-server=utf8mb4 \
    --collation-server=utf8mb4_unicode_ci --max-connections=500 \
    --innodb-buffer-pool-size=256M >/dev/null 2>&1 &
  for _ in $(seq 1 100); do
    if "$client" --socket="$dir/mysqld.sock" -uroot -e 'SELECT 1' >/dev/null 2>&1; then
      "$client" --socket="$dir/mysqld.sock" -uroot -e \
        "CREATE DATABASE IF NOT EXISTS sitetruth CHARACTER SET utf8mb4;
         CREATE USER IF NOT EXISTS 'root'@'127.0.0.1';
         GRANT ALL ON *.* TO 'root'@'127.0.0.1' WITH GRANT OPTION;"
      echo "mysql://root@127.0.0.1:$port/sitetruth?unix_socket=$dir/mysqld.sock"
      exit 0
    fi
    sleep 0.2
  done
  echo "mariadb-private: server did not come up; log follows" >&2
  tail -n 30 "$dir/error.log" >&2 || true
  exit 1
  ;;
stop)
  if [ -f "$dir/mysqld.pid" ]; then
    pid=$(cat "$dir/mysqld.pid")
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  fi
  ;;
*)
  echo "usage: $0 start|stop [DIR]" >&2
  exit 2
  ;;
esac
