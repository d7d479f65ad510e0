#!/usr/bin/env bash
# Generate this checkout's secrets once (0600, git-ignored); print new passwords once.
#   scripts/secrets.sh                 generate what is missing (make envs)
#   scripts/secrets.sh --rotate NAME   replace one secret, re-encrypt what it encrypts, and say
#                                      which services to restart (README "Security")
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
umask 077
mkdir -p "$ROOT/.local"
chmod 700 "$ROOT/.local"
secrets="$ROOT/.local/secrets.env"
py="$ROOT/.venv/airflow/bin/python"
gen() { "$py" -c 'import secrets; print(secrets.token_urlsafe(32))'; }
fernet() { "$py" -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'; }
if [ ! -f "$secrets" ]; then
  {
    echo "AIRFLOW_ADMIN_PASSWORD=$(gen)"
    echo "AIRFLOW__API_AUTH__JWT_SECRET=$(gen)"
    echo "AIRFLOW__API__SECRET_KEY=$(gen)"
    echo "AIRFLOW__CORE__FERNET_KEY=$(fernet)"
  } > "$secrets"
  # shellcheck disable=SC1090
  . "$secrets"
  printf '{"admin": "%s"}\n' "$AIRFLOW_ADMIN_PASSWORD" > "$ROOT/.local/airflow_passwords.json"
  echo "Generated secrets in .local/secrets.env."
  echo "Airflow login (shown once; kept only in .local/): admin / $AIRFLOW_ADMIN_PASSWORD"
fi

set_secret() {  # name value: replace its line, or add one
  "$py" - "$secrets" "$1" "$2" <<'EOF'
import sys
from pathlib import Path

path, name, value = Path(sys.argv[1]), sys.argv[2], sys.argv[3]
lines = [line for line in path.read_text().splitlines() if not line.startswith(f"{name}=")]
path.write_text("\n".join([*lines, f"{name}={value}"]) + "\n")
EOF
}

current() { grep "^$1=" "$secrets" | head -1 | cut -d= -f2- || true; }

if [ "${1:-}" = "--rotate" ]; then
  name="${2:?usage: scripts/secrets.sh --rotate NAME (a name in .local/secrets.env)}"
  old="$(current "$name")"
  [ -n "$old" ] || { echo "$name is not in $secrets" >&2; exit 1; }
  restart=""
  case "$name" in
    SUPERSET_SECRET_KEY)
      # It encrypts the database passwords in Superset's metadata: re-encrypt them with the new key.
      set_secret SUPERSET_PREVIOUS_SECRET_KEY "$old"
      set_secret "$name" "$(gen)"
      if ! (. "$ROOT/scripts/env.sh" && service-risk superset re-encrypt-secrets); then
        echo "re-encrypting failed: the old key stays in SUPERSET_PREVIOUS_SECRET_KEY; fix and re-run" >&2
        echo "  . scripts/env.sh && service-risk superset re-encrypt-secrets" >&2
        exit 1
      fi
      "$py" - "$secrets" <<'EOF'
import sys
from pathlib import Path

