"""Send risk report sheets (风险报告单): after each publication, and hourly for retries.

Each new sheet of the published days goes to its station's 分管领导 and 部门负责人 by SMS (the
gateway's HTTP API) and e-mail (SMTP, the sheet as HTML and PDF), exactly once per sheet, recipient
and channel; each sheet whose feedback is overdue reminds the county company's 分管领导 once. The
outbox ops.sheet_delivery records every attempt; messages that fail after their retries, or whose
fate a crash left unknown, are e-mailed to the data engineers (service_risk.closed_loop.delivery).
"""

from __future__ import annotations

import os
from datetime import timedelta

import pendulum
from airflow.sdk import AssetOrTimeSchedule, CronTriggerTimetable, dag, task

from service_risk.airflow_support import task_defaults
from service_risk.assets import PUBLISHED_RISK_SHEETS

LOCAL_TZ = "Asia/Shanghai"
RETRY_CRON = os.environ.get("SR_SEND_SHEETS_CRON", "10 * * * *")


@task.short_circuit
def enqueue() -> dict | None:
    """Add the outbox rows of the published sheets; skip the run (green) before the first publication."""
    from service_risk.closed_loop import delivery
    from service_risk.db import connect

    with connect("warehouse", duty="closed_loop") as conn:
        if not delivery.sheets_are_published(conn):
            print("nothing published yet: no sheet to send")
            return None
        added = {"sheets": delivery.enqueue(conn), "reminders": delivery.enqueue_reminders(conn)}
    print(f"outbox rows added: {added}")
    return added


@task
def deliver(added: dict) -> str:
    from service_risk.closed_loop import delivery

    report = delivery.deliver(wait_seconds=float(os.environ.get("SR_DELIVERY_WAIT_SECONDS", "900")))
    print(report)
    return str(report)


@dag(
    dag_id="send_risk_sheets",
    schedule=AssetOrTimeSchedule(
        timetable=CronTriggerTimetable(RETRY_CRON, timezone=LOCAL_TZ), assets=PUBLISHED_RISK_SHEETS
    ),
    start_date=pendulum.datetime(2026, 1, 1, tz=LOCAL_TZ),
    catchup=False,
    max_active_runs=1,
    default_args=task_defaults(retry_delay=timedelta(minutes=2)),
    tags=["closed-loop"],
    doc_md=__doc__,
)
def send_risk_sheets():
    deliver(enqueue())


send_risk_sheets()
