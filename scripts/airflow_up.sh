#!/usr/bin/env bash
# Start Airflow (standalone: API server, scheduler, DAG processor, triggerer) in
# its own process group, wait until healthy and say how to log in and stop it.
set -euo pipefail
pidfile="$SR_STATE_DIR/airflow.pgid"
log="$SR_STATE_DIR/logs/airflow-standalone.log"
mkdir -p "$SR_STATE_DIR/logs"
port="$AIRFLOW__API__PORT"
if [ -f "$pidfile" ] && kill -0 -- "-$(cat "$pidfile")" 2>/dev/null; then
  echo "Airflow already running (pgid $(cat "$pidfile"))."
else
  python -m service_risk.dbt_manifest > /dev/null  # before the DAG processor needs it
  # Cosmos gives each dbt task a target folder of its own; a shared one would have tasks overwrite
  # each other's manifest, partial parse and run results.
  setsid env -u DBT_TARGET_PATH airflow standalone > "$log" 2>&1 < /dev/null &
  echo $! > "$pidfile"
fi
for _ in $(seq 1 90); do
  if curl -fsS "http://127.0.0.1:$port/api/v2/monitor/health" >/dev/null 2>&1; then
    echo "Airflow UI: http://127.0.0.1:$port  (user admin; password in .local/airflow_passwords.json)"
    echo "Stop it with: make stop"
    exit 0
  fi
  sleep 2
done
echo "Airflow did not become healthy in 180 s; see $log" >&2
tail -20 "$log" >&2
exit 1
