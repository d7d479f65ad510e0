"""Publication benchmark: what the gated copy into `published.*` costs (issue 4).

Against an existing warehouse (the demo's, after `make demo`), inside transactions that are
rolled back, so the published tables and the pointer stay as they are. Prints, for N repeats:
the daily publication (the last 1 + lookback days replaced), a full copy (a changed contract),
and a plain `create table as select` of the same rows (logged, no index) for the ratio.
    python bench/bench_publish.py --repeats 5
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import time

from service_risk.db import connect
from service_risk.quality import gate, suites


def timed(conn, action) -> float:
    started = time.perf_counter()
    action()
    seconds = time.perf_counter() - started
    conn.rollback()
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    lookback = int(suites.dbt_vars()["risk_lookback_days"])
    with connect("warehouse") as conn:
        last = conn.execute("select max(risk_date) from marts.fct_unit_risk_daily").fetchone()[0]
        if last is None:
            raise SystemExit("marts.fct_unit_risk_daily is empty: run `make demo` first")
        rows = {
            mart: conn.execute(f"select count(*) from {mart}").fetchone()[0]
            for mart in gate.PUBLISHED_TABLES.values()
        }
        conn.commit()
        day_from = last - dt.timedelta(days=lookback)

        def full_copy() -> None:
            for table in gate.PUBLISHED_TABLES:
                conn.execute(f"drop table if exists {table}")
            gate.copy_published_days(conn, dt.date.min, last)

        def plain_ctas() -> None:
            for index, mart in enumerate(gate.PUBLISHED_TABLES.values()):
                conn.execute(f"create table published.bench_ctas_{index} as select * from {mart}")

        figures = {
            f"daily ({lookback + 1} days replaced)": [
                timed(conn, lambda: gate.copy_published_days(conn, day_from, last))
                for _ in range(args.repeats)
            ],
            "full copy (recreated)": [timed(conn, full_copy) for _ in range(args.repeats)],
            "plain create table as select": [timed(conn, plain_ctas) for _ in range(args.repeats)],
        }
    print(f"marts: {', '.join(f'{m} {n:,} rows' for m, n in rows.items())}; last day {last}")
    for name, values in figures.items():
        print(f"{name:32} median {statistics.median(values):6.2f} s  max {max(values):6.2f} s")
    full, plain = (
        statistics.median(figures[k]) for k in ("full copy (recreated)", "plain create table as select")
    )
    print(f"full copy / plain CTAS: {full / plain:.2f}x")


if __name__ == "__main__":
    main()
