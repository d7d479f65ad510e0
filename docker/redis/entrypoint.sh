#!/usr/bin/env bash
# Redis on the loopback at SR_REDIS_PORT with this install's password, from a config file so the
# password is not in the host's process list; the append-only file keeps queued tasks over a restart.
set -euo pipefail
: "${REDIS_PASSWORD:?REDIS_PASSWORD is not set (docker/scripts/stack_env.sh)}"
umask 077
conf="$(mktemp)"
cat > "$conf" <<CONF
bind 127.0.0.1
port ${SR_REDIS_PORT:?SR_REDIS_PORT is not set}
requirepass ${REDIS_PASSWORD}
dir /var/lib/redis/data
appendonly yes
save ""
CONF
unset REDIS_PASSWORD
exec redis-server "$conf"
