"""Time every dashboard chart's data query, cache off, against a running Superset.

For each chart of the asset bundle: GET /api/v1/chart/{id}/data/?force=true (force
skips Superset's cache; that is the whole request as a dashboard makes it) and the
chart's generated SQL run directly as Superset's read-only warehouse role (the
database's share). Prints p50/p95 per chart over repeated runs after warm-up.

    . scripts/env.sh && python bench/bench_charts.py [--url URL] [--runs 20] [--user admin]

Needs Superset set up and provisioned on that warehouse (scripts/superset_setup.sh,
scripts/superset_up.sh); the scale is whatever `make demo` simulated.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import psycopg

from service_risk.bi.bundle import bundle_configs
from service_risk.bi.client import SupersetClient
from service_risk.bi.config import ADMIN_USER, SupersetSettings


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--url", default=None, help="Superset's URL (default: SUPERSET_PORT on 127.0.0.1)")
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--user", default=ADMIN_USER, help="admin, or a city user to include its RLS filter")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()

    settings = SupersetSettings.from_env(args.url)
    password = settings.admin_password if args.user == ADMIN_USER else settings.password_for(args.user)
    client = SupersetClient(settings.url, args.user, password)
    # The bundle's charts as imported (their names filled in from the seeds).
    bundle = bundle_configs("charts")
    charts = {
        row["uuid"]: row
        for row in client.list_all("/api/v1/chart/", columns=["id", "uuid", "slice_name"])
        if row["uuid"] in bundle
    }
    # As Superset's own read-only role: the same privileges and settings.
    reader = {
        "host": settings.db.host,
        "port": settings.db.port,
        "user": settings.reader_role,
        "password": settings.reader_password,
        "dbname": settings.db.database("warehouse"),
        "autocommit": True,
    }
    with psycopg.connect(**reader) as warehouse:
        stations = warehouse.execute(
            "select count(*) from marts.dim_org_unit where org_level = 'station'"
        ).fetchone()[0]
        days = warehouse.execute(
            "select count(distinct risk_date) from marts.fct_unit_risk_daily"
        ).fetchone()[0]
        orders = warehouse.execute("select count(*) from marts.fct_work_order").fetchone()[0]
    print(
        f"{stations} stations, {days} risk days, {orders} work orders; {args.runs} runs per chart, cache off"
    )
    print(f"{'chart':<34} {'rows':>6} {'http p50':>9} {'http p95':>9} {'sql p50':>8} {'sql p95':>8}  (ms)")

    results = []
    for chart in sorted(charts.values(), key=lambda chart: chart["slice_name"]):
        chart_id = chart["id"]
        url = f"{client.base_url}/api/v1/chart/{chart_id}/data/?force=true"
        http: list[float] = []
        rows = 0
        for run in range(args.warmup + args.runs):
            started = time.perf_counter()
            response = client.http.get(url, timeout=300)
            elapsed = (time.perf_counter() - started) * 1000
            response.raise_for_status()
            if run >= args.warmup:
                http.append(elapsed)
            rows = sum(result["rowcount"] for result in response.json()["result"])
        # The SQL Superset generated for this chart (RLS included for a city user).
        queries = client.get(f"/api/v1/chart/{chart_id}/data/?type=query")["result"]
        database: list[float] = []
        with psycopg.connect(**reader) as conn:
            for run in range(args.warmup + args.runs):
                started = time.perf_counter()
                for query in queries:
                    conn.execute(query["query"]).fetchall()
                if run >= args.warmup:
                    database.append((time.perf_counter() - started) * 1000)
        figures = {
            "chart": chart["slice_name"],
            "rows": rows,
            "http_p50_ms": round(statistics.median(http), 1),
            "http_p95_ms": round(percentile(http, 0.95), 1),
            "sql_p50_ms": round(statistics.median(database), 1),
            "sql_p95_ms": round(percentile(database, 0.95), 1),
        }
        results.append(figures)
        print(
            f"{figures['chart'][:34]:<34} {rows:>6} {figures['http_p50_ms']:>9} {figures['http_p95_ms']:>9} "
            f"{figures['sql_p50_ms']:>8} {figures['sql_p95_ms']:>8}"
        )
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(
            json.dumps({"stations": stations, "days": days, "charts": results}, ensure_ascii=False, indent=2)
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
