#!/usr/bin/env bash
# Start Airflow (API server, scheduler, DAG processor, triggerer) in its own process
# group, wait until healthy and say how to log in and stop it. `airflow db migrate` first
# (make setup).
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
  # The four parts of `airflow standalone`, started here because standalone has the scheduler and
  # triggerer serve task logs on every interface (ports 8793/8794, no host setting): on one machine
  # the API server reads the log files itself, so they skip that server. The API server listens on
  # AIRFLOW__API__HOST (scripts/env.sh: 127.0.0.1).
  setsid env -u DBT_TARGET_PATH bash -c 'airflow scheduler --skip-serve-logs & airflow dag-processor &
    airflow triggerer --skip-serve-logs & airflow api-server & wait' > "$log" 2>&1 < /dev/null &
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
