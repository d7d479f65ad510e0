#!/usr/bin/env bash
# Create the cluster on first start (superuser password from POSTGRES_PASSWORD, scram on every
# connection), then run PostgreSQL on the loopback at SR_POSTGRES_PORT only.
set -euo pipefail
: "${POSTGRES_PASSWORD:?POSTGRES_PASSWORD is not set (docker/scripts/stack_env.sh)}"
: "${SR_POSTGRES_PORT:?SR_POSTGRES_PORT is not set (docker/scripts/stack_env.sh)}"
export PGDATA=/var/lib/postgresql/data/cluster
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  umask 077
  pwfile="$(mktemp)"
  printf '%s' "$POSTGRES_PASSWORD" > "$pwfile"
  initdb --username=postgres --pwfile="$pwfile" --auth=scram-sha-256 --encoding=UTF8 --locale=C.UTF-8 \
    > /tmp/initdb.log 2>&1 || { cat /tmp/initdb.log >&2; exit 1; }
  rm -f "$pwfile"
fi
unset POSTGRES_PASSWORD
# Connections: Airflow's processes and every running task hold their own; dbt adds its threads.
# /dev/shm is the container's (compose shm_size), for parallel queries.
exec postgres -c listen_addresses=127.0.0.1 -c port="$SR_POSTGRES_PORT" -c unix_socket_directories=/tmp \
  -c max_connections="${SR_POSTGRES_MAX_CONNECTIONS:-300}" -c shared_buffers="${SR_POSTGRES_SHARED_BUFFERS:-1GB}" \
  -c work_mem=32MB -c maintenance_work_mem=256MB -c timezone=UTC -c log_timezone=UTC