path = Path(sys.argv[1])
lines = path.read_text().splitlines()
path.write_text("\n".join(line for line in lines if not line.startswith("SUPERSET_PREVIOUS_SECRET_KEY=")) + "\n")
EOF
      restart="Superset (make stop && make superset-up); everyone signs in again" ;;
    AIRFLOW__CORE__FERNET_KEY)
      # Airflow decrypts with any key of the list and re-encrypts with the first.
      new="$(fernet)"
      set_secret "$name" "$new,$old"
      (. "$ROOT/scripts/env.sh" && airflow rotate-fernet-key)
      set_secret "$name" "$new"
      restart="Airflow (make stop && make airflow-up)" ;;
    AIRFLOW_ADMIN_PASSWORD)
      new="$(gen)"
      set_secret "$name" "$new"
      printf '{"admin": "%s"}\n' "$new" > "$ROOT/.local/airflow_passwords.json"
      restart="Airflow (make stop && make airflow-up); its new password is in .local/airflow_passwords.json" ;;
    AIRFLOW__API_AUTH__JWT_SECRET | AIRFLOW__API__SECRET_KEY)
      set_secret "$name" "$(gen)"
      restart="Airflow (make stop && make airflow-up); everyone signs in again" ;;
    SUPERSET_JWT_SECRET_KEY | SUPERSET_GUEST_TOKEN_JWT_SECRET | SUPERSET_ASYNC_QUERIES_JWT_SECRET)
      set_secret "$name" "$(gen)"
      restart="Superset (make stop && make superset-up)" ;;
    SUPERSET_ADMIN_PASSWORD)
      set_secret "$name" "$(gen)"
      restart="nothing: run make superset-setup (sets it in Superset); shown by: grep $name .local/secrets.env" ;;
    SUPERSET_WAREHOUSE_PASSWORD)
      set_secret "$name" "$(gen)"
      restart="nothing: run make superset-setup (sets the role's password), then make superset-up (Superset's copy)" ;;
    SR_LOADER_PASSWORD | SR_TRANSFORMER_PASSWORD | SR_CLOSED_LOOP_PASSWORD | SR_AIRFLOW_METADATA_PASSWORD)
      # service-risk init-db sets the roles' passwords to what secrets.env says.
      set_secret "$name" "$(gen)"
      (. "$ROOT/scripts/env.sh" && service-risk init-db >/dev/null)
      restart="Airflow (make stop && make airflow-up) and the feedback form (make closed-loop-up)" ;;
    SR_SUPERSET_METADATA_PASSWORD)
      set_secret "$name" "$(gen)"
      (. "$ROOT/scripts/env.sh" && service-risk superset prepare >/dev/null)
      restart="Superset (make stop && make superset-up)" ;;
    FEEDBACK_TOKEN_SECRET)
      set_secret "$name" "$(gen)"
      restart="the feedback form (make stop && make closed-loop-up) and the sender's next run; links already sent stop working" ;;
    SMS_GATEWAY_KEY)
      set_secret "$name" "$(gen)"
      restart="the stand-in gateway (make stop && make closed-loop-up); with a real gateway, put the key it issued instead" ;;
    *)
      echo "$name: no rotation known (Superset logins: service-risk superset password USER --rotate)" >&2
      exit 1 ;;
  esac
  echo "rotated $name in .local/secrets.env; restart: $restart"
  exit 0
fi

# --- Superset (issue 5): added to an existing secrets.env too; each generated once, printed once.
add_secret() {  # name [label to print the value under]
  grep -q "^$1=" "$secrets" && return 0
  local value; value="$(gen)"
  echo "$1=$value" >> "$secrets"
  if [ -n "${2:-}" ]; then echo "$2$value  (shown once; kept only in .local/secrets.env)"; fi
}
add_secret SUPERSET_SECRET_KEY
# Issue 13: each token its own key (superset_config.py refuses shared ones).
add_secret SUPERSET_JWT_SECRET_KEY
add_secret SUPERSET_GUEST_TOKEN_JWT_SECRET
add_secret SUPERSET_ASYNC_QUERIES_JWT_SECRET
add_secret SUPERSET_WAREHOUSE_PASSWORD
add_secret SUPERSET_ADMIN_PASSWORD "Superset login: admin / "
# Issue 13: one shared region password no more.
sed -i "/^SUPERSET_CITY_USER_PASSWORD=/d" "$secrets"
# Every other Superset login has its own password (service-risk superset password USER).

# --- The closed loop (issue 14): the SMS gateway's API key (the demo's stand-in gateway is given
# the same), and the key that signs the feedback form's links.
add_secret SMS_GATEWAY_KEY
add_secret FEEDBACK_TOKEN_SECRET

# --- Least privilege (issue 13): the warehouse roles' passwords (service-risk init-db sets them) and
# the salt of the personal-data hashes (init-db keeps it where only the transformer role reads it).
add_secret SR_LOADER_PASSWORD
add_secret SR_TRANSFORMER_PASSWORD
add_secret SR_CLOSED_LOOP_PASSWORD
add_secret SR_PII_HASH_SALT
# Airflow's and Superset's metadata databases, each through its own login (not the superuser).
add_secret SR_AIRFLOW_METADATA_PASSWORD
add_secret SR_SUPERSET_METADATA_PASSWORD
