#!/usr/bin/env bash
# docker-compose for the production stack: the generated env folder (SR_STACK_DIR, default
# .local/docker), project name and compose file filled in. Examples:
#   docker/stack.sh up -d                       start (the setup runs first), or apply a changed stack.env
#   docker/stack.sh --profile standins up -d    with the SMS gateway and mail stand-ins
#   docker/stack.sh run --rm cli service-risk superset provision --url http://127.0.0.1:18088
#   docker/stack.sh ps | logs -f airflow-worker-1 | stop | down
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
export SR_STACK_DIR="${SR_STACK_DIR:-$ROOT/.local/docker}"
"$ROOT/docker/scripts/stack_env.sh"
exec docker-compose --project-name "${SR_STACK_PROJECT:-service-risk}" --project-directory "$ROOT/docker" \
  --file "$ROOT/docker/compose.yaml" --env-file "$SR_STACK_DIR/stack.env" "$@"
