#!/usr/bin/env bash
# make deploy-check: prove the production path on this machine. Builds the base and the images,
# starts the stack (its own env folder .local/docker-check and project service-risk-check, so a
# production install under .local/docker is not touched), simulates DAYS days (after the warm-up)
# at SCALE, runs extraction and daily_risk through the Celery workers, stops airflow-worker-2 while
# it runs a task and checks that every run still succeeds and that tasks ran on both workers, checks
# that the dashboards answer, prints each step's duration and the images' sizes, then tears
# everything down (KEEP_IMAGES=1 keeps the images; the base tarball is always kept for reruns).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
umask 077  # its logs and report may carry what the containers printed
DOCKER=/usr/bin/docker
DAYS="${DAYS:-3}"
SCALE="${SCALE:-0.05}"
export SR_STACK_DIR="$ROOT/.local/docker-check" SR_STACK_PROJECT=service-risk-check
# Short enough to see a killed worker's task failed and retried within the check, and the Monday
# lists and monthly plans (whose sensors wait for their publication) sent within it.
export SR_TASK_HEARTBEAT_TIMEOUT="${SR_TASK_HEARTBEAT_TIMEOUT:-60}" SR_TASK_RETRY_DELAY_SECONDS="${SR_TASK_RETRY_DELAY_SECONDS:-10}"
export SR_WEEKLY_LISTS_POKE_SECONDS=30 SR_TRAINING_PLANS_POKE_SECONDS=30
report="$ROOT/.local/deploy-check-report.txt"
stack() { "$ROOT/docker/stack.sh" --profile standins "$@"; }
cli() { "$ROOT/docker/stack.sh" --profile tools run --rm -T cli "$@"; }
port() { grep "^$1=" "$SR_STACK_DIR/stack.env" | cut -d= -f2; }
metadata_sql() {  # the Airflow metadata, as the superuser in the postgres container
  "$DOCKER" exec "$(stack ps -q postgres)" psql -h 127.0.0.1 -p "$(port SR_POSTGRES_PORT)" -U postgres \
    -d airflow -v ON_ERROR_STOP=1 "$@"
}

durations=()
step() {  # name command...: run it, remember how long it took
  local name="$1" started=$SECONDS
  shift
  echo
  echo "== $name ($(date -u +%H:%M:%S) UTC)"
  "$@"
  durations+=("$name|$(( SECONDS - started ))")
}

summary() {
  {
    echo
    echo "== deploy-check summary (DAYS=$DAYS SCALE=$SCALE, $(nproc) cores)"
    printf '%-58s %8s\n' step seconds
    for entry in "${durations[@]}"; do printf '%-58s %8s\n' "${entry%|*}" "${entry##*|}"; done
    echo
    "$DOCKER" image ls --format '{{.Repository}}:{{.Tag}}  {{.Size}}' | grep '^service-risk/' | sort || true
    local airflow superset
    airflow="$("$DOCKER" image inspect -f '{{.Size}}' service-risk/airflow:latest 2>/dev/null || echo 0)"
    superset="$("$DOCKER" image inspect -f '{{.Size}}' service-risk/superset:latest 2>/dev/null || echo 0)"
    [ "$superset" = 0 ] || echo "(service-risk/superset is service-risk/airflow plus $(( (superset - airflow) / 1000000 )) MB: shared layers are stored once)"
  } | tee -a "$report"
}

teardown() {
  local status=$?
  summary || true
  local teardown_started=$SECONDS
  if [ -f "$SR_STACK_DIR/stack.env" ]; then
    echo
    echo "== teardown"
    stack logs --no-color > "$ROOT/.local/deploy-check-containers.log" 2>&1 || true
    stack --profile tools down --volumes --remove-orphans > /dev/null 2>&1 || true
  fi
  rm -rf "$SR_STACK_DIR"
  if [ "${KEEP_IMAGES:-0}" != 1 ]; then
    "$DOCKER" image rm service-risk/superset:latest service-risk/airflow:latest service-risk/postgres:latest \
      service-risk/redis:latest service-risk/base:bookworm > /dev/null 2>&1 || true
    "$DOCKER" image prune --force > /dev/null 2>&1 || true
  fi
  echo "teardown took $(( SECONDS - teardown_started )) s" | tee -a "$report"
  echo "containers' logs: .local/deploy-check-containers.log; report: $report"
  [ "$status" = 0 ] && echo "deploy-check passed" || echo "deploy-check FAILED (exit $status)" >&2
  exit "$status"
}

