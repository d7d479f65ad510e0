#!/usr/bin/env bash
# Superset's metadata, read-only warehouse role and admin (idempotent; no server needed).
# The asset bundle, roles, RLS filters and users are applied by scripts/superset_up.sh,
# since they go through the REST API of the running server.
set -euo pipefail
: "${SUPERSET_HOME:?source scripts/env.sh first}"
# Chinese labels in screenshots need a CJK font; Debian's chromium brings none.
if [ -z "$(fc-list :lang=zh 2>/dev/null)" ]; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-wqy-microhei > /dev/null
fi
mkdir -p "$SUPERSET_HOME" "$SR_STATE_DIR/logs"
log="$SR_STATE_DIR/logs/superset-setup.log"
# service-risk runs the migration step in .venv/superset itself (service_risk.bi.superset_metadata).
if ! service-risk superset prepare > "$log" 2>&1; then
  tail -30 "$log" >&2
  exit 1
fi
grep -E '^(created database|warehouse role|Superset metadata ready)' "$log" || true
