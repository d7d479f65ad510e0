# shellcheck shell=bash
# Environment for every project command; sourced by the Makefile and scripts.
# Connection settings come from the environment with local defaults.
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export ROOT
# Owner-only before anything is created: secrets, logs, Data Docs, compiled SQL and the dbt
# target hold personal data or secrets. Inherited by every service started from here.
umask 077
export PGHOST="${PGHOST:-127.0.0.1}" PGPORT="${PGPORT:-5432}" PGUSER="${PGUSER:-postgres}"
export REDIS_URL="${REDIS_URL:-redis://127.0.0.1:6379/0}"
export SR_DB_PREFIX="${SR_DB_PREFIX:-}"
export SR_STATE_DIR="${SR_STATE_DIR:-$ROOT/.local/${SR_DB_PREFIX:-demo}}"
mkdir -p "$SR_STATE_DIR"
# Installations made before the umask: close the folders themselves (their files stay as they were).
chmod 700 "$ROOT/.local" "$SR_STATE_DIR"
export PATH="$ROOT/.venv/airflow/bin:$PATH"

# Generated secrets (scripts/secrets.sh), never committed, never defaults.
if [ -f "$ROOT/.local/secrets.env" ]; then
  set -a; . "$ROOT/.local/secrets.env"; set +a
fi

# Airflow's and Superset's metadata databases: each owned by and used through its own login
# (service-risk init-db and superset prepare create them; passwords in .local/secrets.env).
export SR_AIRFLOW_METADATA_ROLE="${SR_DB_PREFIX}airflow_metadata" SR_SUPERSET_METADATA_ROLE="${SR_DB_PREFIX}superset_metadata"
# The warehouse's roles by duty (service-risk init-db creates them, passwords in .local/secrets.env):
# extraction connects as the loader, dbt, the quality gates and publication as the transformer, the
# sheets' sender and the feedback form as the closed loop.
export SR_LOADER_ROLE="${SR_DB_PREFIX}warehouse_loader" SR_TRANSFORMER_ROLE="${SR_DB_PREFIX}warehouse_transformer"
export SR_CLOSED_LOOP_ROLE="${SR_DB_PREFIX}warehouse_closed_loop"
_loader_auth="$SR_LOADER_ROLE${SR_LOADER_PASSWORD:+:$SR_LOADER_PASSWORD}"
_pg_url() { printf 'postgresql://%s@%s:%s/%s%s' "$_loader_auth" "$PGHOST" "$PGPORT" "$SR_DB_PREFIX" "$1"; }

export AIRFLOW_HOME="$SR_STATE_DIR/airflow"
export AIRFLOW__CORE__DAGS_FOLDER="$ROOT/dags"
export AIRFLOW__CORE__LOAD_EXAMPLES=False
export AIRFLOW__CORE__EXECUTOR=LocalExecutor
export AIRFLOW__CORE__DEFAULT_TIMEZONE=Asia/Shanghai
export AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION=False
export AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS="admin:admin"
export AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE="$ROOT/.local/airflow_passwords.json"
export AIRFLOW__DATABASE__SQL_ALCHEMY_CONN="postgresql+psycopg2://$SR_AIRFLOW_METADATA_ROLE:${SR_AIRFLOW_METADATA_PASSWORD:-}@$PGHOST:$PGPORT/${SR_DB_PREFIX}airflow"
# Every service listens on the loopback only unless its *_HOST says otherwise.
export AIRFLOW__API__PORT="${AIRFLOW_PORT:-8080}" AIRFLOW__API__HOST="${AIRFLOW__API__HOST:-127.0.0.1}"
# Task processes report to the API server's execution API: the same port, or they fail to start.
export AIRFLOW__CORE__EXECUTION_API_SERVER_URL="http://127.0.0.1:$AIRFLOW__API__PORT/execution/"
# A task's "I am running" call that times out (default 5 s; 7 s under a full dbt build on 2 cores,
# soak 2026-12-06) is sent again and refused (400: already running): the task dies unlogged and is
# retried only after the 5-minute heartbeat timeout. Wait longer, and serve the API with a worker per core.
export AIRFLOW__WORKERS__EXECUTION_API_TIMEOUT="${AIRFLOW__WORKERS__EXECUTION_API_TIMEOUT:-60}"
export AIRFLOW__API__WORKERS="${AIRFLOW__API__WORKERS:-2}"
export AIRFLOW__LOGGING__LOGGING_LEVEL="${AIRFLOW__LOGGING__LOGGING_LEVEL:-INFO}"
export AIRFLOW__COSMOS__ENABLE_TELEMETRY=False AIRFLOW__COSMOS__CACHE_DIR="$SR_STATE_DIR/cosmos"
export DO_NOT_TRACK=1 GX_ANALYTICS_ENABLED=False SCARF_ANALYTICS=false
export AIRFLOW_CONN_SR_WAREHOUSE="$(_pg_url warehouse)"
export AIRFLOW_CONN_SR_SRC_MARKETING="$(_pg_url src_marketing)"
export AIRFLOW_CONN_SR_SRC_APPEALS="$(_pg_url src_95598)"
export AIRFLOW_CONN_SR_SRC_COMMAND="$(_pg_url src_command)"
unset -f _pg_url; unset _loader_auth
export DBT_PROJECT_DIR="$ROOT/dbt_project" DBT_PROFILES_DIR="$ROOT/dbt_project"
export DBT_SEND_ANONYMOUS_USAGE_STATS=False DBT_LOG_PATH="$SR_STATE_DIR/dbt-logs" DBT_TARGET_PATH="$SR_STATE_DIR/dbt-target"

