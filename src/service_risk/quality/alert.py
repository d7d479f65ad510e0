"""E-mail to the data engineers when a blocking expectation fails (SMTP settings from the environment)."""

from __future__ import annotations

import os
import smtplib
from email.message import EmailMessage


def recipients() -> list[str]:
    return [a.strip() for a in os.environ.get("DATA_ENGINEER_EMAILS", "").split(",") if a.strip()]


def send_alert(subject: str, body: str) -> list[str]:
    """Send one plain-text message to DATA_ENGINEER_EMAILS via SMTP_HOST:SMTP_PORT; the recipients."""
    to = recipients()
    if not to:
        raise RuntimeError("DATA_ENGINEER_EMAILS is empty: nobody would hear about the failed gate")
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
