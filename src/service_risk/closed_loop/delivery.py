"""Risk report sheets to each station's 分管领导 and 部门负责人, exactly once per sheet, recipient and
channel (SMS through an SMS gateway's HTTP API, e-mail through SMTP).

The outbox `ops.sheet_delivery` holds one row per (sheet, recipient, channel); re-runs only add rows
that are missing. A row is marked `sending` and committed before the message leaves, and marked
`sent` after the gateway or SMTP accepted it. What a crash in between leaves is resolved on the next
run without a second message:

- SMS: every send carries a client message id derived from the row's key; the gateway de-duplicates
  on it, and its delivery-report query tells whether it already has the message. Resending after a
  500 or a timeout is therefore safe.
- E-mail: SMTP has no such id (the Message-ID is stable, but no server de-duplicates on it). A row
  found `sending` has an unknown fate: it is marked `unknown` and reported to the data engineers,
  never sent again on its own. A refusal the server answered (4xx/5xx) means it was not accepted,
  so it is retried.

The Monday lists (service_risk.closed_loop.weekly: each city's interview list, the province's
supervision summary) and the monthly training plans (service_risk.closed_loop.training) go through
the same outbox to their leaders, by e-mail.

Failures are retried with exponential backoff up to `SR_DELIVERY_MAX_ATTEMPTS`; then the row is
`failed` and the data engineers get one alert for all rows that need a person. One sender runs at a
time (an advisory lock held by its session; a killed sender's lock goes with its connection).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
import smtplib
import time
import uuid
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formatdate

import httpx
from psycopg.rows import dict_row

from service_risk.closed_loop import documents, tokens, training, weekly
from service_risk.closed_loop import sheet as sheets_module
from service_risk.db import connect
from service_risk.quality import notification

CHANNELS = ("sms", "email")
ROLES = ("leader_in_charge", "department_head")
MOBILE = re.compile(r"^1[3-9][0-9]{9}$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")
LOCK_KEY = 14_0001  # pg_advisory_lock key of the sender
# The documents mailed besides the sheets, by purpose: the module that composes each.
DOCUMENTS = {purpose: module for module in (weekly, training) for purpose in module.PURPOSES}


def client_message_id(sheet_id: str, staff_id: str, channel: str, purpose: str = "sheet") -> str:
    """Stable per outbox row, the same message always carries the same id (enqueue computes it in SQL)."""
    key = "|".join([sheet_id, staff_id, channel] + ([purpose] if purpose != "sheet" else []))
    return str(uuid.UUID(hashlib.md5(key.encode()).hexdigest()))


def max_attempts() -> int:
    return int(os.environ.get("SR_DELIVERY_MAX_ATTEMPTS", "5"))


def retry_base_seconds() -> float:
    return float(os.environ.get("SR_DELIVERY_RETRY_SECONDS", "60"))


class NotSent(Exception):
    """The gateway or SMTP server answered that it did not take the message (safe to retry)."""


class FateUnknown(Exception):
    """The message may or may not have been taken (e-mail: never retried on its own)."""


# --- SMS gateway ---------------------------------------------------------------------------------


class SmsGateway:
    """Client of the SMS gateway's HTTP API (SMS_GATEWAY_URL, SMS_GATEWAY_ACCOUNT, SMS_GATEWAY_KEY):

    POST {url}/v1/sms {"to", "text", "client_message_id"} -> 200 {"message_id", "duplicate"}
    GET  {url}/v1/sms/reports?client_message_id=...       -> 200 {"message_id", "status"} | 404
    with HTTP basic authentication; the gateway accepts a client message id once."""

    def __init__(
        self,
        url: str | None = None,
        account: str | None = None,
        key: str | None = None,
        timeout: float | None = None,
    ) -> None:
        self.url = (url or os.environ.get("SMS_GATEWAY_URL") or "").rstrip("/")
        account = account or os.environ.get("SMS_GATEWAY_ACCOUNT")
        key = key or os.environ.get("SMS_GATEWAY_KEY")
        if not (self.url and account and key):
            raise RuntimeError("SMS_GATEWAY_URL, SMS_GATEWAY_ACCOUNT and SMS_GATEWAY_KEY must be set")
        timeout = timeout or float(os.environ.get("SMS_GATEWAY_TIMEOUT_SECONDS", "10"))
        self.http = httpx.Client(auth=(account, key), timeout=timeout)

    def send(self, to: str, text: str, client_id: str) -> str:
        try:
            response = self.http.post(
                f"{self.url}/v1/sms", json={"to": to, "text": text, "client_message_id": client_id}
            )
        except httpx.HTTPError as exc:  # timeout, refused, reset: retry with the same id is safe
            raise NotSent(f"gateway unreachable: {exc!r}") from exc
        if response.status_code != 200:
            raise NotSent(f"gateway answered {response.status_code}: {response.text[:200]}")
        return response.json()["message_id"]

    def report(self, client_id: str) -> str | None:
        """The gateway's message id for a client id it has, or None."""
        response = self.http.get(f"{self.url}/v1/sms/reports", params={"client_message_id": client_id})
        if response.status_code == 404:
            return None
        response.raise_for_status()
        return response.json()["message_id"]


