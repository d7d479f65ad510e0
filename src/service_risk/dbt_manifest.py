"""The dbt project's manifest, from which Cosmos renders the daily_risk DAG without a database.

Written by `dbt parse` the first time it is needed after a change to the project; later DAG parses
only read it. `scripts/airflow_up.sh` writes it before the DAG processor starts (`python -m
service_risk.dbt_manifest`), so the processor never waits on a parse.
"""

from __future__ import annotations

import fcntl
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

DBT_PROJECT_DIR = Path(
    os.environ.get("DBT_PROJECT_DIR") or Path(__file__).resolve().parents[2] / "dbt_project"
)
# Its own folder: every dbt command writes a manifest.json into its target path, and Cosmos' tasks
# would otherwise overwrite the file while other tasks read it.
MANIFEST_DIR = Path(os.environ.get("SR_STATE_DIR") or DBT_PROJECT_DIR / "target") / "dbt-manifest"
MANIFEST_PATH = MANIFEST_DIR / "manifest.json"
DBT_EXECUTABLE = Path(sys.executable).with_name("dbt")  # the Airflow environment's
PROJECT_SOURCES = ("dbt_project.yml", "selectors.yml", "models", "macros", "seeds", "tests")


def _newest_source_mtime() -> float:
    newest = 0.0
    for name in PROJECT_SOURCES:
        path = DBT_PROJECT_DIR / name
        files = [path] if path.is_file() else path.rglob("*") if path.is_dir() else []
        newest = max([newest, *(f.stat().st_mtime for f in files if f.is_file())])
    return newest


def _is_stale() -> bool:
    return not MANIFEST_PATH.exists() or MANIFEST_PATH.stat().st_mtime < _newest_source_mtime()


def ensure_manifest() -> Path:
    """The project's manifest, re-written by `dbt parse` when the project changed since.

    Every task process parses the DAG file, so after a change many would parse at once while others
    read the file: one parses under a lock, into a folder of its own, and the new manifest replaces
    the old one in a single rename; a reader sees the old file or the new one, never half of one."""
    if not _is_stale():
        return MANIFEST_PATH
    MANIFEST_DIR.mkdir(parents=True, exist_ok=True)
    with open(MANIFEST_DIR / "manifest.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if _is_stale():
            with tempfile.TemporaryDirectory(dir=MANIFEST_DIR, prefix="parse-") as parse_dir:
                subprocess.run(
                    [
                        str(DBT_EXECUTABLE),
                        "parse",
                        "--quiet",
                        "--target-path",
                        parse_dir,
                    ],
                    cwd=DBT_PROJECT_DIR,
                    env={**os.environ, "DBT_PROFILES_DIR": str(DBT_PROJECT_DIR)},
                    check=True,
                    timeout=300,
                )
                os.replace(Path(parse_dir) / "manifest.json", MANIFEST_PATH)
    return MANIFEST_PATH


def run_dbt(args: list[str], dbt_vars: dict[str, str] | None = None) -> None:
    """Run a dbt command in the project (outside Airflow: the CLI, tests); fails on a dbt error."""
    command = [str(DBT_EXECUTABLE), *args]
    if dbt_vars:
        command += ["--vars", json.dumps(dbt_vars)]
    subprocess.run(
        command, cwd=DBT_PROJECT_DIR, env={**os.environ, "DBT_PROFILES_DIR": str(DBT_PROJECT_DIR)}, check=True
    )


if __name__ == "__main__":
    print(ensure_manifest())
