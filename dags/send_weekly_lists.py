"""Send the Monday lists (每周约谈清单, 省公司督办周报) at 08:00 Asia/Shanghai.

Each city company's leaders receive its weekly interview list (published.weekly_interview: the
episodes whose feedback was overdue in the week before, or that stayed red too long), and the
province's leaders the supervision summary of every city (published.city_supervision_weekly), by
e-mail with the list as a PDF, exactly once per list and recipient (the outbox ops.sheet_delivery,
service_risk.closed_loop.delivery). A run on another day sends the lists of the Monday before it;
trigger with `{"interview_on": "YYYY-MM-DD"}` for a given Monday's (what was sent is not sent again).
The week must be published (its Sunday through the gate): the run waits for it (a sensor that
reschedules itself every SR_WEEKLY_LISTS_POKE_SECONDS, 600 s) for up to four hours, then fails and mails.
"""

from __future__ import annotations

import datetime as dt
import os

import pendulum
from airflow.sdk import CronTriggerTimetable, Param, PokeReturnValue, dag, task

from service_risk.airflow_support import run_moment, task_defaults

LOCAL_TZ = "Asia/Shanghai"
WEEKLY_CRON = os.environ.get("SR_WEEKLY_LISTS_CRON", "0 8 * * 1")


def monday_of(interview_on: str, dag_run) -> dt.date:
    """The Monday whose lists a run sends: the given day's, else that of the moment the run stands for."""
    local_day = (
        pendulum.parse(interview_on).date()
        if interview_on
        else pendulum.instance(run_moment(dag_run)).in_timezone(LOCAL_TZ).date()
    )
    return local_day - dt.timedelta(days=local_day.weekday())


# The Sunday's publication may still run at 08:00 (or, on a new install, the first backfill): wait for
# it without holding a worker slot, for up to four hours, then fail and mail.
@task.sensor(
    poke_interval=float(os.environ.get("SR_WEEKLY_LISTS_POKE_SECONDS", "600")),
    timeout=4 * 3600,
    mode="reschedule",
)
def week_is_published(interview_on: str, dag_run=None) -> PokeReturnValue:
    from service_risk.closed_loop import documents
    from service_risk.db import connect

    monday = monday_of(interview_on, dag_run)
    with connect("warehouse", duty="closed_loop") as conn:
        published = documents.is_published_before(conn, monday)
    print(f"the week before {monday} is {'published' if published else 'not published yet'}")
    return PokeReturnValue(is_done=published, xcom_value=str(monday))


@task
def enqueue_lists(monday: str) -> int:
    """Add the outbox rows of the Monday's lists."""
    from service_risk.closed_loop import weekly
    from service_risk.db import connect

    with connect("warehouse", duty="closed_loop") as conn:
        added = weekly.enqueue(conn, dt.date.fromisoformat(monday))
    print(f"lists of {monday}: {added} outbox rows added")
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
    default_args=task_defaults(retry_delay=dt.timedelta(minutes=2)),
    params={
        "interview_on": Param(
            "", type="string", description="The lists of this Monday (YYYY-MM-DD); empty: this week's"
        )
    },
    tags=["closed-loop"],
    doc_md=__doc__,
)
def send_weekly_lists():
    deliver_lists(enqueue_lists(week_is_published("{{ params.interview_on }}")))


send_weekly_lists()
