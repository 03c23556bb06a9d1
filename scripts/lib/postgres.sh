#!/usr/bin/env bash
# Start the local PostgreSQL cluster used by tests and ensure role/database `nucleus`.
# Idempotent: safe to run repeatedly. No systemd: uses Debian's pg_ctlcluster.
# Prints the export line for NUCLEUS_TEST_POSTGRES_URL on stdout (logs go to stderr).
set -euo pipefail

PG_PORT="${NUCLEUS_PG_PORT:-5432}"
PG_ROLE=nucleus
PG_PASSWORD=nucleus
PG_DB=nucleus
PG_CLUSTER=main

log() { printf '[postgres] %s\n' "$*" >&2; }

pick_version() {
  local v
  if [ -n "${NUCLEUS_PG_VERSION:-}" ]; then
    echo "$NUCLEUS_PG_VERSION"
    return
  fi
  # Prefer 15 (what the project targets); else the newest installed server.
  if [ -x /usr/lib/postgresql/15/bin/postgres ]; then
    echo 15
    return
  fi
  v=$(ls /usr/lib/postgresql 2>/dev/null | sort -n | tail -n1 || true)
  echo "$v"
}

if ! command -v pg_createcluster >/dev/null 2>&1 || [ -z "$(pick_version)" ]; then
  log "postgresql server not found; installing from apt"
  export DEBIAN_FRONTEND=noninteractive
  apt-get -o DPkg::Lock::Timeout=900 update -qq >&2
  apt-get -o DPkg::Lock::Timeout=900 install -y -qq postgresql >&2
fi

PG_VERSION=$(pick_version)
[ -n "$PG_VERSION" ] || { log "no postgresql server version installed"; exit 1; }

if ! pg_lsclusters -h | awk '{print $1" "$2}' | grep -qx "$PG_VERSION $PG_CLUSTER"; then
  log "creating cluster $PG_VERSION/$PG_CLUSTER on port $PG_PORT"
  pg_createcluster "$PG_VERSION" "$PG_CLUSTER" --port "$PG_PORT" >&2
fi

CONF_DIR="/etc/postgresql/$PG_VERSION/$PG_CLUSTER"
# Listen on loopback only, on the fixed port.
if ! grep -q '^listen_addresses = .127.0.0.1.' "$CONF_DIR/postgresql.conf"; then
  printf "\nlisten_addresses = '127.0.0.1'\n" >>"$CONF_DIR/postgresql.conf"
fi
if ! grep -q "^port = $PG_PORT\b" "$CONF_DIR/postgresql.conf"; then
  sed -i -E "s/^port = [0-9]+/port = $PG_PORT/" "$CONF_DIR/postgresql.conf"
fi

status=$(pg_lsclusters -h | awk -v v="$PG_VERSION" -v c="$PG_CLUSTER" '$1==v && $2==c {print $4}')
if [ "$status" != "online" ]; then
  log "starting cluster $PG_VERSION/$PG_CLUSTER"
  # Remove a stale pid file left by an unclean shutdown (e.g. container restart).
  pidfile="/var/lib/postgresql/$PG_VERSION/$PG_CLUSTER/postmaster.pid"
  if [ -f "$pidfile" ] && ! kill -0 "$(head -n1 "$pidfile")" 2>/dev/null; then
    log "removing stale $pidfile"
    rm -f "$pidfile"
  fi
  pg_ctlcluster "$PG_VERSION" "$PG_CLUSTER" start >&2
fi

# Wait until it accepts connections.
for _ in $(seq 1 60); do
  if pg_isready -q -h 127.0.0.1 -p "$PG_PORT"; then break; fi
  sleep 0.5
done
pg_isready -q -h 127.0.0.1 -p "$PG_PORT" || { log "postgres did not become ready on 127.0.0.1:$PG_PORT"; exit 1; }

psql_admin() { runuser -u postgres -- psql -p "$PG_PORT" -v ON_ERROR_STOP=1 -qtA "$@"; }

if [ "$(psql_admin -c "SELECT 1 FROM pg_roles WHERE rolname='$PG_ROLE'")" != "1" ]; then
  log "creating role $PG_ROLE"
  psql_admin -c "CREATE ROLE $PG_ROLE LOGIN CREATEDB PASSWORD '$PG_PASSWORD'" >&2
else
  psql_admin -c "ALTER ROLE $PG_ROLE LOGIN CREATEDB PASSWORD '$PG_PASSWORD'" >&2
fi

if [ "$(psql_admin -c "SELECT 1 FROM pg_database WHERE datname='$PG_DB'")" != "1" ]; then
  log "creating database $PG_DB"
  psql_admin -c "CREATE DATABASE $PG_DB OWNER $PG_ROLE" >&2
fi

URL="postgres://$PG_ROLE:$PG_PASSWORD@127.0.0.1:$PG_PORT/$PG_DB"
# Prove the URL works with password auth over TCP.
PGPASSWORD="$PG_PASSWORD" psql "$URL" -qtA -c 'SELECT 1' >/dev/null || { log "cannot connect with $URL"; exit 1; }
log "ready: $URL"
echo "export NUCLEUS_TEST_POSTGRES_URL=$URL"
