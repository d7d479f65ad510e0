#!/usr/bin/env bash
# The Debian bookworm base image, made here because no image registry is reachable: debootstrap
# into a directory, packed into a tarball kept in .local/docker/cache (reruns reuse it), then
# `docker import`ed as service-risk/base:bookworm. Idempotent.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
DOCKER="${DOCKER:-/usr/bin/docker}"
IMAGE="${SR_BASE_IMAGE:-service-risk/base:bookworm}"
MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
cache="$ROOT/.local/docker/cache"
tarball="$cache/debian-bookworm-minbase.tar"
umask 077
mkdir -p "$cache"

if [ ! -s "$tarball" ]; then
  work="$(mktemp -d /var/tmp/sr-debootstrap.XXXXXX)"
  trap 'rm -rf "$work"' EXIT
  # minbase + what every role needs to start: Python 3.11 (bookworm's, as the venvs), TLS roots,
  # tini as PID 1 (the daemon's own init is not packaged here).
  debootstrap --variant=minbase --include=ca-certificates,python3,python3-venv,tini \
    bookworm "$work/rootfs" "$MIRROR" > "$work/debootstrap.log" 2>&1 \
    || { tail -30 "$work/debootstrap.log" >&2; exit 1; }
  cat > "$work/rootfs/etc/apt/sources.list" <<SOURCES
deb $MIRROR bookworm main
deb $MIRROR bookworm-updates main
deb ${MIRROR%/debian}/debian-security bookworm-security main
SOURCES
  # Images stay small: no package lists, caches or docs kept by later apt-get runs.
  cat > "$work/rootfs/etc/apt/apt.conf.d/90-service-risk" <<'APT'
APT::Install-Recommends "false";
APT::Install-Suggests "false";
APT
  rm -rf "$work/rootfs/var/lib/apt/lists/"* "$work/rootfs/var/cache/apt/archives/"*.deb
  tar -C "$work/rootfs" --numeric-owner -cf "$tarball.part" .
  mv "$tarball.part" "$tarball"
fi

if ! "$DOCKER" image inspect "$IMAGE" > /dev/null 2>&1; then
  "$DOCKER" import --change 'ENV LANG=C.UTF-8' --change 'CMD ["/bin/bash"]' "$tarball" "$IMAGE" > /dev/null
fi
echo "$IMAGE: $(du -h "$tarball" | cut -f1) tarball ($tarball)"
