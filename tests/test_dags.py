"""DAG integrity: every DAG file imports, does no I/O at import time, retries and mails its failures."""

from __future__ import annotations

import socket

import psycopg
import pytest
from airflow.dag_processing.dagbag import DagBag

from tests.conftest import ROOT


@pytest.fixture(scope="module")
def dag_bag() -> DagBag:
    def refuse(*args, **kwargs):
        raise AssertionError("a DAG file opened a connection while being parsed")

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(socket.socket, "connect", refuse)
        patch.setattr(psycopg, "connect", refuse)
        return DagBag(dag_folder=ROOT / "dags")


def test_every_dag_imports_without_io(dag_bag):
    assert dag_bag.import_errors == {}
    assert {"extract_sources"} <= set(dag_bag.dag_ids)


def test_every_task_retries_and_mails_its_final_failure(dag_bag):
    """Except a dbt build (Cosmos watcher producer), which Cosmos would skip on retry: the tasks of
    its nodes retry them."""
    from cosmos.operators.watcher import DbtProducerWatcherOperator

    from service_risk.airflow_support import email_task_failure

    for dag in dag_bag.dags.values():
        for task in dag.tasks:
            if isinstance(task, DbtProducerWatcherOperator):
                assert task.downstream_list, f"{task.task_id}: no task settles its nodes"
            else:
                assert task.retries >= 1, f"{dag.dag_id}.{task.task_id} has no retries"
            callbacks = task.on_failure_callback
            callbacks = callbacks if isinstance(callbacks, list) else [callbacks]
            assert email_task_failure in callbacks, f"{dag.dag_id}.{task.task_id} fails silently"


def test_extraction_has_a_task_and_an_asset_per_source_table(dag_bag):
    from service_risk.sources import SOURCE_TABLES

    dag = dag_bag.dags["extract_sources"]
    assert dag.max_active_runs == 1
    assert not dag.catchup
    outlets = {task.task_id: [asset.uri for asset in task.outlets] for task in dag.tasks if task.outlets}
    assert outlets == {
        f"extract_{table.landing_name}": [f"warehouse://landing/{table.landing_name}"]
        for table in SOURCE_TABLES
    }


def test_sheets_are_sent_after_each_publication_and_hourly(dag_bag):
    dag = dag_bag.dags["send_risk_sheets"]
    assert dag.max_active_runs == 1 and not dag.catchup
    assert "warehouse://published/risk_sheet" in str(dag.timetable.asset_condition)
    recorded = dag_bag.dags["daily_risk"].get_task("record_publication")  # after the published models
    assert [asset.uri for asset in recorded.outlets] == ["warehouse://published/risk_sheet"]
    assert [task.task_id for task in dag.topological_sort()] == ["enqueue", "deliver"]
