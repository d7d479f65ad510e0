#!/usr/bin/env bash
# The stack's env folder (SR_STACK_DIR, default .local/docker; 0700, git-ignored), generated once and
# kept: stack.env (ports and settings; edit it and restart to change one), and in secrets/ (0600):
# secrets.env by the project's own scripts/secrets.sh (run in the Airflow image: the same names,
# generated the same way, rotated the same way), stack-secrets.env (Redis' password) and
# postgres-admin.env (the superuser's, given only to PostgreSQL and the setup and cli containers).
# Variables set when this first runs become the values (e.g. AIRFLOW_PORT=28080 docker/stack.sh up).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
DOCKER="${DOCKER:-/usr/bin/docker}"
dir="${SR_STACK_DIR:-$ROOT/.local/docker}"
umask 077
mkdir -p "$dir/secrets"
chmod 700 "$ROOT/.local" "$dir" "$dir/secrets"

if [ ! -f "$dir/stack.env" ]; then
  cat > "$dir/stack.env" <<ENV
# Ports of the production stack. Every container uses the host's network: each is a loopback port
# of this machine, none the host's own services' (PostgreSQL 5432, Redis 6379, Airflow 8080,
# Superset 8088 of make demo and the tests). Change one here, then docker/stack.sh up -d.
SR_POSTGRES_PORT=${SR_POSTGRES_PORT:-15432}
SR_REDIS_PORT=${SR_REDIS_PORT:-16379}
AIRFLOW_PORT=${AIRFLOW_PORT:-18080}
SUPERSET_PORT=${SUPERSET_PORT:-18088}
FEEDBACK_PORT=${FEEDBACK_PORT:-18090}
SMS_GATEWAY_PORT=${SMS_GATEWAY_PORT:-18591}
SMTP_PORT=${SMTP_PORT:-10025}
SR_SCHEDULER_HEALTH_PORT=${SR_SCHEDULER_HEALTH_PORT:-18974}
# Mail relay and SMS gateway: the stand-ins of the profile standins unless these point elsewhere.
SMTP_HOST=${SMTP_HOST:-127.0.0.1}
DATA_ENGINEER_EMAILS=${DATA_ENGINEER_EMAILS:-data-engineers@service-risk.invalid}
# Task slots per Airflow worker.
SR_WORKER_CONCURRENCY=${SR_WORKER_CONCURRENCY:-4}
# Seconds: a task without a heartbeat is failed and retried (its worker died); a task queued to a
# worker that never started it is queued again.
SR_TASK_HEARTBEAT_TIMEOUT=${SR_TASK_HEARTBEAT_TIMEOUT:-300}
SR_TASK_QUEUED_TIMEOUT=${SR_TASK_QUEUED_TIMEOUT:-600}
ENV
  # Settings the DAGs read, written only when set (e.g. by make deploy-check).
  for name in SR_TASK_RETRIES SR_TASK_RETRY_DELAY_SECONDS SR_WEEKLY_LISTS_POKE_SECONDS SR_TRAINING_PLANS_POKE_SECONDS; do
    if [ -n "${!name:-}" ]; then echo "$name=${!name}" >> "$dir/stack.env"; fi
  done
  echo "wrote $dir/stack.env"
fi

gen() { python3 -c 'import secrets; print(secrets.token_urlsafe(32))'; }
if [ ! -f "$dir/secrets/secrets.env" ]; then
  # scripts/secrets.sh writes into ROOT/.local of the image, here the secrets folder; it prints the
  # new logins once.
  "$DOCKER" run --rm --network none --user 0 --entrypoint /opt/service-risk/scripts/secrets.sh \
    -v "$dir/secrets:/opt/service-risk/.local" "service-risk/airflow:${SR_IMAGE_TAG:-latest}"
  rm -f "$dir/secrets/airflow_passwords.json"  # each container writes its own from the env
  echo "(those are in $dir/secrets/secrets.env)"
fi
if [ ! -f "$dir/secrets/stack-secrets.env" ]; then
  echo "REDIS_PASSWORD=$(gen)" > "$dir/secrets/stack-secrets.env"
fi
if [ ! -f "$dir/secrets/postgres-admin.env" ]; then
  password="$(gen)"
  printf 'POSTGRES_PASSWORD=%s\nPGUSER=postgres\nPGPASSWORD=%s\n' "$password" "$password" \
    > "$dir/secrets/postgres-admin.env"
fi
chmod 600 "$dir/stack.env" "$dir"/secrets/*
