#!/usr/bin/env bash
# Build the stack's images from the local Debian base (docker/base/build_base.sh): postgres, redis,
# airflow, then superset on top of airflow. The context is a tar of the folders the images copy,
# without the checkout's virtual environments, secrets and build output, streamed to the daemon;
# --network host because only the package registries (Debian, PyPI, npm) answer.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
DOCKER="${DOCKER:-/usr/bin/docker}"
TAG="${SR_IMAGE_TAG:-latest}"
cd "$ROOT"
logs="$ROOT/.local/docker/logs"
mkdir -p "$logs"

# The certificate authorities this host trusts beyond Debian's (a company's TLS-inspecting proxy
# between the build and the registries): the images trust them too, or pip, uv and npm fail with
# "self-signed certificate in certificate chain". Public certificates, no keys.
ca_dir="${SR_EXTRA_CA_DIR:-/usr/local/share/ca-certificates}"
staged="$(mktemp -d)"
trap 'rm -rf "$staged"' EXIT
mkdir -p "$staged/ca-certificates"
find "$ca_dir" -maxdepth 1 -name '*.crt' -exec cp {} "$staged/ca-certificates/" \; 2>/dev/null || true

context() {
  tar -c --exclude='__pycache__' --exclude='*.egg-info' --exclude='dbt_project/target' \
    --exclude='dbt_project/dbt_packages' --exclude='dbt_project/logs' \
    requirements pyproject.toml src dags dbt_project expectations superset scripts \
    tests/__init__.py tests/sms_gateway.py docker -C "$staged" ca-certificates
}

build() {  # role
  local started=$SECONDS
  if ! context | "$DOCKER" build --force-rm --network host --file "docker/$1/Dockerfile" \
      --tag "service-risk/$1:$TAG" --build-arg "AIRFLOW_IMAGE=service-risk/airflow:$TAG" - \
      > "$logs/build-$1.log" 2>&1; then
    tail -40 "$logs/build-$1.log" >&2
    echo "building service-risk/$1 failed (log: $logs/build-$1.log)" >&2
    exit 1
  fi
  echo "service-risk/$1:$TAG built in $(( SECONDS - started )) s"
}

roles=("$@")
[ ${#roles[@]} -gt 0 ] || roles=(postgres redis airflow superset)
for role in "${roles[@]}"; do build "$role"; done
