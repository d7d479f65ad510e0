"""Daily risk: build the dbt project (shared/spec/risk-model.md) for the day that just ended.

Runs at 00:30 Asia/Shanghai and whenever the extraction lands new data. Astronomer Cosmos renders
one task per dbt node (seeds, models with their data and unit tests via `dbt build`), so a failed
model retries on its own. The incremental facts compute the days after the last one built (minus a
lookback for late updates) up to the day that just ended; on an empty warehouse that is every day
with data, so `airflow dags test daily_risk <date>` is the backfill. Trigger with
`{"risk_date_from": "YYYY-MM-DD"}` to recompute from a given day. The logic lives in dbt.

After dbt, the Great Expectations gate validates the marts for the days built (expectations/marts.yml,
service_risk.quality); only if every blocking expectation passed does `publish` copy those days into
the `published.*` tables the dashboards read and advance the pointer quality.publication. A failure is
recorded in quality.validation_result, e-mailed to the data engineers and fails the run; dashboards
keep the last good day. Any other task that fails for good (a dbt model, say) e-mails them too.

The dbt graph is read from a manifest written by `dbt parse` (no database connection) the first
time the DAG file is parsed after a change to the project; later parses only read it.
"""

from __future__ import annotations

from datetime import timedelta

import pendulum
from airflow.sdk import AssetAny, AssetOrTimeSchedule, CronTriggerTimetable, Param, dag, task
from cosmos import (
    DbtTaskGroup,
    ExecutionConfig,
    LoadMode,
    ProfileConfig,
    ProjectConfig,
    RenderConfig,
    TestBehavior,
)

from service_risk.airflow_support import DAILY_RISK_CRON, fail_dbt_tests_fast, run_moment, task_defaults
from service_risk.assets import LANDING_ASSETS
from service_risk.dbt_manifest import DBT_PROJECT_DIR, ensure_manifest

LOCAL_TZ = "Asia/Shanghai"
fail_dbt_tests_fast()
RISK_DATE_TO = "{{ day_that_just_ended(dag_run) }}"


def day_that_just_ended(dag_run) -> str:
    """The local (Asia/Shanghai) day before the moment the run stands for, as YYYY-MM-DD."""
    return pendulum.instance(run_moment(dag_run)).in_timezone(LOCAL_TZ).subtract(days=1).to_date_string()


# A failed gate is deterministic (same rows, same result): one quick retry at most.
@task(retries=1, retry_delay=timedelta(seconds=10))
def validate_marts(risk_date_to: str, risk_date_from: str = "", run_id=None) -> dict:
    from airflow.sdk.exceptions import AirflowFailException

    from service_risk.airflow_support import AnnouncedFailure
    from service_risk.quality import gate

    outcome = gate.validate_marts(risk_date_to, run_id, risk_date_from or None)
    print(outcome.summary())
    if not outcome.passed:
        gate.announce_failure([outcome], run_id)
        raise AirflowFailException(
            f"blocking expectations failed; publication stays at {gate.published_through()}"
        ) from AnnouncedFailure()
    return {"date_from": str(outcome.date_from), "date_to": str(outcome.date_to)}


@task.short_circuit
def has_work(risk_date_to: str, risk_date_from: str = "") -> bool:
    """Skip the build (the run stays green) when nothing complete has landed yet, or nothing landed
    since the last publication and no new day is due."""
    import datetime as dt

    from service_risk.landing_state import reason_to_build

    reason = reason_to_build(
        dt.date.fromisoformat(risk_date_to), dt.date.fromisoformat(risk_date_from) if risk_date_from else None
    )
    print(f"building: {reason}" if reason else "nothing to build: no complete extraction, or nothing new")
    return reason is not None


@task(retries=1, retry_delay=timedelta(seconds=10))
def publish(window: dict, run_id=None, dag_run=None) -> str:
    from service_risk.quality import gate

    through = gate.publish(window["date_from"], window["date_to"], run_id, dag_run.start_date)
    print(f"published {window['date_from']}..{window['date_to']}; pointer at {through}")
    return str(through)


@dag(
    dag_id="daily_risk",
    schedule=AssetOrTimeSchedule(
        timetable=CronTriggerTimetable(DAILY_RISK_CRON, timezone=LOCAL_TZ),
        assets=AssetAny(*LANDING_ASSETS),
    ),
    start_date=pendulum.datetime(2026, 1, 1, tz=LOCAL_TZ),
    catchup=False,
    max_active_runs=1,
    default_args=task_defaults(retry_delay=timedelta(minutes=2)),
    params={
        "risk_date_from": Param(
            "", type="string", description="Recompute from this day (YYYY-MM-DD); empty: incremental"
        ),
    },
    user_defined_macros={"day_that_just_ended": day_that_just_ended},
    tags=["dbt", "risk"],
    doc_md=__doc__,
)
def daily_risk():
    risk_model = DbtTaskGroup(
        group_id="risk_model",
        project_config=ProjectConfig(
            dbt_project_path=DBT_PROJECT_DIR,
            manifest_path=ensure_manifest(),
            install_dbt_deps=False,
        ),
        profile_config=ProfileConfig(
            profile_name="service_risk",
            target_name="warehouse",
            profiles_yml_filepath=DBT_PROJECT_DIR / "profiles.yml",
        ),
        execution_config=ExecutionConfig(),
        render_config=RenderConfig(load_method=LoadMode.DBT_MANIFEST, test_behavior=TestBehavior.BUILD),
        operator_args={
            "emit_datasets": False,
            # A node's build runs the tests whose other parents are upstream of it, not those that
            # wait for a model downstream.
            "dbt_cmd_flags": ["--indirect-selection", "buildable"],
            "vars": {
                "risk_date_to": RISK_DATE_TO,
                "risk_date_from": "{{ params.risk_date_from }}",
            },
        },
    )
    checked = validate_marts(RISK_DATE_TO, "{{ params.risk_date_from }}")
    has_work(RISK_DATE_TO, "{{ params.risk_date_from }}") >> risk_model >> checked
    publish(checked)


daily_risk()
