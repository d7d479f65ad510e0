"""`service-risk publish`: gate the marts and publish them outside Airflow (after a manual `dbt build`)."""

from __future__ import annotations

import datetime as dt

from service_risk.db import connect


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "publish", help="validate the marts (blocking expectations) and publish the days that pass"
    )
    parser.add_argument(
        "--through",
        type=dt.date.fromisoformat,
        default=None,
        help="last risk day to publish (default: the last day in marts.fct_unit_risk_daily)",
    )
    parser.add_argument("--from", dest="date_from", type=dt.date.fromisoformat, default=None)
    parser.set_defaults(handler=_run)


def _run(args) -> int:
    from service_risk.quality import gate

    through = args.through
    if through is None:
        with connect("warehouse") as conn:
            through = conn.execute("select max(risk_date) from marts.fct_unit_risk_daily").fetchone()[0]
        if through is None:
            print("error: marts.fct_unit_risk_daily is empty: run dbt build first")
            return 2
    run_id = f"cli__{dt.datetime.now(dt.UTC).isoformat(timespec='seconds')}"
    outcome = gate.validate_marts(through, run_id, args.date_from)
    print(outcome.summary())
    if not outcome.passed:
        print(f"error: blocking expectations failed; publication stays at {gate.published_through()}")
        return 1
    print(f"published through {gate.publish(outcome.date_from, outcome.date_to, run_id)}")
    return 0
