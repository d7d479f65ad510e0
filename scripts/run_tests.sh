#!/usr/bin/env bash
# The test suite against its own databases (prefix test_), never the demo's.
set -euo pipefail
export SR_DB_PREFIX="${SR_DB_PREFIX:-test_}"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
# shellcheck disable=SC1091
. scripts/env.sh
mkdir -p "$SR_STATE_DIR" artifacts
service-risk init-db
airflow db migrate > "$SR_STATE_DIR/airflow-migrate.log" 2>&1 || { tail -30 "$SR_STATE_DIR/airflow-migrate.log"; exit 1; }
ruff check src dags tests bench superset
ruff format --check src dags tests bench superset
sqlfluff lint --config dbt_project/.sqlfluff dbt_project/models
exec pytest "$@"
