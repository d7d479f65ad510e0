"""The live path: Airflow's own scheduler runs the pipeline while the sources keep changing.

As `make demo` leaves it: the real scheduler, DAG processor, triggerer and API server
(`scripts/airflow_up.sh`) and the live simulator on the wall clock (`scripts/simulator_up.sh`), with
the schedules shortened through configuration (SR_EXTRACT_CRON, SR_DAILY_RISK_CRON), not by patching
code. The test only watches through the REST API until extraction has run several times and
`daily_risk` has published through an asset-triggered and a cron run; then it checks what a province
would: every run green, no two builds at once, the day that just ended published, every source
version landed exactly once, and published history equal to a fresh full refresh.
"""

from __future__ import annotations

import datetime as dt
import itertools
import os
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import pendulum
import psutil
import psycopg
import pytest

from service_risk.airflow_client import AirflowApi
from service_risk.db import connect, drop_database
from service_risk.extract.core import source_columns
from service_risk.setup_db import init_databases
from service_risk.sources import SOURCE_TABLES
from tests.conftest import ARTIFACTS, ROOT, Sink, published_differences, query
from tests.sms_gateway import SmsGateway
from tests.superset_fixtures import free_port

FACT_TABLES = [t for t in SOURCE_TABLES if t.system != "marketing"]
# Who a failed run or a delivery needing a person is mailed to (scripts/env.sh).
DATA_ENGINEERS = {a.strip() for a in os.environ.get("DATA_ENGINEER_EMAILS", "").split(",") if a.strip()}
DAG_IDS = ("extract_sources", "daily_risk", "send_risk_sheets", "send_weekly_lists", "send_training_plans")
EXTRACT_CRON = "*/2 * * * *"
DAILY_RISK_CRON = "*/6 * * * *"
SOAK_TIMEOUT = 40 * 60
SETTLE_TIMEOUT = 30 * 60


def today_local() -> dt.date:
    return pendulum.now("Asia/Shanghai").date()