: > "$report"
chmod 600 "$report"
step "prerequisites (apt where missing, dockerd)" docker/scripts/prerequisites.sh
trap teardown EXIT
step "base image (debootstrap, cached tarball, docker import)" docker/base/build_base.sh
for role in postgres redis airflow superset; do
  step "image service-risk/$role" docker/scripts/build_images.sh "$role"
done

check_ports_free() {
  rm -rf "$SR_STACK_DIR"  # a check left half-way: start from a new env
  docker/scripts/stack_env.sh
  local name busy=""
  for name in SR_POSTGRES_PORT SR_REDIS_PORT AIRFLOW_PORT SUPERSET_PORT FEEDBACK_PORT SMS_GATEWAY_PORT SMTP_PORT SR_SCHEDULER_HEALTH_PORT; do
    if (echo > "/dev/tcp/127.0.0.1/$(port "$name")") 2>/dev/null; then busy="$busy $name=$(port "$name")"; fi
  done
  [ -z "$busy" ] || { echo "ports in use:$busy (set them in the environment, e.g. AIRFLOW_PORT=28080)" >&2; exit 1; }
}
step "env files (ports, secrets by scripts/secrets.sh)" check_ports_free

setup_and_simulate() {
  # The simulated history before Airflow starts, as make demo does: its first scheduled runs find it.
  stack up -d postgres redis setup
  local status
  status="$("$DOCKER" wait "$(stack ps -q setup)")"
  stack logs --no-color setup | tail -8
  [ "$status" = 0 ] || { echo "setup failed (exit $status)" >&2; exit 1; }
}
step "setup: databases, roles, migrations, Superset metadata" setup_and_simulate
step "simulate $DAYS days (+ warm-up) at scale $SCALE" \
  cli service-risk simulate --days "$DAYS" --with-warm-up --scale "$SCALE" --seed 42 --dirty-rate 0.002

