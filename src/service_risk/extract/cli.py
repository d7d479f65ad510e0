"""`service-risk extract`: land every source table outside Airflow (debugging, benchmarks)."""

from __future__ import annotations

import time
from datetime import datetime, timedelta

from service_risk.extract.core import ExtractResult, extract_table
from service_risk.settings import get_settings
from service_risk.sources import SOURCE_TABLES
from service_risk.timeutil import local_now


def extract_all(
    high_water: datetime, run_id: str | None = None, lag: timedelta | None = None
) -> list[ExtractResult]:
    settings = get_settings().as_duty("loader")
    return [
        extract_table(table, high_water, settings.dsn(table.system), settings.dsn("warehouse"), run_id, lag)
        for table in SOURCE_TABLES
    ]


def register(subparsers) -> None:
    parser = subparsers.add_parser("extract", help="land changed source rows into the warehouse")
    parser.add_argument(
        "--until",
        type=datetime.fromisoformat,
        default=None,
        help="high watermark, local Asia/Shanghai time (default: now)",
    )
    parser.set_defaults(handler=_run)


def _run(args) -> int:
    started = time.perf_counter()
    results = extract_all(args.until or local_now(), run_id="cli")
    seconds = time.perf_counter() - started
    total = sum(r.row_count for r in results)
    for r in results:
        print(
            f"{r.landing_table:32} {r.row_count:>10} rows landed of {r.rows_read:>10} read  batch {r.batch_id}"
        )
    print(f"total {total} rows landed in {seconds:.1f} s ({total / seconds:,.0f} rows/s)")
    return 0
