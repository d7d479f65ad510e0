"""Ingest benchmark: simulator rows/s, extraction rows/s, and a plain COPY of the same rows.

Runs against its own databases (prefix `bench_`). Prints figures and ratios:
    python bench/bench_ingest.py --days 90 --scale 1
"""

from __future__ import annotations

import argparse
import os
import resource
import tempfile
import time
from datetime import date, datetime, timedelta
from datetime import time as dt_time

os.environ["SR_DB_PREFIX"] = "bench_"

from service_risk.db import connect
from service_risk.extract.cli import extract_all
from service_risk.extract.core import truncate_landing
from service_risk.setup_db import init_databases
from service_risk.simulator import simulate
from service_risk.sources import SOURCE_TABLES


def plain_copy_seconds() -> tuple[int, float]:
    """COPY every source table to a file, then time only COPY FROM file into a fresh table."""
    rows, seconds = 0, 0.0
    with tempfile.TemporaryDirectory() as tmp:
        for table in SOURCE_TABLES:
            path = os.path.join(tmp, f"{table.landing_name}.tsv")
            with (
                connect(table.system) as source,
                source.cursor() as cur,
                open(path, "wb") as out,
                cur.copy(f"copy public.{table.name} to stdout") as copy,
            ):
                for chunk in copy:
                    out.write(chunk)
            with connect("warehouse") as wh, wh.cursor() as cur:
                cur.execute("drop table if exists landing.bench_copy")
                cur.execute(f'create table landing.bench_copy (like landing."{table.landing_name}")')
                cur.execute("alter table landing.bench_copy drop column _batch_id, drop column _loaded_at")
                started = time.perf_counter()
                with open(path, "rb") as src, cur.copy("copy landing.bench_copy from stdin") as copy:
                    while chunk := src.read(1 << 20):
                        copy.write(chunk)
                wh.commit()
                seconds += time.perf_counter() - started
                rows += cur.rowcount
                cur.execute("drop table landing.bench_copy")
    return rows, seconds


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--end-date", type=date.fromisoformat, default=date.today() - timedelta(days=1))
    args = parser.parse_args()
    init_databases()

    summary = simulate(days=args.days, end_date=args.end_date, scale=args.scale, seed=42, dirty_rate=0.002)
    sim_rows = summary.total_rows
    sim_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    with connect("warehouse") as conn:
        truncate_landing(conn)
    started = time.perf_counter()
    results = extract_all(datetime.combine(args.end_date + timedelta(days=1), dt_time()), run_id="bench")
    extract_seconds = time.perf_counter() - started
    extract_rows = sum(r.row_count for r in results)

    copy_rows, copy_seconds = plain_copy_seconds()

    print(f"days={args.days} scale={args.scale}")
    print(
        f"simulator : {sim_rows:>10,} rows {summary.seconds:7.1f} s {sim_rows / summary.seconds:>10,.0f} rows/s (peak RSS {sim_rss:,.0f} MiB)"
    )
    print(
        f"extraction: {extract_rows:>10,} rows {extract_seconds:7.1f} s {extract_rows / extract_seconds:>10,.0f} rows/s"
    )
    print(
        f"plain COPY: {copy_rows:>10,} rows {copy_seconds:7.1f} s {copy_rows / copy_seconds:>10,.0f} rows/s (file → table, load only)"
    )
    print(f"ratio extraction/plain COPY time: {extract_seconds / copy_seconds:.2f}")
    print(f"ratio simulator/extraction time : {summary.seconds / extract_seconds:.2f}")


if __name__ == "__main__":
    main()