wait_healthy() {
  stack up -d
  local deadline=$(( SECONDS + 900 )) pending
  while :; do
    pending=""
    for id in $(stack ps -q); do
      state="$("$DOCKER" inspect -f '{{.Name}} {{.State.Status}} {{if .State.Health}}{{.State.Health.Status}}{{else}}-{{end}}' "$id")"
      case "$state" in
        /*setup*) ;;  # one-shot, exited 0 before the others started
        *" running healthy" | *" running -") ;;
        *) pending="$pending ${state%% *}" ;;
      esac
    done
    [ -n "$pending" ] || break
    [ $SECONDS -lt $deadline ] || { echo "not healthy after 900 s:$pending" >&2; stack ps >&2; exit 1; }
    sleep 5
  done
  stack ps
}
step "stack up: every service healthy" wait_healthy
step "extract_sources through the Celery workers" \
  cli python -m service_risk.airflow_client trigger-and-wait extract_sources --timeout 1800

stopped_task=""
daily_risk_with_a_worker_stopped() {
  local log="$ROOT/.local/deploy-check-daily-risk.log" waiter found
  cli python -m service_risk.airflow_client trigger-and-wait daily_risk --timeout 3600 > "$log" 2>&1 &
  waiter=$!
  # A task running on worker 2, while no dbt build runs there (the build has no retry: Cosmos
  # would skip it; its node tasks are retried and rebuild what it did not finish).
  local query="select run_id || ' ' || task_id || ' try ' || try_number from task_instance
    where dag_id = 'daily_risk' and state = 'running' and hostname = 'airflow-worker-2'
      and task_id not like '%producer%'
      and not exists (select from task_instance p where p.dag_id = 'daily_risk' and p.state = 'running'
                      and p.hostname = 'airflow-worker-2' and p.task_id like '%producer%')
    order by start_date limit 1"
  while kill -0 "$waiter" 2>/dev/null; do
    found="$(metadata_sql -Atc "$query" 2>/dev/null || true)"
    if [ -n "$found" ]; then
      stopped_task="$found"
      echo "$(date -u +%H:%M:%S) airflow-worker-2 runs $found: docker-compose stop airflow-worker-2"
      local stop_started=$SECONDS
      stack stop --timeout 5 airflow-worker-2
      echo "$(date -u +%H:%M:%S) airflow-worker-2 stopped in $(( SECONDS - stop_started )) s"
      break
    fi
    sleep 3
  done
  local status=0
  wait "$waiter" || status=$?
  cat "$log"
  [ -n "$stopped_task" ] || { echo "daily_risk ended before worker 2 ran a task: the stop was not exercised" >&2; exit 1; }
  [ "$status" = 0 ] || exit "$status"
  stack start airflow-worker-2  # back for what follows
}
step "daily_risk, worker 2 stopped mid-run" daily_risk_with_a_worker_stopped

all_runs_finished() {
  # Extraction's assets trigger daily_risk, publication triggers send_risk_sheets, and the
  # scheduler starts their cron runs too: wait for every run of the three, then all must be green.
  local pipeline="dag_id in ('extract_sources', 'daily_risk', 'send_risk_sheets')"
  local deadline=$(( SECONDS + 1800 )) open
  while :; do
    open="$(metadata_sql -Atc "select count(*) from dag_run where $pipeline and state in ('queued', 'running')")"
    [ "$open" = 0 ] && break
    [ $SECONDS -lt $deadline ] || { echo "runs still open after 1800 s" >&2; exit 1; }
    sleep 10
  done
  metadata_sql -c "select dag_id, run_type, state, count(*) as runs,
      round(extract(epoch from max(end_date - start_date))) as longest_s
    from dag_run group by 1, 2, 3 order by 1, 2, 3" | tee -a "$report"
  [ "$(metadata_sql -Atc "select count(*) from dag_run where $pipeline and state <> 'success'")" = 0 ] \
    || { echo "a run of the pipeline did not succeed" >&2; exit 1; }
}
step "every run of the pipeline finished green (cron, asset-triggered, manual)" all_runs_finished

workers_and_retries() {
  {
    echo "tasks per worker (every try, task_instance and task_instance_history):"
    metadata_sql -c "select hostname, state, count(*) as tries from (
        select hostname, state from task_instance union all select hostname, state from task_instance_history
      ) t group by 1, 2 order by 1, 2"
    echo "worker 2 ran $stopped_task when it was stopped; that task's tries:"
    local run_id task_id
    run_id="${stopped_task%% *}"
    task_id="$(echo "$stopped_task" | cut -d' ' -f2)"
    metadata_sql -c "select try_number, hostname, state, start_date, end_date from (
        select try_number, hostname, state, start_date, end_date from task_instance_history
          where run_id = '$run_id' and task_id = '$task_id'
        union all select try_number, hostname, state, start_date, end_date from task_instance
          where run_id = '$run_id' and task_id = '$task_id') t order by try_number"
  } | tee -a "$report"
  local workers
  workers="$(metadata_sql -Atc "select count(distinct hostname) from (select hostname from task_instance
    union all select hostname from task_instance_history) t where hostname like 'airflow-worker-%'")"
  [ "$workers" = 2 ] || { echo "tasks ran on $workers workers, not 2" >&2; exit 1; }
}
step "tasks on both workers; the stopped worker's task retried" workers_and_retries

step "Superset provisioning (dashboards, roles, RLS, users)" \
  cli service-risk superset provision --url "http://127.0.0.1:$(port SUPERSET_PORT)"
check_dashboards() { cli python docker/scripts/check_superset.py | tee -a "$report"; }
step "dashboards answer (health, every chart's data)" check_dashboards

memory() {
  "$DOCKER" stats --no-stream --format '{{.Name}}  {{.MemUsage}}  CPU {{.CPUPerc}}' | sort | tee -a "$report"
}
step "memory per container (after the runs)" memory