# --- Superset (issue 5): its own venv, config and metadata DB `${SR_DB_PREFIX}superset` ---
export SUPERSET_HOME="$SR_STATE_DIR/superset"
export SUPERSET_CONFIG_PATH="$ROOT/superset/superset_config.py"
export SUPERSET_PORT="${SUPERSET_PORT:-8088}" SUPERSET_HOST="${SUPERSET_HOST:-127.0.0.1}"
# Each Superset login's own generated password (service-risk superset password USER).
export SUPERSET_PASSWORDS_FILE="${SUPERSET_PASSWORDS_FILE:-$ROOT/.local/superset_passwords.json}"
export SUPERSET_DATABASE_URI="postgresql+psycopg2://$SR_SUPERSET_METADATA_ROLE:${SR_SUPERSET_METADATA_PASSWORD:-}@$PGHOST:$PGPORT/${SR_DB_PREFIX}superset"
# Superset connects to the warehouse as this read-only role (password in .local/secrets.env).
export SUPERSET_WAREHOUSE_ROLE="${SR_DB_PREFIX}superset_reader"
export FLASK_APP=superset SUPERSET_LOAD_EXAMPLES=no

# --- Mail (issue 6: Superset reports and alerts; shared with data-quality alerts) ---
# Plain SMTP relay; DATA_ENGINEER_EMAILS (comma-separated) receive failed-report mails.
export SMTP_HOST="${SMTP_HOST:-127.0.0.1}" SMTP_PORT="${SMTP_PORT:-25}"
export SMTP_FROM="${SMTP_FROM:-service-risk@service-risk.invalid}"
export DATA_ENGINEER_EMAILS="${DATA_ENGINEER_EMAILS:-data-engineers@service-risk.invalid}"

# --- The closed loop (issue 14): risk report sheets by SMS and e-mail, the feedback form ---
# The SMS gateway's HTTP API; the key is in .local/secrets.env. `make demo` runs a local stand-in
# gateway (tests/sms_gateway.py) on SMS_GATEWAY_PORT; point SMS_GATEWAY_URL at the real one instead.
export SMS_GATEWAY_PORT="${SMS_GATEWAY_PORT:-8591}" SMS_GATEWAY_HOST="${SMS_GATEWAY_HOST:-127.0.0.1}"
export SMS_GATEWAY_URL="${SMS_GATEWAY_URL:-http://127.0.0.1:$SMS_GATEWAY_PORT}"
export SMS_GATEWAY_ACCOUNT="${SMS_GATEWAY_ACCOUNT:-service-risk}"
# The day the closed loop went live (YYYY-MM-DD): the effect views compare before and after it, and
# trained units with those the same rule picked before it (dbt var closed_loop_live_from).
export SR_CLOSED_LOOP_LIVE_FROM="${SR_CLOSED_LOOP_LIVE_FROM:-}"
# The feedback form (service_risk.closed_loop.feedback_app); its links are signed with
# FEEDBACK_TOKEN_SECRET and reach the stations as FEEDBACK_BASE_URL/feedback/<token>.
export FEEDBACK_PORT="${FEEDBACK_PORT:-8090}" FEEDBACK_HOST="${FEEDBACK_HOST:-127.0.0.1}"
export FEEDBACK_BASE_URL="${FEEDBACK_BASE_URL:-http://127.0.0.1:$FEEDBACK_PORT}"
