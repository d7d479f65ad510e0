#!/usr/bin/env bash
# Create every virtual environment from the committed lock files (idempotent).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
UV_VERSION=0.13.9
PYTHON="${PYTHON:-python3.11}"
command -v "$PYTHON" >/dev/null || PYTHON=python3

if [ ! -x .venv/tools/bin/uv ] || [ "$(.venv/tools/bin/uv --version | cut -d' ' -f2)" != "$UV_VERSION" ]; then
  "$PYTHON" -m venv .venv/tools
  .venv/tools/bin/pip install --quiet "uv==$UV_VERSION"
fi
UV=.venv/tools/bin/uv

sync_env() {  # name lockfile
  local venv=".venv/$1" lock="requirements/$2"
  local stamp="$venv/.lock.sha256"
  local want; want="$(sha256sum "$lock" pyproject.toml | sha256sum | cut -d' ' -f1)"
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then return; fi
  [ -x "$venv/bin/python" ] || "$UV" venv --quiet --python "$PYTHON" "$venv"
  VIRTUAL_ENV="$venv" "$UV" pip sync --quiet "$lock"
  VIRTUAL_ENV="$venv" "$UV" pip install --quiet --no-deps -e .
  echo "$want" > "$stamp"
  echo "environment $venv ready"
}

sync_env airflow airflow.lock
sync_env superset superset.lock

# The libraries Data Docs load, from the npm registry, served from the site itself (issue 18).
scripts/data_docs_assets.sh

# Debian's chromium + driver for the Superset browser tests and report screenshots
# (no browser download works here).
# A CJK font: without one every Chinese label in a report e-mail, risk sheet PDF or screenshot that
# chromium renders on this machine is a row of empty boxes.
if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ] || [ -z "$(fc-list :lang=zh 2>/dev/null)" ]; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver fonts-noto-cjk
fi
