#!/usr/bin/env bash
# Keep the simulated source systems moving on the wall clock (service-risk simulate --live
# --wall-clock) in its own process group, so the demo is a province in operation; `make stop` ends it.
set -euo pipefail
pidfile="$SR_STATE_DIR/simulator.pgid"
log="$SR_STATE_DIR/logs/simulator-live.log"
mkdir -p "$SR_STATE_DIR/logs"
if [ -f "$pidfile" ] && kill -0 -- "-$(cat "$pidfile")" 2>/dev/null; then
  echo "Live simulator already running (pgid $(cat "$pidfile"))."
  exit 0
fi
setsid service-risk simulate --days 0 --live --wall-clock --tick-seconds "${SR_SIMULATOR_TICK_SECONDS:-10}" \
  > "$log" 2>&1 < /dev/null &
echo $! > "$pidfile"
sleep 2
if ! kill -0 -- "-$(cat "$pidfile")" 2>/dev/null; then
  echo "The live simulator stopped at once; see $log" >&2
  tail -20 "$log" >&2
  exit 1
fi
echo "Live simulator: the sources change on the wall clock (log: $log)"
