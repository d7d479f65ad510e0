"""Glue between Airflow and the package: connections, task defaults, the failure e-mail."""

from __future__ import annotations

import os
from datetime import datetime, timedelta

from psycopg.conninfo import make_conninfo

# When the DAGs run (Asia/Shanghai). Configurable so that a test can live through days in minutes.
EXTRACT_CRON = os.environ.get("SR_EXTRACT_CRON", "*/15 * * * *")
DAILY_RISK_CRON = os.environ.get("SR_DAILY_RISK_CRON", "30 0 * * *")

# Airflow connection id per project database (set as AIRFLOW_CONN_* by scripts/env.sh).
CONNECTION_IDS = {
    "marketing": "sr_src_marketing",
    "appeals": "sr_src_appeals",
    "command": "sr_src_command",
    "warehouse": "sr_warehouse",
}


def dsn_from_connection(logical_name: str) -> str:
    from airflow.sdk import Connection

    conn = Connection.get(CONNECTION_IDS[logical_name])
    params = {"host": conn.host, "port": conn.port, "user": conn.login, "dbname": conn.schema}
    if conn.password:
        params["password"] = conn.password
    return make_conninfo(**{k: v for k, v in params.items() if v not in (None, "")})


def run_moment(dag_run) -> datetime:
    """The moment a run stands for: its logical date (cron, `dags test`), else when it was due.

    Asset-triggered runs, and runs triggered without a date, have no logical date in Airflow 3;
    run_after is set for every kind of run."""
    return dag_run.logical_date or dag_run.run_after


class AnnouncedFailure(Exception):
    """The cause of a task failure whose e-mail was already sent (a failed quality gate, with its details)."""


def email_task_failure(context) -> None:
    """on_failure_callback: e-mail the data engineers that a task failed for good (after its retries)."""
    from service_risk.quality import notification

    error, ti = context.get("exception"), context["ti"]
    if isinstance(getattr(error, "__cause__", None), AnnouncedFailure):  # raised `from AnnouncedFailure()`
        return
    subject = f"[service-risk] task FAILED: {ti.dag_id}.{ti.task_id} ({ti.run_id})"
    body = "\n\n".join(
        [
            f"Task {ti.task_id} of {ti.dag_id} failed after {ti.try_number} tries in run {ti.run_id}.",
            f"Error: {type(error).__name__ if error else 'unknown'}: {str(error)[:2000]}",
            "Publication does not advance in a run with a failed task: dashboards keep the last good day.",
            f"Log: {getattr(ti, 'log_url', None) or 'the task log in the Airflow UI'}",
        ]
    )
    notification.send_alert(subject, body)


def enforce_gate(outcomes: list, run_id: str) -> None:
    """What every gate task does with its (validated, recorded) outcomes: print them; on a blocking
    failure e-mail the data engineers once and fail the task for good (a retry would validate the
    same rows)."""
    from airflow.sdk.exceptions import AirflowFailException

    from service_risk.quality import notification

    for outcome in outcomes:
        print(outcome.summary())
    if failed := [outcome for outcome in outcomes if not outcome.passed]:
        notification.announce_gate_failure(failed, run_id)
        raise AirflowFailException(
            f"blocking expectations failed: {', '.join(f'{o.suite} [{o.batch}]' for o in failed)}; "
            "publication does not advance"
        ) from AnnouncedFailure()


def fail_dbt_tests_fast() -> None:
    """Make a Cosmos dbt task whose data or unit tests failed fail for good at once.

    Cosmos raises the same error for every failed node, so Airflow retried failed tests too, although
    they check the same rows again; a model's error (a dropped connection, say) is still retried.
    Cosmos has no option for this, so its one exception handler for dbtRunner results is wrapped."""
    from airflow.sdk.exceptions import AirflowFailException
    from cosmos.dbt import runner

    original = runner.handle_exception_if_needed
    if getattr(original, "fails_tests_fast", False):
        return

    def handle_exception_if_needed(result) -> None:
        results = getattr(result.result, "results", None) or []
        failed = [run.node.name for run in results if str(run.status) == "fail"]
        if not result.success and failed:
            raise AirflowFailException(
                f"dbt tests failed (a retry would test the same rows): {', '.join(failed)}"
            )
        original(result)

    handle_exception_if_needed.fails_tests_fast = True
    runner.handle_exception_if_needed = handle_exception_if_needed


