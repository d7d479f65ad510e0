"""`service-risk publish`: gate and publish what a manual `dbt build` built, outside Airflow."""

from __future__ import annotations

import datetime as dt


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "publish",
        help="validate the days dbt built since the last publication and, if every blocking "
        "expectation passed, build the published models over them and advance the pointer",
    )
    parser.set_defaults(handler=_run)


def _run(args) -> int:
    from service_risk.quality import publication, validation

    run_id = f"cli__{dt.datetime.now(dt.UTC).isoformat(timespec='seconds')}"
    outcome = validation.validate_marts(run_id)
    if outcome is None:
        print("nothing to publish: dbt built no risk day since the last publication (run dbt build first)")
        return 0
    print(outcome.summary())
    if not outcome.passed:
        print(f"error: blocking expectations failed; publication stays at {publication.published_through()}")
        return 1
    publication.build_published_models(outcome.days)
    print(f"published {outcome.days}; pointer at {publication.record_publication(outcome.days, run_id)}")
    return 0
