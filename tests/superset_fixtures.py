"""Helpers for the Superset tests: a real test warehouse, a real Superset, a client."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

from service_risk.bi.access import load_access
from service_risk.bi.org_units import org_units
from service_risk.db import connect, drop_database
from tests.conftest import ARTIFACTS, ROOT

LOGS = ARTIFACTS / "superset"
# Small but complete: every city, county and station level, and over a month of days so
# that "against the previous month" has a previous month.
SIMULATION = ["--days", "40", "--end-date", "2026-11-20", "--scale", "0.05", "--seed", "11"]


def region_username(org_code: str) -> str:
    """The login superset/access.yaml gives an org unit (province or city) of the test warehouse."""
    units = org_units()
    return load_access(units).username_for(next(unit for unit in units if unit.code == org_code))


def run_logged(
    name: str, command: list[str], timeout: float, env: dict | None = None, cwd: Path = ROOT
) -> str:
    """Run a step, keep its output as an artefact, fail with its tail."""
    LOGS.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    result = subprocess.run(
        command, cwd=cwd, env=env or os.environ.copy(), capture_output=True, text=True, timeout=timeout
    )
    output = result.stdout + result.stderr
    (LOGS / f"{name}.log").write_text(output)
    if result.returncode != 0:
        raise AssertionError(f"{name} failed ({result.returncode}):\n{output[-4000:]}")
    print(f"{name}: {time.monotonic() - started:.1f} s")
    return output


def build_test_warehouse() -> None:
    """The real pipeline on small data: simulate -> extract -> dbt build -> gate and publish.

    The warehouse is recreated first: landing watermarks and incremental marts of an
    earlier run would not match the freshly simulated sources.
    """
    drop_database("warehouse")
    run_logged("init-db", ["service-risk", "init-db"], timeout=120)
    run_logged("simulate", ["service-risk", "simulate", *SIMULATION, "--no-progress"], timeout=300)
    run_logged("extract", ["service-risk", "extract"], timeout=300)
    run_logged("dbt-build", ["dbt", "build"], timeout=600, cwd=ROOT / "dbt_project")
    run_logged("publish", ["service-risk", "publish"], timeout=300)  # the dashboards read published.*
    record_station_answers()


def record_station_answers() -> None:
    """Stations answer every other published episode of each city through the feedback form (its
    table, here), so that the episode pages of every city have answers to show."""
    with connect("warehouse") as conn:
        conn.execute(
            "insert into ops.episode_feedback (episode_id, cause, measures, responsible_person)"
            " select episode_id, '台区线路老化，故障报修集中', '更换老旧导线，增派抢修人员', '李四'"
            " from (select episode_id, row_number() over (partition by city_code order by episode_id) as number"
            " from published.risk_episode) as episodes where number % 2 = 1"
        )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def flush_redis_prefix(prefix: str) -> None:
    """Superset caches of an earlier run would answer for ids that now mean other objects."""
    if not shutil.which("redis-cli"):
        return
    keys = subprocess.run(
        ["redis-cli", "--scan", "--pattern", f"{prefix}*"], capture_output=True, text=True, timeout=30
    ).stdout.split()
    for start in range(0, len(keys), 500):
        subprocess.run(["redis-cli", "del", *keys[start : start + 500]], capture_output=True, timeout=30)


class SupersetServer:
    """`scripts/superset_up.sh` on a free port, stopped through its process group."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.pidfile = Path(os.environ["SR_STATE_DIR"]) / "superset.pgid"
        self.env = {
            **os.environ,
            "SUPERSET_PORT": str(self.port),
            "SUPERSET_PROVISION": "0",
            # Not needed by the tests; saves ~0.4 GiB.
            "SUPERSET_CELERY_WORKER": "0",
        }

    def prepare(self) -> None:
        self.stop()  # a server left over by an interrupted run
        drop_database("superset")  # prove the setup from scratch, as on a new machine
        flush_redis_prefix(f"superset_{os.environ['SR_DB_PREFIX']}")
        run_logged(
            "superset-setup", ["bash", "-c", ". scripts/env.sh && scripts/superset_setup.sh"], 600, self.env
        )

    def start(self) -> None:
        run_logged("superset-up", ["bash", "-c", ". scripts/env.sh && scripts/superset_up.sh"], 300, self.env)

    def provision(self, name: str, *args: str, env: dict | None = None) -> str:
        """`service-risk superset provision` against this server, as superset_up.sh runs it."""
        command = ["service-risk", "superset", "provision", "--url", self.url, *args]
        return run_logged(
            name,
            ["bash", "-c", '. scripts/env.sh && exec "$@"', "provision", *command],
            300,
            {**self.env, **(env or {})},
        )

    def stop(self) -> None:
        if not self.pidfile.exists():
            return
        pgid = int(self.pidfile.read_text())
        try:
            os.killpg(pgid, signal.SIGTERM)
            for _ in range(30):
                os.killpg(pgid, 0)
                time.sleep(1)
            os.killpg(pgid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.pidfile.unlink(missing_ok=True)
        log = Path(os.environ["SR_STATE_DIR"]) / "logs" / "superset.log"
        if log.exists():
            LOGS.mkdir(parents=True, exist_ok=True)
            shutil.copy(log, LOGS / "superset-server.log")
