#!/usr/bin/env bash
# A throwaway PostgreSQL 15 cluster for the tests, entirely inside one folder.
#
#   scripts/pg-cluster.sh start DIR   initdb in DIR/data, start the server listening only on a Unix
#                                     socket in DIR (no TCP), and print its connection string
#                                     (postgresql://...) on stdout; also written to DIR/conninfo.
#   scripts/pg-cluster.sh url DIR     print the connection string of a running cluster.
#   scripts/pg-cluster.sh stop DIR    stop the server and remove DIR.
#
# DIR may be missing or an empty folder (e.g. from mktemp -d); keep it short (a Unix socket path
# has at most 107 bytes) and reachable by the postgres user (a folder under /tmp is). As root the
# server runs as `postgres` (PostgreSQL refuses to run as root) and DIR is given to that user.
# Idempotent: `start` on a running cluster prints its string again, `start` after a half-way
# failure starts over, `stop` of a missing DIR does nothing. A folder without this script's marker
# is never touched. fsync stays on; the server uses the defaults otherwise, plus the lines of
# $PG_CLUSTER_CONF when set (postgresql.conf syntax, e.g. "shared_buffers = 2GB").
set -euo pipefail

PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
PORT=${PG_CLUSTER_PORT:-5432}  # only names the socket file (.s.PGSQL.PORT): no TCP listener
MARKER=.norreg-pg-cluster

usage() {
  echo "usage: $0 start|url|stop DIR" >&2
  exit 2
}
[ $# -eq 2 ] || usage
command=$1
dir=$2
[ -n "$dir" ] || usage
case "$dir" in
  /*) ;;
  *) dir="$PWD/$dir" ;;
esac
dir=${dir%/}
[ -n "$dir" ] && [ "$dir" != "/" ] || usage

log() { echo "pg-cluster: $*" >&2; }

# Runs a PostgreSQL program as the cluster's owner: `postgres` when we are root, else ourselves.
as_owner() {
  if [ "$(id -u)" -eq 0 ]; then
    (cd / && runuser -u postgres -- "$@")
  else
    "$@"
  fi
}

url() { echo "postgresql:///postgres?host=$dir&port=$PORT&user=postgres"; }

running() { [ -f "$dir/data/PG_VERSION" ] && as_owner "$PG_BIN/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; }

ours() { [ -f "$dir/$MARKER" ]; }

stop_server() {
  [ -f "$dir/data/postmaster.pid" ] || return 0
  as_owner "$PG_BIN/pg_ctl" -D "$dir/data" -m fast -w -t 60 stop >/dev/null 2>&1 ||
    as_owner "$PG_BIN/pg_ctl" -D "$dir/data" -m immediate -w -t 30 stop >/dev/null 2>&1 || true
}

start() {
  if [ -d "$dir" ] && ours && running; then
    url
    return 0
  fi
  if [ -d "$dir" ] && ! ours && [ -n "$(ls -A "$dir")" ]; then
    log "$dir is not empty and was not made by this script: refusing to use it"
    exit 1
  fi
  local socket="$dir/.s.PGSQL.$PORT"
  if [ ${#socket} -gt 107 ]; then
    log "$dir is too long for a Unix socket path ($socket): use a shorter folder"
    exit 1
  fi
  [ -x "$PG_BIN/initdb" ] || {
    log "no $PG_BIN/initdb: install postgresql-15 (scripts/install-deps.sh)"
    exit 1
  }
  # From here on a failure undoes everything: the server stopped, the folder removed.
  trap 'status=$?; if [ $status -ne 0 ]; then log "start failed, cleaning up"; stop_server; rm -rf "$dir"; fi' EXIT
  if [ -d "$dir" ] && ours; then  # a cluster left half-made or stopped: start over
    stop_server
    rm -rf "${dir:?}/data" "$dir/postgres.log" "$dir/conninfo"
  fi
  mkdir -p "$dir"
  touch "$dir/$MARKER"
  chmod 700 "$dir"
  if [ "$(id -u)" -eq 0 ]; then
    id postgres >/dev/null 2>&1 || {
      log "no postgres user (install postgresql-15, which creates it)"
      exit 1
    }
    chown -R postgres: "$dir"
    as_owner test -w "$dir" || {
      log "the postgres user cannot reach $dir: use a folder under /tmp"
      exit 1
    }
  fi
  as_owner "$PG_BIN/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --locale=C \
    --no-sync --no-instructions >"$dir/initdb.log" 2>&1 || {
    cat "$dir/initdb.log" >&2
    exit 1
  }
  cat >>"$dir/data/postgresql.conf" <<EOF
# pg-cluster.sh: a throwaway test cluster, reachable only through the socket in $dir
listen_addresses = ''
unix_socket_directories = '$dir'
port = $PORT
max_connections = 200
shared_buffers = 64MB
EOF
  # Extra settings for this cluster (e.g. the benchmark's memory sizes), one per line.
  [ -z "${PG_CLUSTER_CONF:-}" ] || printf '%s\n' "$PG_CLUSTER_CONF" >>"$dir/data/postgresql.conf"
  as_owner "$PG_BIN/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" -w -t 60 start >/dev/null || {
    cat "$dir/postgres.log" >&2 || true
    exit 1
  }
  url >"$dir/conninfo"
  trap - EXIT
  log "started in $dir"
  url
}

stop() {
  [ -e "$dir" ] || return 0
  if ! ours; then
    if [ -d "$dir" ] && [ -z "$(ls -A "$dir")" ]; then
      rmdir "$dir"
      return 0
    fi
    log "$dir was not made by this script: leaving it alone"
    exit 1
  fi
  stop_server
  rm -rf "$dir"
  log "stopped and removed $dir"
}

case "$command" in
  start) start ;;
  stop) stop ;;
  url)
    if ours && running; then url; else
      log "no running cluster in $dir"
      exit 1
    fi
    ;;
  *) usage ;;
esac
