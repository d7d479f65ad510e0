#!/usr/bin/env bash
# The test suite against its own databases (prefix test_), never the demo's.
# With no arguments, the whole suite in two lanes at once, each with its own databases, state folder
# and services (prefixes test_ and test2_): most steps keep one core busy (dags test, a dbt process,
# a browser), so two lanes use the machine's two. With arguments, one pytest with them.
set -euo pipefail
export SR_DB_PREFIX="${SR_DB_PREFIX:-test_}"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
# Each lane's modules, longest first; together every tests/test_*.py (checked below).
LANE_1="tests/test_superset.py tests/test_quality_gates.py tests/test_reports.py tests/test_dbt_risk_model.py
  tests/test_superset_files.py tests/test_dags.py"
LANE_2="tests/test_live_service.py tests/test_closed_loop.py tests/test_service_security.py
  tests/test_security.py tests/test_extraction.py tests/test_dbt_docs.py tests/test_simulator.py"

# A prefix's databases and metadata, from its own environment (scripts/env.sh derives every name and
# the state folder from SR_DB_PREFIX).
prepare_prefix() {
  (
    unset SR_STATE_DIR
    export SR_DB_PREFIX="$1"
    # shellcheck disable=SC1091
    . scripts/env.sh
    service-risk init-db
    airflow db migrate > "$SR_STATE_DIR/airflow-migrate.log" 2>&1 || { tail -30 "$SR_STATE_DIR/airflow-migrate.log"; exit 1; }
  )
}

lint() {
  (
    # shellcheck disable=SC1091
    . scripts/env.sh
    ruff check src dags tests bench superset
    ruff format --check src dags tests bench superset
    sqlfluff lint --config dbt_project/.sqlfluff dbt_project/models
  )
}

run_pytest() {  # PREFIX ARGS...
  local prefix="$1"
  shift
  (
    unset SR_STATE_DIR
    export SR_DB_PREFIX="$prefix"
    # shellcheck disable=SC1091
    . scripts/env.sh
    exec pytest "$@"
  )
}

mkdir -p artifacts
if [ $# -gt 0 ]; then
  prepare_prefix "$SR_DB_PREFIX"
  lint
  run_pytest "$SR_DB_PREFIX" "$@"
  exit
fi

listed=$(echo $LANE_1 $LANE_2 | tr ' ' '\n' | sort)
present=$(ls tests/test_*.py | sort)
if [ "$listed" != "$present" ]; then
  echo "scripts/run_tests.sh: the lanes must list every test module once:" >&2
  diff <(echo "$listed") <(echo "$present") >&2 || true
  exit 2
fi
second_prefix="${SR_DB_PREFIX%_}2_"
prepare_prefix "$SR_DB_PREFIX"
prepare_prefix "$second_prefix"
lint
lane_2_log="artifacts/pytest-lane-2.log"
started=$(date +%s)
# shellcheck disable=SC2086
run_pytest "$second_prefix" $LANE_2 > "$lane_2_log" 2>&1 &
lane_2=$!
lane_1_status=0
# shellcheck disable=SC2086
run_pytest "$SR_DB_PREFIX" $LANE_1 || lane_1_status=$?
lane_2_status=0
wait "$lane_2" || lane_2_status=$?
echo
echo "=================== lane 2 ($second_prefix): $LANE_2"
cat "$lane_2_log"
echo "lane 1 exit $lane_1_status, lane 2 exit $lane_2_status, both lanes in $(( $(date +%s) - started )) s"
[ "$lane_1_status" -eq 0 ] && [ "$lane_2_status" -eq 0 ]
