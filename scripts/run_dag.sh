#!/usr/bin/env bash
# Run one DAG for real (`airflow dags test`: a real run in the metadata DB) at
# a logical date (default: now). Exits non-zero when the run fails.
set -euo pipefail
dag_id="$1"
logical_date="${2:-$(date -u +%Y-%m-%dT%H:%M:%S+00:00)}"
mkdir -p "$SR_STATE_DIR/logs"
log="$SR_STATE_DIR/logs/${dag_id}-$(date +%Y%m%d%H%M%S).log"
started=$(date +%s)
if airflow dags test "$dag_id" "$logical_date" > "$log" 2>&1; then
  grep -E "rows, batch|rows/s" "$log" | sed -E 's/^.*(\b[a-z_]+__[a-z_]+: )/\1/' || true
  echo "$dag_id succeeded in $(( $(date +%s) - started )) s (log: $log)"
else
  tail -40 "$log"
  echo "$dag_id FAILED (log: $log)" >&2
  exit 1
fi
