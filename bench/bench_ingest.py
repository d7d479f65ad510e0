"""Ingest benchmark: simulator rows/s, extraction rows/s, and a plain COPY of the same rows;
then the sources kept moving 15 simulated minutes at a time, each step extracted as a DAG run
would, to show what the re-read overlap (SR_EXTRACT_LAG_MINUTES) costs per run.

Runs against its own databases (prefix `bench_`). Prints figures and ratios:
    python bench/bench_ingest.py --days 90 --scale 1 --live-hours 24
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

from psycopg import sql

from service_risk.db import connect
from service_risk.extract.cli import extract_all
from service_risk.extract.core import ExtractResult, extract_lag, truncate_landing
from service_risk.settings import get_settings
from service_risk.setup_db import init_databases
from service_risk.simulator import LiveSummary, simulate
from service_risk.simulator.clock import to_datetime
from service_risk.simulator.live import LiveSimulator
from service_risk.simulator.profile import DEFAULT_PROFILE
from service_risk.sources import SOURCE_TABLES

RUN = timedelta(minutes=15)  # extract_sources' schedule


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
                cur.execute(
                    "alter table landing.bench_copy "
                    "drop column _batch_id, drop column _loaded_at, drop column _version_hash"
                )
                started = time.perf_counter()
                with open(path, "rb") as src, cur.copy("copy landing.bench_copy from stdin") as copy:
                    while chunk := src.read(1 << 20):
                        copy.write(chunk)
                wh.commit()
                seconds += time.perf_counter() - started
                rows += cur.rowcount
                cur.execute("drop table landing.bench_copy")
    return rows, seconds


def live_runs(hours: float) -> dict[str, list[list[ExtractResult]]]:
    """Advance the sources 15 simulated minutes at a time, extracting every table after each step;
    every other run without the overlap (lag 0), so both see the same hours of the day."""
    live, summary = LiveSimulator(get_settings(), None, DEFAULT_PROFILE), LiveSummary()
    runs: dict[str, list[list[ExtractResult]]] = {
        f"lag {extract_lag().total_seconds() / 60:.0f} min": [],
        "lag 0": [],
    }
    try:
        for number in range(round(hours * 3600 / RUN.total_seconds())):
            live.advance(int(RUN.total_seconds()), summary)
            lag = None if number % 2 == 0 else timedelta(0)
            runs[list(runs)[number % 2]].append(extract_all(to_datetime(live.clock), "bench-live", lag))
    finally:
        live.close()
    return runs


def print_live(runs: dict[str, list[list[ExtractResult]]]) -> None:
    print(f"live      : runs of {RUN.total_seconds() / 60:.0f} min alternately with and without the overlap")
    mean_seconds = {}
    for label, group in runs.items():
        read = [sum(r.rows_read for r in run) for run in group]
        landed = [sum(r.row_count for r in run) for run in group]
        per_run = {
            "read": read,
            "landed": landed,
            "re-read": [r - n for r, n in zip(read, landed, strict=True)],
            "seconds": [sum(r.seconds for r in run) for run in group],  # all 11 tables
        }
        print(f"  {label} ({len(group)} runs, {sum(landed):,} versions landed, {sum(read):,} rows read)")
        for name, values in per_run.items():
            print(
                f"    per run {name:8}: mean {sum(values) / len(values):>9,.2f}  "
                f"median {sorted(values)[len(values) // 2]:>9,.2f}  max {max(values):>9,.2f}"
            )
        mean_seconds[label] = sum(per_run["seconds"]) / len(group)
    with_lag, without = mean_seconds.values()
    print(f"ratio seconds per run with/without overlap: {with_lag / without:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--end-date", type=date.fromisoformat, default=date.today() - timedelta(days=1))
    parser.add_argument("--live-hours", type=float, default=24, help="simulated hours of 15-minute runs")
    args = parser.parse_args()
    init_databases()

    summary = simulate(days=args.days, end_date=args.end_date, scale=args.scale, seed=42, dirty_rate=0.002)
    sim_rows = summary.total_rows
    sim_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    with connect("warehouse") as conn:  # a first load creates its landing tables, as in `make demo`
        truncate_landing(conn)
        for (name,) in conn.execute(
            "select tablename from pg_tables where schemaname = 'landing'"
        ).fetchall():
            conn.execute(sql.SQL("drop table {}").format(sql.Identifier("landing", name)))
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
    if args.live_hours > 0:
        print_live(live_runs(args.live_hours))


if __name__ == "__main__":
    main()
