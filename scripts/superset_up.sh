#!/usr/bin/env bash
# Start Superset (gunicorn web server + Celery worker) in its own process group, wait
# until healthy, apply the asset bundle, roles, RLS, users and subscriptions (removing what
# the files no longer name), and say how to log in.
# SUPERSET_PROVISION=0 skips the provisioning; SUPERSET_CELERY_WORKER=0 the worker and beat.
# Exactly one Celery beat (reports.scheduler every minute) runs with the worker.
set -euo pipefail
: "${SUPERSET_HOME:?source scripts/env.sh first}"
pidfile="$SR_STATE_DIR/superset.pgid"
log="$SR_STATE_DIR/logs/superset.log"
mkdir -p "$SR_STATE_DIR/logs" "$SUPERSET_HOME"
port="$SUPERSET_PORT"
url="http://127.0.0.1:$port"
bin="$ROOT/.venv/superset/bin"
if [ -f "$pidfile" ] && kill -0 -- "-$(cat "$pidfile")" 2>/dev/null; then
  echo "Superset already running (pgid $(cat "$pidfile"))."
elif curl -fsS "$url/health" >/dev/null 2>&1; then
  echo "Port $port already serves something that is not this checkout's Superset; set SUPERSET_PORT." >&2
  exit 1
else
  worker=""
  if [ "${SUPERSET_CELERY_WORKER:-1}" != 0 ]; then
    worker="'$bin/celery' --app=superset.tasks.celery_app:app worker --pool=prefork --concurrency=1 -Q \"superset_\${SR_DB_PREFIX:-demo_}celery\" --loglevel=WARNING &"
    # The process group was not running (checked above), so a pidfile left is stale.
    rm -f "$SUPERSET_HOME/celerybeat.pid"
    worker="$worker '$bin/celery' --app=superset.tasks.celery_app:app beat --pidfile '$SUPERSET_HOME/celerybeat.pid' \
      --schedule '$SUPERSET_HOME/celerybeat-schedule' --loglevel=WARNING &"
  fi
  # gevent workers: dashboards fire many chart requests at once. One session per
  # service, so `make stop` (kill -- -pgid) ends the web server, worker and beat together.
  setsid bash -c "$worker exec '$bin/gunicorn' --bind $SUPERSET_HOST:$port --workers 2 --worker-class gevent \
    --timeout 120 --no-control-socket --limit-request-line 0 --limit-request-field_size 0 'superset.app:create_app()'" \
    > "$log" 2>&1 < /dev/null &
  echo $! > "$pidfile"
fi
healthy=0
for _ in $(seq 1 90); do
  if curl -fsS "$url/health" >/dev/null 2>&1; then healthy=1; break; fi
  # The leader itself, not its group: right after the start the child may not have called
  # setsid yet, and a loaded machine saw the group missing and gave up on a healthy start.
  if ! kill -0 "$(cat "$pidfile")" 2>/dev/null; then break; fi
  sleep 1
done
if [ "$healthy" != 1 ]; then
  echo "Superset did not become healthy; see $log" >&2
  tail -30 "$log" >&2
  exit 1
fi
if [ "${SUPERSET_PROVISION:-1}" != 0 ]; then
  service-risk superset provision --url "$url"
fi
echo "Superset: $url  (user admin; password SUPERSET_ADMIN_PASSWORD in .local/secrets.env;"
echo "  every other login its own: service-risk superset password <username>)"
for dashboard in "$ROOT"/superset/assets/dashboards/*.yaml; do  # every dashboard of the bundle
  title="$(sed -n 's/^dashboard_title: *//p' "$dashboard" | tr -d "'\"")"
  echo "  $title: $url/superset/dashboard/$(sed -n 's/^slug: *//p' "$dashboard")/"
done
echo "Stop it with: make stop"