def settle_dbt_nodes_from_build() -> None:
    """Make the tasks of a Cosmos watcher group (ExecutionMode.WATCHER) settle each dbt node from the
    group's one `dbt build`, which has ended when they start (`wait_for_dbt_build`).

    The build task succeeds when dbt ran, whatever dbt's verdict: the nodes' tasks give it. A node
    the build ran successfully is done; any other (failed, skipped after an upstream failure, not
    run) runs on its own at once, as ExecutionMode.LOCAL would, so its task's log says why, a model
    retries there and mails when it fails for good, and a failed data test fails for good at once
    (`fail_dbt_tests_fast`). Cosmos' sensors instead wait on a build still to run (a deadlock in
    `airflow dags test`, which runs one task at a time), wait a retry delay before a node's own run,
    and fail the build task, which stops what follows the group although the nodes recovered; it
    has no option for any of it, so the two methods are wrapped."""
    from airflow.sdk.exceptions import AirflowFailException, AirflowSkipException
    from cosmos.operators._watcher.base import BaseConsumerSensor
    from cosmos.operators._watcher.state import is_dbt_node_status_success
    from cosmos.operators.watcher import DbtProducerWatcherOperator

    if getattr(BaseConsumerSensor.poke, "settles_from_build", False):
        return
    build_execute = DbtProducerWatcherOperator.execute

    def execute(self, context, **kwargs):
        try:
            return build_execute(self, context, **kwargs)
        except AirflowSkipException:
            raise
        except Exception as error:
            self.log.warning("dbt build ended with failures, its nodes' tasks run them: %s", error)
            return None

    def poke(self, context) -> bool:
        ti = context["ti"]
        build = self._get_producer_task_status(context)
        if build != "success":
            raise AirflowFailException(f"the dbt build {self.producer_task_id} did not run ({build})")
        if ti.try_number == 1 and is_dbt_node_status_success(self._get_node_status(ti, context)):
            return True
        return self._fallback_to_non_watcher_run(ti.try_number, context)

    poke.settles_from_build = True
    DbtProducerWatcherOperator.execute = execute
    BaseConsumerSensor.poke = poke


def wait_for_dbt_build(group) -> None:
    """In a Cosmos watcher task group, start the nodes' tasks once the group's `dbt build` (its
    producer task) has ended: they settle from it (`settle_dbt_nodes_from_build`), and on two cores
    they would only slow it down."""
    from cosmos.constants import PRODUCER_WATCHER_TASK_ID

    build = group.tasks_map[PRODUCER_WATCHER_TASK_ID]
    for node_task in group.roots:
        if node_task is not build:
            build >> node_task


def preload_task_libraries() -> None:
    """Import what every dbt task imports, once, in each Airflow process (airflow_local_settings).

    The scheduler's LocalExecutor forks its workers, and each worker forks a process per task: what
    the scheduler has imported, a task starts with. Cosmos' dbt operators and dbt itself otherwise
    cost every dbt task about 2.5 s of CPU to import, some 90 times per daily_risk build."""
    import cosmos.operators.local  # noqa: F401
    import dbt.adapters.postgres
    import dbt.cli.main  # noqa: F401


def task_defaults(retry_delay: timedelta) -> dict:
    """default_args of the project's DAGs: retries (SR_TASK_RETRIES, default 2; after `retry_delay`,
    or SR_TASK_RETRY_DELAY_SECONDS) and the failure e-mail."""
    delay = os.environ.get("SR_TASK_RETRY_DELAY_SECONDS")
    return {
        "retries": int(os.environ.get("SR_TASK_RETRIES", "2")),
        "retry_delay": timedelta(seconds=float(delay)) if delay else retry_delay,
        "on_failure_callback": email_task_failure,
    }
