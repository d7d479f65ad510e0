#!/usr/bin/env bash
# The stack's one-shot setup, run by docker-compose before any service starts (service `setup`),
# idempotent: the native setup's own commands (make setup), in the containers.
set -euo pipefail
service-risk init-db
log="$SR_STATE_DIR/airflow-migrate.log"
airflow db migrate > "$log" 2>&1 || { tail -30 "$log" >&2; exit 1; }
echo "Airflow metadata migrated"
/opt/service-risk/scripts/superset_setup.sh
# The DAG processor and every task render daily_risk from this manifest (shared volume).
python -m service_risk.dbt_manifest
echo "setup done"
