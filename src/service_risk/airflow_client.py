"""Run a DAG through the running scheduler: trigger it over Airflow's REST API and wait.

With the scheduler up, `airflow dags test` would run the DAG in its own process beside the
scheduler's runs (it ignores max_active_runs) and both would build the same dbt models at once. So
every documented command goes through here when Airflow is up: the run is queued behind any active
run of the DAG (max_active_runs=1) and this waits for it, printing progress.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections import Counter
from pathlib import Path

import httpx

FINISHED = {"success", "failed"}
READ_ATTEMPTS = 5


def base_url() -> str:
    return f"http://127.0.0.1:{os.environ.get('AIRFLOW__API__PORT', '8080')}"


def scheduler_is_up(url: str | None = None) -> bool:
    """The API server answers and reports a healthy scheduler."""
    try:
        health = httpx.get(f"{url or base_url()}/api/v2/monitor/health", timeout=5).json()
    except (httpx.HTTPError, ValueError):
        return False
    return (health.get("scheduler") or {}).get("status") == "healthy"


class AirflowApi:
    def __init__(self, url: str | None = None, user: str = "admin") -> None:
        self.url = url or base_url()
        passwords = Path(os.environ["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE"])
        token = httpx.post(
            f"{self.url}/auth/token",
            json={"username": user, "password": json.loads(passwords.read_text())[user]},
            timeout=30,
        )
        token.raise_for_status()
        self.client = httpx.Client(
            base_url=f"{self.url}/api/v2",
            headers={"Authorization": f"Bearer {token.json()['access_token']}"},
            timeout=60,
        )

    def _read(self, path: str, **params) -> httpx.Response:
        """GET, repeated when the API server does not answer in time, drops the connection or answers
        with a server error (a busy or restarting server: e.g. its metadata connection pool exhausted
        while tasks heartbeat): a read is safe to repeat, and a wait must not fail on one bad answer."""
        for attempt in range(1, READ_ATTEMPTS):
            try:
                response = self.client.get(path, params=params)
            except httpx.TransportError as exc:
                problem = repr(exc)
            else:
                if response.status_code < 500:
                    return response
                problem = f"{response.status_code} {response.text[:300]}"
            print(f"Airflow API {path}: {problem}; asking again", file=sys.stderr, flush=True)
            time.sleep(5 * attempt)
        return self.client.get(path, params=params)

    def get(self, path: str, **params) -> dict:
        response = self._read(path, **params)
        response.raise_for_status()
        return response.json()

    def dag_exists(self, dag_id: str) -> bool:
        return self._read(f"/dags/{dag_id}").status_code == 200

    def trigger(self, dag_id: str, logical_date: str | None = None, conf: dict | None = None) -> str:
        self.client.patch(f"/dags/{dag_id}", json={"is_paused": False}).raise_for_status()
        response = self.client.post(
            f"/dags/{dag_id}/dagRuns", json={"logical_date": logical_date, "conf": conf or {}}
        )
        response.raise_for_status()
        return response.json()["dag_run_id"]

    def run_state(self, dag_id: str, run_id: str) -> str:
        return self.get(f"/dags/{dag_id}/dagRuns/{run_id}")["state"]

    def task_states(self, dag_id: str, run_id: str) -> Counter:
        instances = self.get(f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances", limit=1000)
        return Counter(ti["state"] or "scheduled" for ti in instances["task_instances"])

    def failed_tasks(self, dag_id: str, run_id: str) -> list[str]:
        instances = self.get(f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances", limit=1000, state="failed")
        return [ti["task_id"] for ti in instances["task_instances"]]


def trigger_and_wait(
    dag_id: str,
    logical_date: str | None = None,
    conf: dict | None = None,
    timeout: float = 3600,
    poll_seconds: float = 5,
) -> bool:
    """Trigger a run, print its task states as they change, return whether it succeeded."""
    api = AirflowApi()
    run_id = api.trigger(dag_id, logical_date, conf)
    print(f"triggered {dag_id} run {run_id} through the scheduler; waiting", flush=True)
    started, last = time.monotonic(), None
    while time.monotonic() - started < timeout:
        state = api.run_state(dag_id, run_id)
        progress = ", ".join(f"{n} {s}" for s, n in sorted(api.task_states(dag_id, run_id).items()))
        if progress != last:
            print(f"  {time.monotonic() - started:5.0f} s  {state}: {progress}", flush=True)
            last = progress
        if state in FINISHED:
            if state == "failed":
                print(f"failed tasks: {', '.join(api.failed_tasks(dag_id, run_id))}", flush=True)
            return state == "success"
        time.sleep(poll_seconds)
    print(f"{dag_id} run {run_id} did not finish within {timeout:.0f} s", flush=True)
    return False


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("scheduler-up", help="exit 0 when the scheduler is up")
    run = sub.add_parser("trigger-and-wait", help="trigger a DAG run and wait for it")
    run.add_argument("dag_id")
    run.add_argument("--logical-date", default=None)
    run.add_argument("--conf", type=json.loads, default=None)
    run.add_argument("--timeout", type=float, default=3600)
    args = parser.parse_args(argv)
    if args.command == "scheduler-up":
        return 0 if scheduler_is_up() else 1
    return 0 if trigger_and_wait(args.dag_id, args.logical_date, args.conf, args.timeout) else 1


if __name__ == "__main__":
    sys.exit(main())
