#!/usr/bin/env bash
# The closed loop's services beside Superset (issue 14), each in its own process group so that
# `make stop` ends them: the feedback form (uvicorn, FEEDBACK_PORT) and, unless SMS_GATEWAY_URL
# points elsewhere, the local stand-in SMS gateway (tests/sms_gateway.py, SMS_GATEWAY_PORT) whose
# log shows every text message sent, and, when nothing answers on SMTP_HOST:SMTP_PORT locally, a
# mail sink (aiosmtpd) that keeps every mail in the Maildir $SR_STATE_DIR/mail.
set -euo pipefail
mkdir -p "$SR_STATE_DIR/logs"
cd "$ROOT"  # python -m tests.sms_gateway
: "${SMS_GATEWAY_KEY:?SMS_GATEWAY_KEY is not set: run scripts/secrets.sh}"
: "${FEEDBACK_TOKEN_SECRET:?FEEDBACK_TOKEN_SECRET is not set: run scripts/secrets.sh}"

start() {  # name, then the command
  local name="$1"; shift
  local pidfile="$SR_STATE_DIR/$name.pgid" log="$SR_STATE_DIR/logs/$name.log"
  if [ -f "$pidfile" ] && kill -0 -- "-$(cat "$pidfile")" 2>/dev/null; then
    echo "$name already running (pgid $(cat "$pidfile"))."
    return 0
  fi
  setsid "$@" > "$log" 2>&1 < /dev/null &
  echo $! > "$pidfile"
  sleep 3
  if ! kill -0 -- "-$(cat "$pidfile")" 2>/dev/null; then
    echo "$name stopped at once; see $log" >&2
    tail -20 "$log" >&2
    exit 1
  fi
}

if [ "$SMS_GATEWAY_URL" = "http://127.0.0.1:$SMS_GATEWAY_PORT" ]; then
  start sms_gateway python -m tests.sms_gateway --host "$SMS_GATEWAY_HOST" --port "$SMS_GATEWAY_PORT" --log "$SR_STATE_DIR/sms_gateway.log"
  echo "SMS gateway stand-in: $SMS_GATEWAY_URL (every text sent: $SR_STATE_DIR/sms_gateway.log)"
fi
if [ "$SMTP_HOST" = "127.0.0.1" ] && ! (echo > "/dev/tcp/127.0.0.1/$SMTP_PORT") 2>/dev/null; then
  mkdir -p "$SR_STATE_DIR/mail/"{tmp,new,cur}  # a Maildir
  start mail_sink python -m aiosmtpd -n -l "127.0.0.1:$SMTP_PORT" -c aiosmtpd.handlers.Mailbox "$SR_STATE_DIR/mail"
  echo "Mail sink: 127.0.0.1:$SMTP_PORT, every mail in $SR_STATE_DIR/mail/new"
fi
start feedback_form uvicorn service_risk.closed_loop.feedback_app:app --host "$FEEDBACK_HOST" --port "$FEEDBACK_PORT"
echo "Feedback form: $FEEDBACK_BASE_URL/feedback/<token> (the links are in the texts and sheets)"
