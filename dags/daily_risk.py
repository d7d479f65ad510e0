"""Daily risk: build the dbt project (shared/spec/risk-model.md) for the day that just ended.

Runs at 00:30 Asia/Shanghai and whenever the extraction lands new data. Astronomer Cosmos'
watcher mode builds the models and seeds with one `dbt build` (dbt's threads, one parse) and renders
a task per dbt node, which settles from that build once it has ended: a node it did not build (an
error, a dropped connection) runs on its own in its task, retries there and mails. Then one task
runs the data and unit tests of the group; a failed test fails it for good at once. The incremental facts compute the days after the last one built (minus a
lookback for late updates) up to the day that just ended; on an empty warehouse that is every day
with data, so `airflow dags test daily_risk <date>` is the backfill. Trigger with
`{"risk_date_from": "YYYY-MM-DD"}` to recompute from a given day. The logic lives in dbt.

Build → gate → publish: after dbt, the Great Expectations gate validates the marts for the days dbt
built (expectations/marts.yml, service_risk.quality); only if every blocking expectation passed does
the `publication` task group build the published dbt models (the days into `published.*`, which the
dashboards read, and the dashboards' tables from them), then `record_publication` advances the pointer
quality.publication. A failure is recorded in quality.validation_result, e-mailed to the data engineers
and fails the run; dashboards keep the last good day. Any other task that fails for good (a dbt model,
say) e-mails them too.

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
    ExecutionMode,
    LoadMode,
    ProfileConfig,
    ProjectConfig,
    RenderConfig,
    TestBehavior,
)
from cosmos.constants import TestIndirectSelection

from service_risk.airflow_support import (
    DAILY_RISK_CRON,
    fail_dbt_tests_fast,
    run_moment,
    settle_dbt_nodes_from_build,
    task_defaults,
    wait_for_dbt_build,
)
from service_risk.assets import LANDING_ASSETS, PUBLISHED_RISK_SHEETS
from service_risk.dbt_manifest import DBT_PROJECT_DIR, ensure_manifest
from service_risk.quality.publication import PUBLISH_VARS

LOCAL_TZ = "Asia/Shanghai"
fail_dbt_tests_fast()
settle_dbt_nodes_from_build()
RISK_DATE_TO = "{{ day_that_just_ended(dag_run) }}"


def day_that_just_ended(dag_run) -> str:
    """The local (Asia/Shanghai) day before the moment the run stands for, as YYYY-MM-DD."""
    return pendulum.instance(run_moment(dag_run)).in_timezone(LOCAL_TZ).subtract(days=1).to_date_string()


# A failed gate is deterministic (same rows, same result): fails at once (enforce_gate); one quick
# retry for a dropped connection.
@task.short_circuit(retries=1, retry_delay=timedelta(seconds=10))
def validate_marts(run_id=None) -> dict | None:
    """Validate the days dbt built; their publication's dbt vars, or None (nothing built: skip)."""
    from service_risk.airflow_support import enforce_gate
    from service_risk.db import connect
    from service_risk.quality import publication, validation

    outcome = validation.validate_marts(run_id)
    if outcome is None:
        print("dbt built no risk day since the last publication: nothing to publish")
        return None
    enforce_gate([outcome], run_id)
    with connect("warehouse", duty="transformer") as conn:
        full_refresh = publication.facts_need_rebuild(conn)
    return {**publication.dbt_vars(outcome.days), "full_refresh": full_refresh}


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


# Emits the published risk sheets' asset: the closed loop's send_risk_sheets runs after each publication.
@task(retries=1, retry_delay=timedelta(seconds=10), outlets=[PUBLISHED_RISK_SHEETS])
def record_publication(window: dict, run_id=None, dag_run=None) -> str:
    """Advance the pointer once the published models hold the validated days."""
    import datetime as dt

    from service_risk.quality import publication

    days = publication.DayRange(
        dt.date.fromisoformat(window["publish_date_from"]), dt.date.fromisoformat(window["publish_date_to"])
    )
    through = publication.record_publication(days, run_id, dag_run.start_date)
    print(f"published {days}; pointer at {through}")
    return str(through)


def dbt_nodes(group_id: str, render: dict, **operator_args) -> DbtTaskGroup:
    """The dbt nodes `render` selects (RenderConfig select / exclude), built by one `dbt build` of
    the models and seeds with dbt's threads (Cosmos ExecutionMode.WATCHER), a task per node that
    settles from it (a node the build did not finish runs, and retries, on its own), then one task
    for their data and unit tests (`dbt test`: every task parses this DAG file, seconds of CPU that
    a task per node's tests would double)."""
    group = DbtTaskGroup(
        group_id=group_id,
        project_config=ProjectConfig(
            dbt_project_path=DBT_PROJECT_DIR, manifest_path=ensure_manifest(), install_dbt_deps=False
        ),
        profile_config=ProfileConfig(
            profile_name="service_risk",
            target_name="warehouse",
            profiles_yml_filepath=DBT_PROJECT_DIR / "profiles.yml",
        ),
        execution_config=ExecutionConfig(
            execution_mode=ExecutionMode.WATCHER,
            # Fails only if its process dies; Cosmos would skip a retry (and with it the group).
            setup_operator_args={"retries": 0},
            # The tests of the group's models, not those that wait for a model of the other group.
            test_indirect_selection=TestIndirectSelection.BUILDABLE,
        ),
        render_config=RenderConfig(
            load_method=LoadMode.DBT_MANIFEST, test_behavior=TestBehavior.AFTER_ALL, **render
        ),
        operator_args={"emit_datasets": False, **operator_args},
    )
    wait_for_dbt_build(group)
    return group


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
    risk_model = dbt_nodes(
        "risk_model",
        {"exclude": ["tag:publication"]},
        vars={
            "risk_date_to": RISK_DATE_TO,
            "risk_date_from": "{{ params.risk_date_from }}",
            "build_started_at": "{{ dag_run.start_date }}",
        },
    )
    window = validate_marts()
    published = dbt_nodes(
        "publication",
        {"select": ["tag:publication"]},
        vars={name: f"{{{{ ti.xcom_pull(task_ids='validate_marts')['{name}'] }}}}" for name in PUBLISH_VARS},
        full_refresh="{{ ti.xcom_pull(task_ids='validate_marts')['full_refresh'] }}",
    )
    has_work(RISK_DATE_TO, "{{ params.risk_date_from }}") >> risk_model >> window >> published
    published >> record_publication(window)


daily_risk()