# --- E-mail -----------------------------------------------------------------------------------


def message_id(client_id: str) -> str:
    domain = os.environ.get("SMTP_FROM", "service-risk@service-risk.invalid").rpartition("@")[2]
    return f"<{client_id}@{domain}>"


def send_email(message: EmailMessage) -> None:
    """Hand one message to SMTP. Refusals before the server took the data are NotSent; a dropped
    connection or a timeout after the data went out is FateUnknown."""
    host, port = os.environ.get("SMTP_HOST", "127.0.0.1"), int(os.environ.get("SMTP_PORT", "25"))
    timeout = float(os.environ.get("SMTP_TIMEOUT_SECONDS", "30"))
    try:
        smtp = smtplib.SMTP(host, port, timeout=timeout)
    except OSError as exc:
        raise NotSent(f"SMTP unreachable: {exc!r}") from exc
    with smtp:
        try:
            if os.environ.get("SMTP_STARTTLS", "").lower() in ("1", "true", "yes"):
                smtp.starttls()
            if os.environ.get("SMTP_USER"):
                smtp.login(os.environ["SMTP_USER"], os.environ.get("SMTP_PASSWORD", ""))
        except (smtplib.SMTPException, OSError) as exc:
            raise NotSent(f"SMTP session refused: {exc!r}") from exc
        try:
            smtp.send_message(message)
        except (smtplib.SMTPRecipientsRefused, smtplib.SMTPSenderRefused, smtplib.SMTPDataError) as exc:
            raise NotSent(f"SMTP refused the message: {exc!r}") from exc  # an answered refusal
        except (smtplib.SMTPException, OSError) as exc:
            raise FateUnknown(f"SMTP connection lost while sending: {exc!r}") from exc


# --- Outbox -----------------------------------------------------------------------------------

SHEET_COLUMNS = (
    "sheet_id, episode_id, sheet_kind, sheet_kind_name_zh, risk_date, station_code, station_name, "
    "county_name, city_name, risk_code, risk_code_name_zh, risk_score, issued_at, feedback_due_at"
)


# A contact's current mobile and e-mail (staging masks them) and the address of each channel: the
# FROM-clause part both outbox queries join on `contacts`.
CONTACT_ADDRESS = """left join staging.stg_marketing__staff_notification_addresses as staff
            on staff.staff_id = contacts.staff_id"""


def sheets_are_published(conn) -> bool:
    """Whether a publication has built published.risk_sheet yet (the hourly run may come first)."""
    return conn.execute("select to_regclass('published.risk_sheet') is not null").fetchone()[0]


def enqueue(conn, date_from: dt.date | None = None, date_to: dt.date | None = None) -> int:
    """Add the missing outbox rows for the published sheets of [date_from, date_to] (all when None):
    each station's current contacts (marketing's unit_contact) on each channel, with their current
    mobile and e-mail from the landed staff rows. The number of rows added."""
    return conn.execute(
        f"""
        insert into ops.sheet_delivery
            (sheet_id, recipient_staff_id, channel, purpose, recipient_role, address, client_message_id)
        select
            sheets.sheet_id, contacts.staff_id, channels.channel, 'sheet', contacts.contact_role,
            coalesce(case channels.channel when 'sms' then staff.mobile else staff.email end, ''),
            md5(sheets.sheet_id || '|' || contacts.staff_id || '|' || channels.channel)::uuid::text
        from published.risk_sheet as sheets
        inner join staging.stg_marketing__unit_contacts as contacts on sheets.station_code = contacts.org_code
        {CONTACT_ADDRESS}
        cross join unnest(%(channels)s::text[]) as channels (channel)
        where sheets.risk_date between coalesce(%(date_from)s, '-infinity'::date)
                                   and coalesce(%(date_to)s, 'infinity'::date)
          and contacts.contact_role = any(%(roles)s)
        on conflict (sheet_id, recipient_staff_id, channel, purpose) do nothing
        """,
        {"channels": list(CHANNELS), "roles": list(ROLES), "date_from": date_from, "date_to": date_to},
    ).rowcount


