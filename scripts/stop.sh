#!/usr/bin/env bash
# Stop every service `make demo` started (each runs in its own process group).
set -uo pipefail
shopt -s nullglob
for pidfile in "$SR_STATE_DIR"/*.pgid; do
  pgid="$(cat "$pidfile")"
  if kill -TERM -- "-$pgid" 2>/dev/null; then
    for _ in $(seq 1 30); do kill -0 -- "-$pgid" 2>/dev/null || break; sleep 1; done
    kill -KILL -- "-$pgid" 2>/dev/null || true
    echo "stopped $(basename "$pidfile" .pgid)"
  fi
  rm -f "$pidfile"
done
