"""Shared fixtures: the suite runs against its own databases (prefix `test_`)."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
from email import message_from_bytes
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "artifacts"

# `test_` (make test) or another `test…_` prefix, so two checkouts' suites can run side by side.
if not re.fullmatch(r"test[a-z0-9]*_", os.environ.get("SR_DB_PREFIX", "")):
    raise pytest.UsageError(
        "run the tests with `make test` (SR_DB_PREFIX=test_ keeps them off the demo's data)"
    )


def query(sql: str, params: tuple = ()) -> list[tuple]:
    """Rows of a query on the test warehouse."""
    from service_risk.db import connect

    with connect("warehouse") as conn:
        return conn.execute(sql, params).fetchall()


def published_differences() -> dict[str, int]:
    """Rows in a published table and not in its mart, or the other way round (multiset difference)."""
    from service_risk.quality.publication import PUBLISHED_FACTS as PUBLISHED_TABLES

    return {
        table: query(
            f"select count(*) from ((select * from {table} except all select * from {mart}) union all "
            f"(select * from {mart} except all select * from {table})) as d"
        )[0][0]
        for table, mart in PUBLISHED_TABLES.items()
    }


class Sink:
    """An aiosmtpd SMTP server on a free local port that keeps what it receives."""

    def __init__(self) -> None:
        from aiosmtpd.controller import Controller

        self.messages: list = []
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)

    async def handle_DATA(self, server, session, envelope):  # aiosmtpd calls this hook by name
        self.messages.append((envelope.rcpt_tos, message_from_bytes(envelope.content)))
        return "250 OK"


def run_dbt(*args: str) -> str:
    """Run dbt in the project's environment (the suite's SR_DB_PREFIX); fail the test on an error.
    The output is kept as an artefact (artifacts/dbt-<command>.log)."""
    command = " ".join(["dbt", *args])
    result = subprocess.run(
        ["bash", "-c", f". scripts/env.sh && cd dbt_project && {command}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / f"dbt-{args[0]}.log").write_text(result.stdout + result.stderr)
    assert result.returncode == 0, f"{command} failed:\n{result.stdout[-4000:]}{result.stderr[-2000:]}"
    return result.stdout


def run_dag(dag_id: str, logical_date: str, conf: dict | None = None) -> subprocess.CompletedProcess:
    """A real `airflow dags test` run through the project's script (with the run's conf, if any);
    output kept as an artefact. A run past its time is killed with its whole process group: a
    surviving `dags test` would hold the DAG's lock (scripts/run_dag.sh) against every later run."""
    command = ["bash", "-c", '. scripts/env.sh && scripts/run_dag.sh "$@"', "run_dag", dag_id, logical_date]
    process = subprocess.Popen(
        command + ([json.dumps(conf)] if conf else []),
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        stdout, stderr = process.communicate(timeout=900)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        stdout, stderr = process.communicate()
        stderr += f"\n{dag_id} killed after 900 s"
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / f"{dag_id}-{logical_date[:19].replace(':', '')}.out").write_text(stdout + stderr)
    return subprocess.CompletedProcess(command, process.returncode, stdout, stderr)


@pytest.fixture
def dag_runner():
    return run_dag
