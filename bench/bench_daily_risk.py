"""Daily-run benchmark (issue 12): `daily_risk` through Airflow against plain dbt on the same data.

Against an existing warehouse (the demo's, after `make demo`; any SR_DB_PREFIX), in one run:
  1. the yardstick: `dbt build --full-refresh` of the risk model from the command line (the models,
     seeds, data and unit tests that `daily_risk` builds before its gate);
  2. the backfill: `daily_risk` recomputing every day with data (`risk_date_from` = the first day),
     gate and publication included;
  3. one day: `daily_risk` recomputing the last published day (with dbt's lookback), as the
     nightly run does.
Through scripts/run_dag.sh: the scheduler when this checkout's Airflow is up (the real path), else
`airflow dags test`.
Prints seconds, the ratios, and the peak RSS of the processes each step started.
    python bench/bench_daily_risk.py
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import time

from service_risk.db import connect
from service_risk.dbt_manifest import run_dbt
from service_risk.quality import publication

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run_daily_risk(risk_date_from: str, logical_date: str) -> str:
    """A run recomputing from `risk_date_from`, the way scripts/run_dag.sh runs every DAG."""
    command = [
        "scripts/run_dag.sh",
        "daily_risk",
        logical_date,
        json.dumps({"risk_date_from": risk_date_from}),
    ]
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"daily_risk failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    return "the scheduler" if "through the scheduler" in result.stdout else "airflow dags test"


def measured(action) -> tuple[float, float]:
    """Seconds, and the peak RSS (MiB) of the largest process the action started."""
    started = time.perf_counter()
    action()
    seconds = time.perf_counter() - started
    return seconds, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def main() -> None:
    with connect("warehouse") as conn:
        last = publication.published_through(conn)
        if last is None:
            raise SystemExit("nothing is published yet: run `make demo` first")
        first, days, risk_rows = conn.execute(
            "select min(risk_date), count(distinct risk_date), count(*) from marts.fct_unit_risk_daily"
        ).fetchone()
    logical_date = f"{last.isoformat()}T23:30:00+08:00"  # a run at 00:30 the day after `last`
    paths = set()

    def daily_risk_from(day):
        return lambda: paths.add(run_daily_risk(day.isoformat(), logical_date))

    figures = {
        "dbt build --full-refresh (CLI)": measured(
            lambda: run_dbt(["build", "--full-refresh", "--exclude", "tag:publication", "--quiet"])
        ),
        f"daily_risk backfill, {days} days": measured(daily_risk_from(first)),
        "daily_risk one day": measured(daily_risk_from(last)),
    }
    print(
        f"warehouse: {days} days {first}..{last}, {risk_rows:,} risk rows; "
        f"daily_risk through {' and '.join(sorted(paths))}"
    )
    print(f"{'step':52} {'seconds':>8} {'peak RSS so far':>16}")
    for name, (seconds, rss) in figures.items():
        print(f"{name:52} {seconds:8.1f} {rss:12.0f} MiB")
    plain, backfill, one_day = (seconds for seconds, _ in figures.values())
    print(f"backfill / plain dbt build: {backfill / plain:.2f}x (goal <= 1.3)")
    print(f"one day / plain full build: {one_day / plain:.2f}x (goal <= 0.15)")


if __name__ == "__main__":
    main()
