"""Notification: e-mail to the data engineers (SMTP settings from the environment)."""

from __future__ import annotations

import os
import smtplib
from email.message import EmailMessage
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from service_risk.quality.validation import GateOutcome


def recipients() -> list[str]:
    return [a.strip() for a in os.environ.get("DATA_ENGINEER_EMAILS", "").split(",") if a.strip()]


def send_alert(subject: str, body: str) -> list[str]:
    """Send one plain-text message to DATA_ENGINEER_EMAILS via SMTP_HOST:SMTP_PORT; the recipients."""
    to = recipients()
    if not to:
        raise RuntimeError("DATA_ENGINEER_EMAILS is empty: nobody would hear about the failure")
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = os.environ.get("SMTP_FROM", "service-risk@localhost")
    message["To"] = ", ".join(to)
    message.set_content(body)
    host, port = os.environ.get("SMTP_HOST", "127.0.0.1"), int(os.environ.get("SMTP_PORT", "25"))
    with smtplib.SMTP(host, port, timeout=30) as smtp:
        if os.environ.get("SMTP_STARTTLS", "").lower() in ("1", "true", "yes"):
            smtp.starttls()
        if os.environ.get("SMTP_USER"):
            smtp.login(os.environ["SMTP_USER"], os.environ.get("SMTP_PASSWORD", ""))
        smtp.send_message(message)
    return to


def announce_gate_failure(failed: list[GateOutcome], run_id: str) -> list[str]:
    """E-mail the blocking failures of a gate run to the data engineers; the recipients."""
    from service_risk.quality.publication import published_through
    from service_risk.quality.validation import data_docs_dir

    pointer = published_through()
    subject = (
        f"[service-risk] quality gate FAILED: {', '.join(o.suite for o in failed)} - "
        f"publication held at {pointer or 'nothing published yet'}"
    )
    body = "\n\n".join(
        [
            f"Run {run_id}: blocking Great Expectations failed; dashboards keep showing data up to {pointer}.",
            *(o.summary() for o in failed),
            f"Data Docs: file://{data_docs_dir().resolve()}/index.html",
            "History: select * from quality.validation_result where run_id = '" + run_id + "';",
        ]
    )
    return send_alert(subject, body)
