#!/usr/bin/env bash
# Generate this checkout's secrets once (0600, git-ignored); print new passwords once.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
mkdir -p "$ROOT/.local"
umask 077
secrets="$ROOT/.local/secrets.env"
if [ ! -f "$secrets" ]; then
  py="$ROOT/.venv/airflow/bin/python"
  gen() { "$py" -c 'import secrets; print(secrets.token_urlsafe(32))'; }
  {
    echo "AIRFLOW_ADMIN_PASSWORD=$(gen)"
    echo "AIRFLOW__API_AUTH__JWT_SECRET=$(gen)"
    echo "AIRFLOW__API__SECRET_KEY=$(gen)"
    echo "AIRFLOW__CORE__FERNET_KEY=$("$py" -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())')"
  } > "$secrets"
  # shellcheck disable=SC1090
  . "$secrets"
  printf '{"admin": "%s"}\n' "$AIRFLOW_ADMIN_PASSWORD" > "$ROOT/.local/airflow_passwords.json"
  echo "Generated secrets in .local/secrets.env."
  echo "Airflow login (shown once; kept only in .local/): admin / $AIRFLOW_ADMIN_PASSWORD"
fi

# --- Superset (issue 5): added to an existing secrets.env too; each generated once, printed once.
add_secret() {  # name [label to print the value under]
  grep -q "^$1=" "$secrets" && return 0
  local value; value="$("$ROOT/.venv/airflow/bin/python" -c 'import secrets; print(secrets.token_urlsafe(32))')"
  echo "$1=$value" >> "$secrets"
  if [ -n "${2:-}" ]; then echo "$2$value  (shown once; kept only in .local/secrets.env)"; fi
}
add_secret SUPERSET_SECRET_KEY
add_secret SUPERSET_WAREHOUSE_PASSWORD
add_secret SUPERSET_ADMIN_PASSWORD "Superset login: admin / "
add_secret SUPERSET_CITY_USER_PASSWORD "Superset city and province users' password: "
