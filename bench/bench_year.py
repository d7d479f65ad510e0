"""A year from empty, then the daily run on it (issue 12), in one table.

On its own databases (SR_DB_PREFIX; `make bench` uses bench_year_), in one run:
  1. simulate DAYS days after the warm-up at SCALE (not counted: the source systems' work);
  2. `extract_sources` through Airflow: every source table into an empty landing schema;
  3. `daily_risk` through Airflow on the empty warehouse: dbt, the gates and the publication;
  then bench_daily_risk's steps on the year just loaded: a plain `dbt build --full-refresh` (the
  yardstick), the `daily_risk` backfill and one night.
Through scripts/run_dag.sh (`airflow dags test` unless this prefix's scheduler is up). Prints the
seconds and peak RSS of every step and the ratios against their goals.
    SR_DB_PREFIX=bench_year_ . scripts/env.sh && python bench/bench_year.py --days 365 --scale 1
"""

from __future__ import annotations

import argparse
import os

from bench_daily_risk import daily_risk_steps
from measure import print_steps, run_step

from service_risk.db import drop_database

YEAR_FROM_EMPTY_GOAL_SECONDS = 600  # issue 12: 365 days at scale 1 in 10 minutes


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()
    if not os.environ.get("SR_DB_PREFIX"):
        raise SystemExit("set SR_DB_PREFIX (its databases are dropped and made again), e.g. bench_year_")

    for database in ("warehouse", "airflow"):  # from empty; the simulator makes the sources again
        drop_database(database)
    run_step("init-db", ["service-risk", "init-db"])
    run_step("airflow db migrate", ["airflow", "db", "migrate"])
    simulated = run_step(
        f"simulate {args.days} days at scale {args.scale} (not counted)",
        [
            "service-risk",
            "simulate",
            "--days",
            str(args.days),
            "--with-warm-up",
            "--scale",
            str(args.scale),
            "--seed",
            str(args.seed),
            "--no-progress",
        ],
    )
    extracted = run_step("extract_sources from empty", ["scripts/run_dag.sh", "extract_sources"])
    built = run_step("daily_risk from empty (dbt, gates, publication)", ["scripts/run_dag.sh", "daily_risk"])
    from_empty = extracted.seconds + built.seconds

    steps, ratios, summary = daily_risk_steps()
    print(f"{args.days} days at scale {args.scale}; {summary}")
    print(simulated.output.strip().splitlines()[-2].strip())  # the simulator's row total
    print_steps(
        [simulated, extracted, built, *steps],
        [
            (
                "year from empty / 600 s (extraction + daily_risk)",
                from_empty / YEAR_FROM_EMPTY_GOAL_SECONDS,
                "<= 1",
            ),
            *ratios,
        ],
    )


if __name__ == "__main__":
    main()