def enqueue_reminders(conn, date_from: dt.date | None = None, date_to: dt.date | None = None) -> int:
    """One reminder per overdue sheet to the county company's 分管领导 (both channels): for each episode
    whose feedback was overdue at the end of a published day in [date_from, date_to]. Rows added."""
    return conn.execute(
        f"""
        insert into ops.sheet_delivery
            (sheet_id, recipient_staff_id, channel, purpose, recipient_role, address, client_message_id)
        select distinct on (sheets.sheet_id, contacts.staff_id, channels.channel)
            sheets.sheet_id, contacts.staff_id, channels.channel, 'reminder', contacts.contact_role,
            coalesce(case channels.channel when 'sms' then staff.mobile else staff.email end, ''),
            md5(sheets.sheet_id || '|' || contacts.staff_id || '|' || channels.channel || '|reminder')::uuid::text
        from published.station_episode_daily as days
        inner join published.risk_sheet as sheets
            on days.episode_id = sheets.episode_id and days.sheet_on = sheets.risk_date
        inner join staging.stg_marketing__unit_contacts as contacts
            on days.county_code = contacts.org_code and contacts.contact_role = 'leader_in_charge'
        {CONTACT_ADDRESS}
        cross join unnest(%(channels)s::text[]) as channels (channel)
        where days.is_feedback_overdue
          and days.risk_date between coalesce(%(date_from)s, '-infinity'::date)
                                 and coalesce(%(date_to)s, 'infinity'::date)
        on conflict (sheet_id, recipient_staff_id, channel, purpose) do nothing
        """,
        {"channels": list(CHANNELS), "date_from": date_from, "date_to": date_to},
    ).rowcount


@dataclass
class DeliveryReport:
    sent: int = 0
    retried: int = 0
    failed: list[str] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)
    recovered: int = 0
    alerted: int = 0

    def __str__(self) -> str:
        return (
            f"sent {self.sent}, retries {self.retried}, recovered after a crash {self.recovered}, "
            f"failed {len(self.failed)}, fate unknown {len(self.unknown)}, alerted {self.alerted}"
        )


def _sheets(conn, sheet_ids: set[str]) -> dict[str, dict]:
    rows = (
        conn.cursor(row_factory=dict_row)
        .execute(
            f"select {SHEET_COLUMNS} from published.risk_sheet where sheet_id = any(%s)", (list(sheet_ids),)
        )
        .fetchall()
    )
    return {row["sheet_id"]: row for row in rows}


def sms_text(sheet: dict, purpose: str = "sheet") -> str:
    due = sheet["feedback_due_at"].strftime("%m月%d日%H:%M")
    if purpose == "reminder":
        return (
            f"【服务风险预警】{sheet['county_name']}：{sheet['station_name']}{sheet['risk_date']:%m月%d日}"
            f"{sheet['risk_code_name_zh']}预警的跟踪反馈已逾期（时限{due}），请督促反馈："
            f"{tokens.feedback_url(sheet['episode_id'])}"
        )
    return (
        f"【服务风险预警】{sheet['station_name']}{sheet['risk_date']:%m月%d日}{sheet['sheet_kind_name_zh']}，"
        f"{sheet['risk_code_name_zh']}（R={sheet['risk_score']}）。请于{due}前反馈：{tokens.feedback_url(sheet['episode_id'])}"
    )


def compose_email(sheet: dict, row: dict) -> EmailMessage:
    """The sheet, its reminder or another document (DOCUMENTS) as an e-mail."""
    message = EmailMessage()
    message["From"] = os.environ.get("SMTP_FROM", "service-risk@service-risk.invalid")
    message["To"] = row["address"]
    message["Message-ID"] = message_id(row["client_message_id"])
    message["Date"] = formatdate(localtime=True)
    if row["purpose"] in DOCUMENTS:
        DOCUMENTS[row["purpose"]].fill_email(message, sheet)  # its own subject
        return message
    reminder = row["purpose"] == "reminder"
    message["Subject"] = (
        f"{'反馈逾期提醒' if reminder else '风险报告单'}｜{sheet['station_name']}｜{sheet['risk_code_name_zh']}"
        f"｜{sheet['risk_date']}"
    )
    if reminder:
        message.set_content(sms_text(sheet, "reminder"))
    else:
        sheets_module.fill_email(message, sheet)
    return message


