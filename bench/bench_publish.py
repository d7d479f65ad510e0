"""Publication benchmark: what building the published dbt models costs (issue 4, issue 11).

Against an existing warehouse (the demo's, after `make demo`): publishes again days that are already
published (up to the pointer, so dashboards show the same rows afterwards), N times each: the daily
publication (the last 4 days replaced, then the dashboards' tables), a full rebuild (a changed
contract), and, for the ratio, a plain `create table as select` of the two marts (rolled back).
    python bench/bench_publish.py --repeats 3
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import time

from service_risk.db import connect
from service_risk.dbt_manifest import run_dbt
from service_risk.quality import publication

DAILY_DAYS = 4  # the day that just ended and a lookback of 3


def seconds_of(action) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    with connect("warehouse") as conn:
        last = publication.published_through(conn)
        if last is None:
            raise SystemExit("nothing is published yet: run `make demo` first")
        rows = {
            mart: conn.execute(f"select count(*) from {mart} where risk_date <= %s", (last,)).fetchone()[0]
            for mart in publication.PUBLISHED_FACTS.values()
        }
    daily = publication.DayRange(last - dt.timedelta(days=DAILY_DAYS - 1), last)
    selector = ["run", "--selector", publication.PUBLICATION_SELECTOR, "--quiet"]

    def plain_ctas() -> None:
        with connect("warehouse") as conn:
            for index, mart in enumerate(publication.PUBLISHED_FACTS.values()):
                conn.execute(f"create table published.bench_ctas_{index} as select * from {mart}")
            conn.rollback()

    figures = {
        f"daily ({DAILY_DAYS} days replaced)": [
            seconds_of(lambda: run_dbt(selector, publication.dbt_vars(daily))) for _ in range(args.repeats)
        ],
        "full rebuild": [
            seconds_of(lambda: run_dbt([*selector, "--full-refresh"], publication.dbt_vars(daily)))
            for _ in range(args.repeats)
        ],
        "plain create table as select": [seconds_of(plain_ctas) for _ in range(args.repeats)],
    }
    print(f"published facts: {', '.join(f'{m} {n:,} rows' for m, n in rows.items())}; through {last}")
    for name, values in figures.items():
        print(f"{name:32} median {statistics.median(values):6.2f} s  max {max(values):6.2f} s")
    daily_s, full, plain = (statistics.median(v) for v in figures.values())
    print(f"daily / full rebuild: {daily_s / full:.2f}x; full rebuild / plain CTAS: {full / plain:.2f}x")


if __name__ == "__main__":
    main()
