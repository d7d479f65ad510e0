#!/usr/bin/env bash
# Run one DAG for real and exit non-zero when the run fails. With the scheduler up, the run is
# triggered through the API and waited for, so it queues behind the scheduler's own runs instead of
# racing them; otherwise `airflow dags test` (a real run in the metadata DB) at a logical date
# (default: now), one at a time per DAG. CONF: the run's conf as JSON (optional).
# Usage: scripts/run_dag.sh DAG_ID [LOGICAL_DATE] [CONF]
set -euo pipefail
dag_id="$1"
logical_date="${2:-}"
conf="${3:-}"
mkdir -p "$SR_STATE_DIR/logs"
started=$(date +%s)
pidfile="$SR_STATE_DIR/airflow.pgid"  # this checkout's Airflow (scripts/airflow_up.sh), not another one's
if [ -f "$pidfile" ] && kill -0 -- "-$(cat "$pidfile")" 2>/dev/null && python -m service_risk.airflow_client scheduler-up; then
  python -m service_risk.airflow_client trigger-and-wait "$dag_id" ${logical_date:+--logical-date "$logical_date"} \
    ${conf:+--conf "$conf"}
  echo "$dag_id succeeded in $(( $(date +%s) - started )) s (through the scheduler)"
  exit 0
fi
log="$SR_STATE_DIR/logs/${dag_id}-$(date +%Y%m%d%H%M%S).log"
exec 9> "$SR_STATE_DIR/${dag_id}.lock"
flock -w 3600 9
if env -u DBT_TARGET_PATH airflow dags test "$dag_id" "${logical_date:-$(date -u +%Y-%m-%dT%H:%M:%S+00:00)}" \
    ${conf:+--conf "$conf"} > "$log" 2>&1; then
  grep -E "rows, batch|rows/s" "$log" | sed -E 's/^.*(\b[a-z_]+__[a-z_]+: )/\1/' || true
  echo "$dag_id succeeded in $(( $(date +%s) - started )) s (log: $log)"
else
  tail -40 "$log"
  echo "$dag_id FAILED (log: $log)" >&2
  exit 1
fi