def service(script: str, env: dict, timeout: int = 300) -> None:
    result = subprocess.run(
        ["bash", "-c", f". scripts/env.sh && scripts/{script}"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]


def stop_services(env: dict) -> None:
    subprocess.run(["bash", "-c", ". scripts/env.sh && scripts/stop.sh"], cwd=ROOT, env=env, timeout=120)


def dag_runs(api: AirflowApi, dag_id: str) -> list[dict]:
    """Every run of the DAG: the soak's Airflow metadata database is new, so all of them are the soak's
    (a cron run's run_after can lie before the start: the scheduler first runs the latest past slot)."""
    return api.get(f"/dags/{dag_id}/dagRuns", limit=1000, order_by="run_after")["dag_runs"]


def source_versions(table) -> tuple[dict[tuple, str], dict[tuple, tuple[int, str, str]]]:
    """For every source row changed since the soak began: (key..., updated_at) -> md5 of the row in the
    source, and -> (copies, least md5, greatest md5) in landing."""
    with connect(table.system) as source:
        columns = [name for name, _ in source_columns(source, table)]
        row = f"md5(row({', '.join(columns)})::text)"
        keys = ", ".join(table.key)
        rows = source.execute(
            f"select {keys}, updated_at, {row} from public.{table.name} where updated_at >= %s",
            (SOAK["source_start"],),
        ).fetchall()
    with connect("warehouse") as warehouse:
        landed = warehouse.execute(
            f"select {keys}, updated_at, count(*), min({row}), max({row}) from landing.{table.landing_name} "
            f"where updated_at >= %s group by {keys}, updated_at",
            (SOAK["source_start"],),
        ).fetchall()
    return {r[:-1]: r[-1] for r in rows}, {r[:-3]: r[-3:] for r in landed}


@dataclass
class Fault:
    """Two faults hit the writer of a table mid-run: the test holds a lock on the table, so the
    writer waits on a statement the test can see. Its database connection is terminated; the retry
    (of the same task, or of the node's own task after the dbt build) waits on the same lock and its
    process is killed (kill -9); the lock is released and the next try must finish the run. The lock
    makes the moment deterministic; the faults themselves are the real ones.
    """

    dag_id: str
    task: str  # part of the id of the task whose process is killed
    tries: int  # that task's try that finishes the run
    relation: str
    lock_mode: str = "share"  # lets readers through, stops writers
    applied: list = field(default_factory=list)
    terminated: set = field(default_factory=set)  # backends already hit, until they are gone
    run_id: str | None = None
    task_id: str | None = None
    holder: psycopg.Connection | None = None

    def hold(self) -> bool:
        """Take the lock once the relation exists (a fresh warehouse has no marts until the first
        build); never wait for a writer that has it: armed, or not yet."""
        if self.holder is None:
            holder = connect("warehouse")
            try:
                holder.execute("set lock_timeout = '1s'")
                holder.execute(f"lock table {self.relation} in {self.lock_mode} mode")
            except psycopg.errors.Error:
                holder.close()
                return False
            self.holder = holder
        return True

    def waiting_backend(self) -> tuple[int, int] | None:
        """(pid, client port) of a backend waiting for the held lock."""
        rows = query(
            "select pid, client_port from pg_stat_activity "
            "where %s = any(pg_blocking_pids(pid)) and pid <> all(%s)",
            (self.holder.info.backend_pid, list(self.terminated)),
        )
        return rows[0] if rows else None

    def step(self, api: AirflowApi) -> bool:
        """Apply the next fault if the task waits on the lock; True once both are applied."""
        if len(self.applied) == 2:
            return True
        if not self.hold():
            return False
        if (waiting := self.waiting_backend()) is None:
            return False
        pid, port = waiting
        if not self.applied:
            query("select pg_terminate_backend(%s)", (pid,))
            self.terminated.add(pid)
            self.applied.append("terminated its connection")
        else:
            self.run_id, self.task_id = running_task(api, self.dag_id, self.task)
            task_process = next(
                c.pid for c in psutil.net_connections("tcp") if c.laddr and c.laddr.port == port and c.pid
            )
            self.applied.append(f"killed {' '.join(psutil.Process(task_process).cmdline())[:80]}")
            os.kill(task_process, signal.SIGKILL)
            self.release()
        return len(self.applied) == 2

    def release(self) -> None:
        if self.holder is not None:
            self.holder.close()
            self.holder = None


FAULTS = [
    Fault("extract_sources", "extract_appeals__work_order", 3, "landing.appeals__work_order"),
    # The dbt build's connection is terminated; the model's own task runs it and is killed.
    Fault("daily_risk", "int_station_indicator_daily_run", 2, "intermediate.int_station_indicator_daily"),
]


def running_task(api: AirflowApi, dag_id: str, part_of_task_id: str) -> tuple[str, str]:
    for run in api.get(f"/dags/{dag_id}/dagRuns", state="running")["dag_runs"]:
        instances = api.get(f"/dags/{dag_id}/dagRuns/{run['dag_run_id']}/taskInstances", limit=1000)
        for ti in instances["task_instances"]:
            if part_of_task_id in ti["task_id"] and ti["state"] == "running":
                return run["dag_run_id"], ti["task_id"]
    raise AssertionError(f"no running task of {dag_id} matches {part_of_task_id}")


SOAK: dict = {}


@pytest.fixture(scope="module")
def soak():
    """Fresh databases (Airflow's too), 30 simulated days, then the services on their own."""
    from service_risk.simulator import simulate

    # The mail server: the data engineers' mailbox (a run that fails for good would write here) and
    # the station leaders' risk report sheets, which send_risk_sheets delivers after each publication.
    sink = Sink()
    sink.controller.start()
    SOAK["mailbox"] = sink
    # The SMS gateway outside the company, its stand-in; the key is this install's (scripts/secrets.sh).
    gateway = SmsGateway("service-risk", os.environ["SMS_GATEWAY_KEY"]).start()
    SOAK["sms_gateway"] = gateway
    env = {
        **os.environ,
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(sink.port),
        "SMS_GATEWAY_URL": gateway.url,
        "SMS_GATEWAY_ACCOUNT": "service-risk",
        "AIRFLOW_PORT": str(free_port()),
        "SR_EXTRACT_CRON": EXTRACT_CRON,
        "SR_DAILY_RISK_CRON": DAILY_RISK_CRON,
        "SR_SIMULATOR_TICK_SECONDS": "5",
        "SR_TASK_RETRY_DELAY_SECONDS": "15",
        # On a Monday the scheduler runs the week's lists at once (early in a month, the month's training
        # plans); they wait for the backfill's publication.
        "SR_WEEKLY_LISTS_POKE_SECONDS": "20",
        "SR_TRAINING_PLANS_POKE_SECONDS": "20",
        # The simulator backdates its duplicate rows by up to 60 minutes: the source's "longest
        # transaction", which the extraction's overlap must exceed.
        "SR_EXTRACT_LAG_MINUTES": "90",
    }
    stop_services(env)
    for database in ("warehouse", "airflow"):
        drop_database(database)
    init_databases()
    migrate = subprocess.run(
        ["bash", "-c", ". scripts/env.sh && airflow db migrate"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        timeout=300,
    )
    assert migrate.returncode == 0, migrate.stderr[-2000:]
    yesterday = today_local() - dt.timedelta(days=1)
    simulate(days=30, end_date=yesterday, scale=0.03, seed=31, dirty_rate=0.01)
    SOAK["source_start"] = dt.datetime.combine(today_local(), dt.time())  # the live simulator starts here
    os.environ["AIRFLOW__API__PORT"] = env["AIRFLOW_PORT"]  # for the API client in this process
    try:
        # The faults a retry must survive, armed as soon as their tables exist: they hit the first
        # runs that write them, while the sources still change (no extra build waits for them).
        for fault in FAULTS:
            fault.hold()
        service("simulator_up.sh", env)
        service("airflow_up.sh", env)
        api = AirflowApi()
        deadline = time.monotonic() + SOAK_TIMEOUT
        while not all(api.dag_exists(dag_id) for dag_id in DAG_IDS):
            assert time.monotonic() < deadline, "the DAG processor never registered the DAGs"
            time.sleep(5)
        # Until both faults have hit their tasks (the faulted runs then finish on their own while the
        # last extraction lands) and the scheduler has run daily_risk by cron and by asset.
        while True:
            assert time.monotonic() < deadline, (
                f"soak incomplete: faults {[(f.task, f.applied) for f in FAULTS]}, "
                f"daily runs {[(r['run_type'], r['state']) for r in dag_runs(api, 'daily_risk')]}"
            )
            faults_applied = all([fault.step(api) for fault in FAULTS])
            risk_runs = dag_runs(api, "daily_risk")
            done = {run["run_type"] for run in risk_runs if run["state"] == "success"}
            failed = [
                run["dag_run_id"]
                for dag_id in DAG_IDS
                for run in dag_runs(api, dag_id)
                if run["state"] == "failed"
            ]
            if failed or (faults_applied and {"asset_triggered", "scheduled"} <= done):
                break
            time.sleep(2 if not faults_applied else 15)
        for fault in FAULTS:
            fault.release()
        # Sources stand still, then one more extraction lands everything they hold.
        stop_simulator(env)
        # The documented command, with the scheduler up: triggered through it and waited for.
        extract = subprocess.run(
            ["bash", "-c", ". scripts/env.sh && scripts/run_dag.sh extract_sources"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=900,
        )
        SOAK["manual_extract"] = extract.stdout + extract.stderr
        assert extract.returncode == 0, SOAK["manual_extract"][-3000:]
        # The daily run that extraction triggered publishes before the snapshot and the full refresh,
        # and the sheets it published are sent (on a Monday the week's lists too, early in a month its
        # training plans). Up to two builds: the faulted one, still running when extraction ended, then
        # the one with its rows; later runs find no work and skip in seconds.
        settle_deadline = time.monotonic() + SETTLE_TIMEOUT
        for dag_id in DAG_IDS[1:]:
            while any(run["state"] in ("queued", "running") for run in dag_runs(api, dag_id)):
                assert time.monotonic() < settle_deadline, (
                    f"{dag_id} never went idle after the last extraction"
                )
                time.sleep(10)
        SOAK["runs"] = {dag_id: dag_runs(api, dag_id) for dag_id in DAG_IDS}
        SOAK["published_through"] = query("select max(published_through) from quality.publication")[0][0]
        yield SOAK
    finally:
        for fault in FAULTS:
            fault.release()
        if "runs" not in SOAK:  # the soak stopped early: keep the runs for the failed tasks' logs
            try:
                SOAK["runs"] = {dag_id: dag_runs(api, dag_id) for dag_id in DAG_IDS}
            except Exception as error:  # the API may be what broke
                print(f"runs not read: {error}")
        stop_services(env)
        sink.controller.stop()
        gateway.stop()
        logs = Path(env.get("SR_STATE_DIR", ROOT / ".local" / "test_")) / "logs"
        ARTIFACTS.mkdir(exist_ok=True)
        for name in ("airflow-standalone.log", "simulator-live.log"):
            if (logs / name).exists():
                (ARTIFACTS / f"soak-{name}").write_text((logs / name).read_text()[-200_000:])
        print_server_errors(logs / "airflow-standalone.log")
        print_failed_task_logs(Path(env.get("SR_STATE_DIR", ROOT / ".local" / "test_")) / "airflow" / "logs")


def print_failed_task_logs(task_logs: Path, lines: int = 60) -> None:
    """The last lines of every try of every task in a failed run, into the captured output (CI keeps
    no artefacts): what failed and why, not only that it did."""
    failed = [run for runs in SOAK.get("runs", {}).values() for run in runs if run["state"] == "failed"]
    for run in failed:
        for log in sorted(
            task_logs.glob(f"dag_id={run['dag_id']}/run_id={run['dag_run_id']}/*/attempt=*.log")
        ):
            text = log.read_text(errors="replace").splitlines()
            if any("ERROR" in line or "Traceback" in line for line in text):
                print(f"--- {log.relative_to(task_logs)}", *text[-lines:], sep="\n")


def print_server_errors(log: Path, limit: int = 80) -> None:
    """The API server's last errors, into the test's captured output (CI keeps no artifacts)."""
    if not log.exists():
        return
    lines = [line for line in log.read_text().splitlines() if line.startswith("api-server")]
    errors = [n for n, line in enumerate(lines) if "status_code=5" in line or "Traceback" in line]
    if errors:
        print("\n".join(lines[max(0, errors[-1] - limit // 2) : errors[-1] + limit // 2]))


def stop_simulator(env: dict) -> None:
    pidfile = Path(os.environ["SR_STATE_DIR"]) / "simulator.pgid"
    if pidfile.exists():
        subprocess.run(["kill", "-TERM", "--", f"-{pidfile.read_text().strip()}"], timeout=30)
        for _ in range(60):
            if subprocess.run(["kill", "-0", "--", f"-{pidfile.read_text().strip()}"]).returncode != 0:
                break
            time.sleep(1)
        pidfile.unlink(missing_ok=True)


def test_every_run_of_the_live_service_succeeded(soak):
    extract_runs, risk_runs = soak["runs"]["extract_sources"], soak["runs"]["daily_risk"]
    assert (
        "through the scheduler" in soak["manual_extract"]
    )  # make extract queued behind the scheduler's runs
    assert any(r["run_type"] == "manual" and r["state"] == "success" for r in extract_runs)
    every_run = [run for runs in soak["runs"].values() for run in runs]
    finished = [run for run in every_run if run["state"] in ("success", "failed")]
    assert [r["dag_run_id"] for r in finished if r["state"] == "failed"] == []
    to_engineers = [
        " ".join(m["Subject"].split()) for to, m in soak["mailbox"].messages if DATA_ENGINEERS & set(to)
    ]
    failures = [
        m for to, m in soak["mailbox"].messages if DATA_ENGINEERS & set(to) and "FAILED" in m["Subject"]
    ]
    # No task failed for good; if one did, its mail says which and why.
    assert [subject for subject in to_engineers if "FAILED" in subject] == [], [
        str(m.get_payload(decode=False))[:3000] for m in failures
    ]
    assert sum(r["run_type"] == "scheduled" and r["state"] == "success" for r in extract_runs) >= 3
    kinds = {r["run_type"] for r in risk_runs if r["state"] == "success"}
    assert {"asset_triggered", "scheduled"} <= kinds, risk_runs


@pytest.mark.parametrize("fault", FAULTS, ids=lambda f: f.dag_id)
def test_a_terminated_connection_and_a_killed_task_are_retried(soak, fault):
    """Both faults hit (the killed task's next try finished it) and the run succeeded; the landing
    and publication checks below then cover the rows it wrote."""
    api = AirflowApi()
    instance = api.get(f"/dags/{fault.dag_id}/dagRuns/{fault.run_id}/taskInstances/{fault.task_id}")
    assert len(fault.applied) == 2 and "airflow" in fault.applied[1], fault.applied
    assert (instance["state"], instance["try_number"]) == ("success", fault.tries), instance
    assert api.run_state(fault.dag_id, fault.run_id) == "success"


def test_no_two_daily_builds_overlapped(soak):
    started = sorted(
        (
            pendulum.parse(r["start_date"]),
            pendulum.parse(r["end_date"]) if r["end_date"] else pendulum.now("UTC"),
        )
        for r in soak["runs"]["daily_risk"]
        if r["start_date"]
    )
    for (_, previous_end), (start, _) in itertools.pairwise(started):
        assert start >= previous_end, started


def test_published_sheets_reached_their_leaders_once(soak):
    """The closed loop on the live path: after the publications, send_risk_sheets delivered every
    risk report sheet's SMS (one per message at the gateway) and e-mail (one per row at the mail
    server). Nothing is left pending or of unknown fate; only a contact without an address in the
    master data fails, and then the data engineers hear of it."""
    states = dict(query("select status, count(*) from ops.sheet_delivery group by status"))
    assert set(states) <= {"sent", "failed"} and states.get("sent", 0) > 0, states
    assert (
        query("select count(*) from ops.sheet_delivery where status = 'failed' and address <> ''")[0][0] == 0
    )
    sent = dict(
        query("select channel, count(*) from ops.sheet_delivery where status = 'sent' group by channel")
    )
    assert len(soak["sms_gateway"].sent_to()) == sent.get("sms", 0)
    to_leaders = [m for to, m in soak["mailbox"].messages if not DATA_ENGINEERS & set(to)]
    assert len(to_leaders) == sent.get("email", 0)
    alerts = [
        m
        for to, m in soak["mailbox"].messages
        if DATA_ENGINEERS & set(to) and "need a person" in m["Subject"]
    ]
    assert bool(alerts) == ("failed" in states)


def test_the_day_that_just_ended_is_published(soak):
    assert soak["published_through"] == today_local() - dt.timedelta(days=1)
    publishers = [run_id for (run_id,) in query("select run_id from quality.publication")]
    assert any(run_id.startswith("asset_triggered") for run_id in publishers), publishers


@pytest.mark.parametrize("table", FACT_TABLES, ids=lambda t: t.landing_name)
def test_every_changed_source_version_landed_exactly_once(soak, table):
    in_source, landed = source_versions(table)
    assert in_source, f"the live simulator changed no {table.name} row"
    missing = [version for version in in_source if version not in landed]
    assert missing == [], f"{len(missing)} of {len(in_source)} versions never landed: {missing[:5]}"
    twice = [version for version, (copies, _, _) in landed.items() if copies != 1]
    assert twice == [], f"landed more than once: {twice[:5]}"
    changed = [version for version, digest in in_source.items() if landed[version][1:] != (digest, digest)]
    assert changed == [], f"landed content differs from the source: {changed[:5]}"


def test_published_history_equals_a_fresh_full_refresh(soak):
    through = soak["published_through"]
    result = subprocess.run(
        [
            "bash",
            "-c",
            ". scripts/env.sh && cd dbt_project && dbt run --full-refresh --quiet "
            f"--vars '{{risk_date_to: \"{through}\"}}'",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode == 0, result.stdout[-3000:]
    assert query("select max(risk_date) from marts.fct_unit_risk_daily")[0][0] == through
    assert published_differences() == {table: 0 for table in published_differences()}