def _due_rows(conn, channels: tuple[str, ...]) -> list[dict]:
    return (
        conn.cursor(row_factory=dict_row)
        .execute(
            "select sheet_id, recipient_staff_id, channel, purpose, address, client_message_id, attempts"
            " from ops.sheet_delivery where status = 'pending' and next_attempt_at <= now() and channel = any(%s)"
            " order by enqueued_at, sheet_id, recipient_staff_id, channel",
            (list(channels),),
        )
        .fetchall()
    )


def _key(row: dict) -> tuple[str, str, str, str]:
    return row["sheet_id"], row["recipient_staff_id"], row["channel"], row["purpose"]


def _record(conn, row: dict, status: str, outcome: str, detail: str | None = None, **columns) -> None:
    assignments = ", ".join(f"{name} = %({name})s" for name in columns)
    conn.execute(
        f"update ops.sheet_delivery set status = %(status)s{', ' + assignments if assignments else ''}"
        " where sheet_id = %(sheet_id)s and recipient_staff_id = %(staff_id)s and channel = %(channel)s"
        " and purpose = %(purpose)s",
        {
            "status": status,
            "sheet_id": row["sheet_id"],
            "staff_id": row["recipient_staff_id"],
            "channel": row["channel"],
            "purpose": row["purpose"],
            **columns,
        },
    )
    conn.execute(
        "insert into ops.sheet_delivery_attempt (sheet_id, recipient_staff_id, channel, purpose, outcome, detail)"
        " values (%s, %s, %s, %s, %s, %s)",
        (*_key(row), outcome, detail),
    )
    conn.commit()


def _recover(conn, gateway: SmsGateway | None, report: DeliveryReport) -> None:
    """Rows a crashed sender left `sending`: ask the gateway (SMS), or report the fate unknown (e-mail)."""
    sending = (
        conn.cursor(row_factory=dict_row)
        .execute(
            "select sheet_id, recipient_staff_id, channel, purpose, address, client_message_id, attempts"
            " from ops.sheet_delivery where status = 'sending'"
        )
        .fetchall()
    )
    for row in sending:
        report.recovered += 1
        if row["channel"] == "email":
            _record(
                conn,
                row,
                "unknown",
                "unknown",
                "sender stopped between handing the mail to SMTP and recording",
            )
            report.unknown.append(f"{'/'.join(_key(row))}: sender stopped before recording")
            continue
        if gateway is None:
            continue
        found = gateway.report(row["client_message_id"])
        if found:
            _record(
                conn,
                row,
                "sent",
                "sent",
                "found by the delivery report",
                gateway_message_id=found,
                sent_at=dt.datetime.now(dt.UTC),
            )
        else:
            _record(conn, row, "pending", "not_at_gateway", "not at the gateway: will be sent")


