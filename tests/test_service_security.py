"""Files readable by the owner only, services on the loopback only, secrets rotated by the documented
command (issue 13): the real scripts start the real services, psutil reads what they listen on."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
from pathlib import Path

import psutil
import pytest

from service_risk.db import drop_database, ensure_database
from service_risk.setup_db import own_metadata_database
from tests.conftest import ROOT
from tests.superset_fixtures import free_port

pytestmark = pytest.mark.slow


def run(command: str, env: dict, root: Path = ROOT, timeout: float = 600) -> subprocess.CompletedProcess:
    """A command after `. scripts/env.sh`, as the Makefile runs it."""
    return subprocess.run(
        ["bash", "-c", f". scripts/env.sh && {command}"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def readable_by_others(folder: Path) -> list[str]:
    """Files and folders under `folder` (itself included) that anyone but the owner may open."""
    paths = [folder, *folder.rglob("*")]
    return [
        f"{oct(p.lstat().st_mode & 0o777)} {p}"
        for p in paths
        if not p.is_symlink() and p.lstat().st_mode & 0o077
    ]


def listening(pgid: int) -> set[tuple[str, int]]:
    """(address, port) of every listening socket of a process group."""
    sockets = set()
    for process in psutil.process_iter():
        try:
            if os.getpgid(process.pid) == pgid:
                sockets |= {
                    (c.laddr.ip, c.laddr.port)
                    for c in process.net_connections("inet")
                    if c.status == psutil.CONN_LISTEN
                }
        except (ProcessLookupError, psutil.NoSuchProcess):
            continue
    return sockets


@pytest.fixture
def state(tmp_path):
    """A fresh state folder for the services of one test, stopped at the end."""
    folder = tmp_path / "state"
    try:
        yield folder
    finally:  # the documented way: `make stop`
        run("scripts/stop.sh", {**os.environ, "SR_STATE_DIR": str(folder)}, timeout=120)


def test_state_folder_and_what_dbt_writes_there_are_owner_only(state):
    env = {**os.environ, "SR_STATE_DIR": str(state)}
    # dbt writes the compiled project (manifest with every model's SQL) and its log into the state folder.
    parsed = run('mkdir -p "$SR_STATE_DIR/logs" && cd dbt_project && dbt parse --no-partial-parse', env)
    assert parsed.returncode == 0, parsed.stdout[-3000:]
    assert (state / "dbt-target" / "manifest.json").exists() and (state / "dbt-logs").exists()
    assert readable_by_others(state) == []
    local = ROOT / ".local"
    assert stat.S_IMODE(local.stat().st_mode) == 0o700
    assert [p.name for p in local.iterdir() if p.is_file() and p.stat().st_mode & 0o077] == []


def test_closed_loop_services_listen_on_the_loopback_only(state):
    """The feedback form, the stand-in SMS gateway and the mail sink (scripts/closed_loop_up.sh)."""
    ports = {"FEEDBACK_PORT": free_port(), "SMS_GATEWAY_PORT": free_port(), "SMTP_PORT": free_port()}
    env = {**os.environ, "SR_STATE_DIR": str(state), **{k: str(v) for k, v in ports.items()}}
    env.pop("SMS_GATEWAY_URL", None)
    env.pop("FEEDBACK_BASE_URL", None)
    started = run("scripts/closed_loop_up.sh", env, timeout=120)
    assert started.returncode == 0, started.stderr[-2000:]
    groups = {p.stem: int(p.read_text()) for p in state.glob("*.pgid")}
    assert set(groups) == {"feedback_form", "sms_gateway", "mail_sink"}
    sockets = {name: listening(pgid) for name, pgid in groups.items()}
    assert sockets == {
        "feedback_form": {("127.0.0.1", ports["FEEDBACK_PORT"])},
        "sms_gateway": {("127.0.0.1", ports["SMS_GATEWAY_PORT"])},
        "mail_sink": {("127.0.0.1", ports["SMTP_PORT"])},
    }
    assert readable_by_others(state) == []


def test_airflow_listens_on_the_loopback_only(state):
    env = {**os.environ, "SR_STATE_DIR": str(state), "AIRFLOW_PORT": str(free_port())}
    drop_database("airflow")
    ensure_database("airflow")
    own_metadata_database("airflow")
    migrated = run("airflow db migrate", env, timeout=300)
    assert migrated.returncode == 0, migrated.stderr[-2000:]
    started = run("scripts/airflow_up.sh", env, timeout=300)
    assert started.returncode == 0, started.stderr[-2000:]
    sockets = listening(int((state / "airflow.pgid").read_text()))
    assert ("127.0.0.1", int(env["AIRFLOW_PORT"])) in sockets
    assert {address for address, _ in sockets} == {"127.0.0.1"}, sockets
    assert readable_by_others(state) == []


@pytest.fixture
def checkout(tmp_path):
    """A checkout of the scripts and Superset files with its own .local (the real one stays as it is)."""
    root = tmp_path / "checkout"
    root.mkdir()
    shutil.copytree(ROOT / "scripts", root / "scripts")
    for name in (".venv", "superset", "src", "dbt_project", "dags"):
        (root / name).symlink_to(ROOT / name)
    return root


def secrets_of(root: Path) -> dict[str, str]:
    lines = (root / ".local" / "secrets.env").read_text().splitlines()
    return dict(line.split("=", 1) for line in lines if "=" in line)


def test_secrets_are_generated_distinct_and_rotated_by_name(checkout):
    generated = subprocess.run(
        ["scripts/secrets.sh"], cwd=checkout, capture_output=True, text=True, timeout=120
    )
    assert generated.returncode == 0, generated.stderr
    first = secrets_of(checkout)
    assert len(set(first.values())) == len(first) >= 12  # nothing shared, e.g. no JWT secret = key
    assert stat.S_IMODE((checkout / ".local").stat().st_mode) == 0o700
    assert stat.S_IMODE((checkout / ".local" / "secrets.env").stat().st_mode) == 0o600
    rotated = subprocess.run(
        ["scripts/secrets.sh", "--rotate", "FEEDBACK_TOKEN_SECRET"],
        cwd=checkout,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert rotated.returncode == 0, rotated.stderr
    assert "restart: the feedback form" in rotated.stdout
    second = secrets_of(checkout)
    assert {k for k in first if first[k] != second[k]} == {"FEEDBACK_TOKEN_SECRET"}
    assert stat.S_IMODE((checkout / ".local" / "secrets.env").stat().st_mode) == 0o600
    unknown = subprocess.run(
        ["scripts/secrets.sh", "--rotate", "NO_SUCH_SECRET"], cwd=checkout, capture_output=True, text=True
    )
    assert unknown.returncode == 1 and "not in" in unknown.stderr


def test_rotating_supersets_secret_key_re_encrypts_its_metadata(checkout):
    """`scripts/secrets.sh --rotate SUPERSET_SECRET_KEY` on metadata holding an encrypted database
    password: the setup passes with the new key afterwards and refuses the old one, saying why."""
    subprocess.run(["scripts/secrets.sh"], cwd=checkout, capture_output=True, timeout=120, check=True)
    env = {**os.environ, "SR_STATE_DIR": str(checkout / ".local" / "state")}
    ensure_database("warehouse")  # prepare grants the reader role on it
    drop_database("superset")
    prepared = run("service-risk superset prepare", env, root=checkout)
    assert prepared.returncode == 0, prepared.stdout[-3000:] + prepared.stderr[-2000:]
    uri = "postgresql://probe:kept-secret@127.0.0.1:5432/probe"
    added = run(f".venv/superset/bin/superset set-database-uri -d probe -u {uri}", env, root=checkout)
    assert added.returncode == 0, added.stderr[-2000:]
    old_key = secrets_of(checkout)["SUPERSET_SECRET_KEY"]

    rotated = subprocess.run(
        ["scripts/secrets.sh", "--rotate", "SUPERSET_SECRET_KEY"],
        cwd=checkout,
        env={k: v for k, v in env.items() if not k.startswith("SUPERSET_")},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert rotated.returncode == 0, rotated.stdout[-2000:] + rotated.stderr[-3000:]
    assert "restart: Superset" in rotated.stdout
    after = secrets_of(checkout)
    assert after["SUPERSET_SECRET_KEY"] != old_key and "SUPERSET_PREVIOUS_SECRET_KEY" not in after
    assert run("service-risk superset prepare", env, root=checkout).returncode == 0
    refused = run(f'SUPERSET_SECRET_KEY="{old_key}" service-risk superset prepare', env, root=checkout)
    assert refused.returncode != 0
    assert "re-encrypt-secrets" in refused.stdout + refused.stderr
    drop_database("superset")
