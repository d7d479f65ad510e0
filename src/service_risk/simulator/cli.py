"""`service-risk simulate`: fill the source systems, optionally keep them moving (--live)."""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import sys

from service_risk.simulator.engine import simulate
from service_risk.simulator.live import run_live


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "simulate",
        help="create and fill the source databases (marketing, 95598, command) with simulated data",
        description=(
            "Recreate the source systems' tables and simulate DAYS days ending on END_DATE "
            "(the simulated now is END_DATE 23:59:59). With --live, keep appending events and "
            "applying updates in near real time afterwards; --days 0 --live carries on from the "
            "existing data."
        ),
    )
    parser.add_argument("--days", type=int, default=90, help="days to simulate (default 90; 0: none)")
    parser.add_argument(
        "--end-date",
        type=dt.date.fromisoformat,
        default=None,
        metavar="YYYY-MM-DD",
        help="last simulated day (default: yesterday in Asia/Shanghai)",
    )
    parser.add_argument("--scale", type=float, default=1.0, help="1.0 = one province, ~1,300 stations")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--dirty-rate", type=float, default=0.002, help="share of fact rows made dirty")
    parser.add_argument(
        "--loop-start",
        type=dt.date.fromisoformat,
        default=None,
        metavar="YYYY-MM-DD",
        help="the closed loop goes live: from then on trained stations recover (default: never)",
    )
    parser.add_argument("--live", action="store_true", help="keep simulating in near real time")
    parser.add_argument("--tick-seconds", type=float, default=5.0, help="live: real seconds per tick")
    parser.add_argument("--speed", type=float, default=60.0, help="live: simulated seconds per real second")
    parser.add_argument(
        "--wall-clock",
        action="store_true",
        help="live: follow the wall clock (Asia/Shanghai) instead of --speed, catching up first",
    )
    parser.add_argument("--duration", type=float, default=None, help="live: stop after this many seconds")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar / tick lines")
    parser.add_argument(
        "--with-warm-up",
        action="store_true",
        help="simulate the risk model's warm-up days (longest indicator window - 1, from the dbt seeds) "
        "before the DAYS days, so that every one of those has full windows on the dashboards",
    )
    parser.set_defaults(handler=handle)


def warm_up_days(model_version: str = "v1") -> int:
    """Days before the first with full windows: the longest indicator window of the seed, minus one."""
    from service_risk.dbt_manifest import DBT_PROJECT_DIR

    with open(DBT_PROJECT_DIR / "seeds" / "risk_indicators.csv", encoding="utf-8") as seed:
        windows = [
            int(row["window_days"]) for row in csv.DictReader(seed) if row["model_version"] == model_version
        ]
    return max(windows) - 1


def handle(args: argparse.Namespace) -> int:
    progress = not args.no_progress and sys.stderr.isatty()  # no bar in logs
    if args.days > 0 or not args.live:
        summary = simulate(
            days=args.days + (warm_up_days() if args.with_warm_up else 0),
            end_date=args.end_date,
            scale=args.scale,
            seed=args.seed,
            dirty_rate=args.dirty_rate,
            progress=progress,
            loop_start=args.loop_start,
        )
        print(summary.format())
    if args.live:
        print(
            run_live(
                tick_seconds=args.tick_seconds,
                speed=args.speed,
                duration=args.duration,
                dirty_rate=args.dirty_rate,
                progress=progress,
                wall_clock=args.wall_clock,
            ).format()
        )
    return 0