def _try(conn, row: dict, sheet: dict, gateway: SmsGateway | None, report: DeliveryReport) -> None:
    if not (MOBILE if row["channel"] == "sms" else EMAIL).match(row["address"] or ""):
        _record(
            conn, row, "failed", "failed", f"no valid address ({row['channel']})", last_error="no address"
        )
        report.failed.append(f"{'/'.join(_key(row))}: no valid address")
        return
    # composed (the sheet rendered) before the row is marked: a failure here sends nothing
    message = sms_text(sheet, row["purpose"]) if row["channel"] == "sms" else compose_email(sheet, row)
    conn.execute(
        "update ops.sheet_delivery set status = 'sending', attempts = attempts + 1"
        " where sheet_id = %s and recipient_staff_id = %s and channel = %s and purpose = %s",
        _key(row),
    )
    conn.commit()  # from here a crash leaves the row `sending`
    attempts = row["attempts"] + 1
    try:
        if row["channel"] == "sms":
            gateway_id = gateway.send(row["address"], message, row["client_message_id"])
        else:
            send_email(message)
            gateway_id = None
    except NotSent as exc:
        found = row["channel"] == "sms" and attempts >= max_attempts() and _at_gateway(gateway, row)
        if found:  # an answer was lost, the message was not
            _record(
                conn,
                row,
                "sent",
                "sent",
                "found by the delivery report after failed answers",
                gateway_message_id=found,
                sent_at=dt.datetime.now(dt.UTC),
            )
            report.sent += 1
        elif attempts >= max_attempts():
            _record(conn, row, "failed", "failed", str(exc), last_error=str(exc))
            report.failed.append(f"{'/'.join(_key(row))}: {exc}")
        else:
            delay = retry_base_seconds() * 2 ** (attempts - 1)
            _record(
                conn,
                row,
                "pending",
                "retry",
                str(exc),
                last_error=str(exc),
                next_attempt_at=dt.datetime.now(dt.UTC) + dt.timedelta(seconds=delay),
            )
            report.retried += 1
        return
    except FateUnknown as exc:
        _record(conn, row, "unknown", "unknown", str(exc), last_error=str(exc))
        report.unknown.append(f"{'/'.join(_key(row))}: {exc}")
        return
    _record(conn, row, "sent", "sent", None, gateway_message_id=gateway_id, sent_at=dt.datetime.now(dt.UTC))
    report.sent += 1


def _at_gateway(gateway: SmsGateway, row: dict) -> str | None:
    try:
        return gateway.report(row["client_message_id"])
    except httpx.HTTPError:
        return None


def _alert(conn, report: DeliveryReport) -> None:
    """One e-mail to the data engineers for every row that needs a person and has not been reported."""
    rows = conn.execute(
        "select sheet_id, recipient_staff_id, channel, status, attempts, coalesce(last_error, '')"
        " from ops.sheet_delivery where status in ('failed', 'unknown') and alerted_at is null"
        " order by sheet_id, recipient_staff_id, channel"
    ).fetchall()
    if not rows:
        return
    lines = [
        f"{sheet} → {staff} ({channel}): {status} after {attempts} attempt(s) {error}"
        for sheet, staff, channel, status, attempts, error in rows
    ]
    notification.send_alert(
        f"[service-risk] {len(rows)} risk report sheet message(s) need a person",
        "A failed message was not delivered after its retries; an unknown one may or may not have reached\n"
        "the recipient (the sender stopped between handing it over and recording it) and is NOT resent\n"
        "automatically: check the mail server's log for its Message-ID, then set its status in\n"
        "ops.sheet_delivery to 'pending' to send it, or 'sent'.\n\n" + "\n".join(lines),
    )
    conn.execute(
        "update ops.sheet_delivery set alerted_at = now() where status in ('failed', 'unknown') and alerted_at is null"
    )
    conn.commit()
    report.alerted += len(rows)


def deliver(
    gateway: SmsGateway | None = None,
    channels: tuple[str, ...] = CHANNELS,
    wait_seconds: float | None = None,
) -> DeliveryReport:
    """Send every due outbox row once; wait for retries due within `wait_seconds` (default: until
    nothing is pending); alert the data engineers about what needs a person."""
    report = DeliveryReport()
    if "sms" in channels and gateway is None:
        gateway = SmsGateway()
    deadline = time.monotonic() + (wait_seconds if wait_seconds is not None else 10 * 86400)
    with connect("warehouse", duty="closed_loop") as conn:
        conn.execute("select pg_advisory_lock(%s)", (LOCK_KEY,))
        conn.commit()
        _recover(conn, gateway, report)
        while True:
            rows = _due_rows(conn, channels)
            if rows:
                lists = {row["sheet_id"] for row in rows if row["purpose"] in DOCUMENTS}
                sheets = {
                    **_sheets(conn, {row["sheet_id"] for row in rows} - lists),
                    **documents.headings(conn, lists),
                }
                for row in rows:
                    _try(conn, row, sheets[row["sheet_id"]], gateway, report)
                continue
            following = conn.execute(
                "select extract(epoch from min(next_attempt_at) - now()) from ops.sheet_delivery"
                " where status = 'pending' and channel = any(%s)",
                (list(channels),),
            ).fetchone()[0]
            conn.commit()
            if following is None or time.monotonic() + float(following) > deadline:
                break
            time.sleep(max(float(following), 0.05))
        _alert(conn, report)
    sheets_module.close_printer()
    return report
