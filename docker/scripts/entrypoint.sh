#!/usr/bin/env bash
# Every Airflow and Superset container: the project's environment (scripts/env.sh derives every
# connection, role and path from the ports and secrets that compose passes from the generated env
# files), then what differs in production, then the command.
set -euo pipefail
: "${SR_POSTGRES_PORT:?SR_POSTGRES_PORT is not set: start the stack with docker/stack.sh}"
export PGHOST=127.0.0.1 PGPORT="$SR_POSTGRES_PORT"
export REDIS_URL="redis://:${REDIS_PASSWORD:?}@127.0.0.1:${SR_REDIS_PORT:?}/0"
set +u  # env.sh leaves optional settings unset
# shellcheck disable=SC1091
. /opt/service-risk/scripts/env.sh
set -u

# Celery instead of the LocalExecutor: tasks go through Redis (its database 1; Superset's broker
# and caches use 0) to the workers, their results into the metadata database.
export AIRFLOW__CORE__EXECUTOR=CeleryExecutor
export AIRFLOW__CELERY__BROKER_URL="redis://:${REDIS_PASSWORD}@127.0.0.1:${SR_REDIS_PORT}/1"
export AIRFLOW__CELERY__RESULT_BACKEND="db+postgresql://$SR_AIRFLOW_METADATA_ROLE:$SR_AIRFLOW_METADATA_PASSWORD@127.0.0.1:$PGPORT/${SR_DB_PREFIX}airflow"
export AIRFLOW__CELERY__WORKER_CONCURRENCY="${SR_WORKER_CONCURRENCY:-4}"
# The container's name (compose `hostname:`), not a DNS lookup of it: task_instance.hostname says
# which worker ran a task.
export AIRFLOW__CORE__HOSTNAME_CALLABLE=socket.gethostname
# A task whose worker died is failed (and retried elsewhere) after this many seconds without a heartbeat.
export AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT="${SR_TASK_HEARTBEAT_TIMEOUT:-300}"
# A task queued to a worker that died before starting it is queued again after this many seconds.
export AIRFLOW__SCHEDULER__TASK_QUEUED_TIMEOUT="${SR_TASK_QUEUED_TIMEOUT:-600}"
export AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK=True AIRFLOW__SCHEDULER__SCHEDULER_HEALTH_CHECK_SERVER_HOST=127.0.0.1
export AIRFLOW__SCHEDULER__SCHEDULER_HEALTH_CHECK_SERVER_PORT="${SR_SCHEDULER_HEALTH_PORT:-18974}"
export SUPERSET_PYTHON=/opt/service-risk/.venv/superset/bin/python

# The API server reads the admin's password from this file (scripts/secrets.sh writes it natively).
passwords="$AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE"
if [ -n "${AIRFLOW_ADMIN_PASSWORD:-}" ] && [ -w "$(dirname "$passwords")" ]; then
  printf '{"admin": "%s"}\n' "$AIRFLOW_ADMIN_PASSWORD" > "$passwords.$$"
  mv -f "$passwords.$$" "$passwords"
fi
# Cosmos gives each dbt task a target folder of its own; a shared one would have tasks overwrite each
# other's manifest and run results (scripts/airflow_up.sh does the same).
if [ "${1:-}" = airflow ]; then unset DBT_TARGET_PATH; fi
exec "$@"
