#!/usr/bin/env bash
# Run a command against a throw-away PostgreSQL server: initdb in a temporary directory as
# the postgres user, start it on a free loopback port, export DATABASE_URL, stop it after.
set -euo pipefail
bindir=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
datadir=$(mktemp -d /tmp/fangkong-pg.XXXXXX)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
as_postgres() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}
[ "$(id -u)" -eq 0 ] && chown postgres "$datadir"
stop() {
  as_postgres "$bindir/pg_ctl" -D "$datadir/data" -m fast -w stop >/dev/null 2>&1 || true
  rm -rf "$datadir"
}
trap stop EXIT
as_postgres "$bindir/initdb" -D "$datadir/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 >/dev/null
# Tests need no durability; PG_DURABLE=1 keeps the defaults (fsync on) for benchmarks that
# must pay for every commit as production does.
durability="-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
[ "${PG_DURABLE:-0}" = "1" ] && durability=""
as_postgres "$bindir/pg_ctl" -D "$datadir/data" -l "$datadir/server.log" -w \
  -o "-p $port -k $datadir -c listen_addresses=127.0.0.1 $durability -c max_connections=200" \
  start >/dev/null
as_postgres "$bindir/createdb" -h 127.0.0.1 -p "$port" -U postgres fangkong
export DATABASE_URL="postgres://postgres@127.0.0.1:$port/fangkong"
echo "PostgreSQL $("$bindir/postgres" --version | awk '{print $3}') on port $port${durability:+ (fsync off)}"
"$@"
