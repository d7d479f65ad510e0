"""Send the Monday lists (每周约谈清单, 省公司督办周报) at 08:00 Asia/Shanghai.

Each city company's leaders receive its weekly interview list (published.weekly_interview: the
episodes whose feedback was overdue in the week before, or that stayed red too long), and the
province's leaders the supervision summary of every city (published.city_supervision_weekly), by
e-mail with the list as a PDF, exactly once per list and recipient (the outbox ops.sheet_delivery,
service_risk.closed_loop.delivery). A run on another day sends the lists of the Monday before it;
trigger with `{"interview_on": "YYYY-MM-DD"}` for a given Monday's (what was sent is not sent again).
The week must be published (its Sunday through the gate): until it is, the run retries.
"""

from __future__ import annotations

import os
from datetime import timedelta

import pendulum
from airflow.sdk import CronTriggerTimetable, Param, dag, task

from service_risk.airflow_support import run_moment, task_defaults

LOCAL_TZ = "Asia/Shanghai"
WEEKLY_CRON = os.environ.get("SR_WEEKLY_LISTS_CRON", "0 8 * * 1")


# The Sunday's publication may still be running at 08:00: retry for about two hours, then mail.
@task(retries=8, retry_delay=task_defaults(retry_delay=timedelta(minutes=15))["retry_delay"])
def enqueue_lists(interview_on: str, dag_run=None) -> int:
    """Add the outbox rows of the Monday's lists; fail (and retry) while its week is not published."""
    from service_risk.closed_loop import weekly
    from service_risk.db import connect

    local_day = (
        pendulum.parse(interview_on).date()
        if interview_on
        else pendulum.instance(run_moment(dag_run)).in_timezone(LOCAL_TZ).date()
    )
    interview_on = local_day - timedelta(days=local_day.weekday())
    with connect("warehouse", duty="closed_loop") as conn:
        if not weekly.is_published(conn, interview_on):
            raise RuntimeError(f"the week before {interview_on} is not published yet")
        added = weekly.enqueue(conn, interview_on)
    print(f"lists of {interview_on}: {added} outbox rows added")
    return added


@task
def deliver_lists(added: int) -> str:
    from service_risk.closed_loop import delivery

    report = delivery.deliver(
        channels=("email",), wait_seconds=float(os.environ.get("SR_DELIVERY_WAIT_SECONDS", "900"))
    )
    print(report)
    return str(report)


@dag(
    dag_id="send_weekly_lists",
    schedule=CronTriggerTimetable(WEEKLY_CRON, timezone=LOCAL_TZ),
    start_date=pendulum.datetime(2026, 1, 1, tz=LOCAL_TZ),
    catchup=False,
    max_active_runs=1,
    default_args=task_defaults(retry_delay=timedelta(minutes=2)),
    params={
        "interview_on": Param(
            "", type="string", description="The lists of this Monday (YYYY-MM-DD); empty: this week's"
        )
    },
    tags=["closed-loop"],
    doc_md=__doc__,
)
def send_weekly_lists():
    deliver_lists(enqueue_lists("{{ params.interview_on }}"))


send_weekly_lists()
