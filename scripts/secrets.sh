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
