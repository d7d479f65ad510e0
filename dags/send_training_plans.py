"""Send the monthly targeted-training plans (滴灌式培训计划) on the 1st at 08:00 Asia/Shanghai.

Every station and county company with more than `training_red_days` red days in the month before
(published.training_plan) gets its plan by e-mail (the plan as a PDF, and the link to the completion
form) to its 分管领导, exactly once per plan and recipient (the outbox ops.sheet_delivery,
service_risk.closed_loop.training). A run on another day sends the plans of the 1st of its month;
trigger with `{"plan_on": "YYYY-MM-DD"}` for a given month's (what was sent is not sent again).
The month before must be published (its last day through the gate): the run waits for it (a sensor
that reschedules itself every SR_TRAINING_PLANS_POKE_SECONDS, 600 s) for up to four hours, then
fails and mails.
"""

from __future__ import annotations

import datetime as dt
import os

import pendulum
from airflow.sdk import CronTriggerTimetable, Param, PokeReturnValue, dag, task

from service_risk.airflow_support import run_moment, task_defaults

LOCAL_TZ = "Asia/Shanghai"
MONTHLY_CRON = os.environ.get("SR_TRAINING_PLANS_CRON", "0 8 1 * *")


@task.sensor(
    poke_interval=float(os.environ.get("SR_TRAINING_PLANS_POKE_SECONDS", "600")),
    timeout=4 * 3600,
    mode="reschedule",
)
def month_is_published(plan_on: str, dag_run=None) -> PokeReturnValue:
    from service_risk.closed_loop import documents, training
    from service_risk.db import connect

    local_day = (
        pendulum.parse(plan_on).date()
        if plan_on
        else pendulum.instance(run_moment(dag_run)).in_timezone(LOCAL_TZ).date()
    )
    first = training.plan_month(local_day)
    with connect("warehouse", duty="closed_loop") as conn:
        published = documents.is_published_before(conn, first)
    print(f"the month before {first} is {'published' if published else 'not published yet'}")
    return PokeReturnValue(is_done=published, xcom_value=str(first))


@task
def enqueue_plans(plan_on: str) -> int:
    """Add the outbox rows of the month's plans."""
    from service_risk.closed_loop import training
    from service_risk.db import connect

    with connect("warehouse", duty="closed_loop") as conn:
        added = training.enqueue(conn, dt.date.fromisoformat(plan_on))
    print(f"training plans of {plan_on}: {added} outbox rows added")
    return added


@task
def deliver_plans(added: int) -> str:
    from service_risk.closed_loop import delivery

    report = delivery.deliver(
        channels=("email",), wait_seconds=float(os.environ.get("SR_DELIVERY_WAIT_SECONDS", "900"))
    )
    print(report)
    return str(report)


@dag(
    dag_id="send_training_plans",
    schedule=CronTriggerTimetable(MONTHLY_CRON, timezone=LOCAL_TZ),
    start_date=pendulum.datetime(2026, 1, 1, tz=LOCAL_TZ),
    catchup=False,
    max_active_runs=1,
    default_args=task_defaults(retry_delay=dt.timedelta(minutes=2)),
    params={
        "plan_on": Param(
            "", type="string", description="The plans of this month (YYYY-MM-DD); empty: this month's"
        )
    },
    tags=["closed-loop"],
    doc_md=__doc__,
)
def send_training_plans():
    deliver_plans(enqueue_plans(month_is_published("{{ params.plan_on }}")))


send_training_plans()
