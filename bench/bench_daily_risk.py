"""Daily-run benchmark (issue 12): `daily_risk` through Airflow against plain dbt on the same data.

Against an existing warehouse (the demo's, after `make demo`; any SR_DB_PREFIX), in one run:
  1. the yardstick: `dbt build --full-refresh` of the risk model from the command line (the models,
     seeds, data and unit tests that `daily_risk` builds before its gate);
  2. the backfill: `daily_risk` recomputing every day with data (`risk_date_from` = the first day),
     gate and publication included;
  3. one night: `daily_risk` recomputing what the nightly run does, the last day and dbt's lookback
     before it (`risk_lookback_days`), gate and publication included.
Through scripts/run_dag.sh: the scheduler when this checkout's Airflow is up (the real path), else
`airflow dags test`, whose run starts, for the gate, at its logical date: a night there validates and
publishes again every day built since that moment (the whole backfill), a scheduler's night only its own. Prints seconds, the peak RSS of each step and the ratios.
    python bench/bench_daily_risk.py
"""

from __future__ import annotations

import datetime as dt
import json

from measure import Step, print_steps, run_step

from service_risk.db import connect
from service_risk.dbt_manifest import DBT_EXECUTABLE, DBT_PROJECT_DIR
from service_risk.quality import publication
from service_risk.quality.suites import dbt_vars


def daily_risk_step(name: str, logical_date: str, risk_date_from: str = "") -> Step:
    """A `daily_risk` run at `logical_date`, the way scripts/run_dag.sh runs every DAG."""
    conf = json.dumps({"risk_date_from": risk_date_from})
    return run_step(name, ["scripts/run_dag.sh", "daily_risk", logical_date, conf])


def nightly_logical_date(day: dt.date) -> str:
    """The logical date of the 00:30 run after `day`, which builds `day` (the day that just ended; a cron
    trigger's logical date is its run time)."""
    return f"{day + dt.timedelta(days=1)}T00:30:00+08:00"


def daily_risk_steps() -> tuple[list[Step], list[tuple[str, float, str]], str]:
    """Plain dbt, the backfill and one more night on the warehouse as it is; the ratios; a summary."""
    with connect("warehouse") as conn:
        last = publication.published_through(conn)
        if last is None:
            raise SystemExit("nothing is published yet: run `make demo` first")
        first, days, risk_rows = conn.execute(
            "select min(risk_date), count(distinct risk_date), count(*) from marts.fct_unit_risk_daily"
        ).fetchone()
    plain = run_step(
        "dbt build --full-refresh (CLI, the yardstick)",
        [str(DBT_EXECUTABLE), "build", "--full-refresh", "--exclude", "tag:publication", "--quiet"],
        cwd=str(DBT_PROJECT_DIR),
    )
    backfill = daily_risk_step(
        f"daily_risk backfill, {days} days", nightly_logical_date(last), first.isoformat()
    )
    night_from = last - dt.timedelta(days=int(dbt_vars()["risk_lookback_days"]))
    one_day = daily_risk_step(
        "daily_risk one night (last day + lookback)", nightly_logical_date(last), night_from.isoformat()
    )
    path = "the scheduler" if "through the scheduler" in one_day.output else "airflow dags test"
    ratios = [
        ("backfill / plain dbt build", backfill.seconds / plain.seconds, "<= 1.3"),
        ("one night / plain full build", one_day.seconds / plain.seconds, "<= 0.15"),
    ]
    summary = f"warehouse: {days} days {first}..{last}, {risk_rows:,} risk rows; daily_risk through {path}"
    return [plain, backfill, one_day], ratios, summary


def main() -> None:
    steps, ratios, summary = daily_risk_steps()
    print(summary)
    print_steps(steps, ratios)


if __name__ == "__main__":
    main()
