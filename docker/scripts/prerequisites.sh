#!/usr/bin/env bash
# What the production path needs on the build host, from Debian's packages where missing: Docker 20.10
# (docker.io), docker-compose 1.29 (bookworm has no v2 plugin) and debootstrap (no image registry is
# reachable, so the base image is made from Debian's packages). Starts dockerd when it is not running.
set -euo pipefail
missing=()
[ -x /usr/sbin/dockerd ] || missing+=(docker.io)
[ -x /usr/bin/docker-compose ] || missing+=(docker-compose)
[ -x /usr/sbin/debootstrap ] || missing+=(debootstrap)
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" > /dev/null
fi

if ! /usr/bin/docker info > /dev/null 2>&1; then
  # No bridge and no iptables rules: every container runs with host networking on loopback ports,
  # so the daemon needs no network of its own and leaves the host's firewall as it is.
  mkdir -p /var/log
  setsid /usr/sbin/dockerd --bridge=none --iptables=false --ip-masq=false \
    > /var/log/service-risk-dockerd.log 2>&1 < /dev/null &
  for _ in $(seq 1 60); do
    /usr/bin/docker info > /dev/null 2>&1 && break
    sleep 1
  done
  /usr/bin/docker info > /dev/null 2>&1 || { tail -20 /var/log/service-risk-dockerd.log >&2; exit 1; }
  echo "dockerd started (log: /var/log/service-risk-dockerd.log)"
fi
