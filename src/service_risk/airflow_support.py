"""Glue between Airflow and the package: connections, task defaults, the failure e-mail."""

from __future__ import annotations

import os
from datetime import timedelta

from psycopg.conninfo import make_conninfo

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


class AnnouncedFailure(Exception):
    """The cause of a task failure whose e-mail was already sent (a failed quality gate, with its details)."""


def email_task_failure(context) -> None:
    """on_failure_callback: e-mail the data engineers that a task failed for good (after its retries)."""
    from service_risk.quality import alert

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
    alert.send_alert(subject, body)


def task_defaults(retry_delay: timedelta) -> dict:
    """default_args of the project's DAGs: retries (SR_TASK_RETRIES, default 2) and the failure e-mail."""
    return {
        "retries": int(os.environ.get("SR_TASK_RETRIES", "2")),
        "retry_delay": retry_delay,
        "on_failure_callback": email_task_failure,
    }
