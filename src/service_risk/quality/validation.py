"""Validation: the Great Expectations gates, their results in the warehouse and Data Docs.

Two gates: each landed batch after extraction (expectations/landing.yml) and the marts' days a run
built before publication (expectations/marts.yml). Results go to `quality.validation_result`, Data
Docs to `$SR_STATE_DIR/data_docs/`. Publishing is `publication`'s, e-mail `notification`'s.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

from service_risk.db import connect
from service_risk.quality import data_docs, suites
from service_risk.quality.publication import DayRange, days_built_since_publication
from service_risk.settings import get_settings


def data_docs_dir() -> Path:
    return Path(os.environ.get("SR_STATE_DIR", ".")) / "data_docs"


@dataclass
class GateOutcome:
    suite: str
    batch: str
    results: list[dict] = field(default_factory=list)
    seconds: float = 0.0
    days: DayRange | None = None  # the risk days a mart gate covered

    @property
    def failures(self) -> list[dict]:
        return [r for r in self.results if r["blocking"] and not r["success"]]

    @property
    def warnings(self) -> list[dict]:
        return [r for r in self.results if not r["blocking"] and not r["success"]]

    @property
    def passed(self) -> bool:
        return not self.failures

    def summary(self) -> str:
        lines = [
            f"{self.suite} [{self.batch}]: {len(self.results)} expectations, "
            f"{len(self.failures)} blocking failures, {len(self.warnings)} warnings, {self.seconds:.1f} s"
        ]
        for kind, rows in (("FAILED", self.failures), ("warning", self.warnings)):
            lines += [f"  {kind}: {describe(r)} (observed {r['observed_value']})" for r in rows]
        return "\n".join(lines)


def describe(result: dict) -> str:
    name = result["expectation"] + (f"({result['column_name']})" if result["column_name"] else "")
    return name + (f" - {result['description']}" if result["description"] else "")


def _validate(named_batches: list[tuple[str, str, object]], run_id: str) -> list[GateOutcome]:
    """Validate (batch label, asset query, suite) triples in one ephemeral GX context; build Data Docs."""
    import great_expectations as gx
    from great_expectations.core.run_identifier import RunIdentifier
    from great_expectations.data_context.types.base import ProgressBarsConfig

    started = time.monotonic()
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)  # they only clutter task logs
    # The ephemeral context's default site lives in a temporary folder: replace it with ours.
    context.delete_data_docs_site("local_site")
    context.add_data_docs_site(site_name="local_site", site_config=data_docs.site_config(data_docs_dir()))
    source = context.data_sources.add_postgres(
        "warehouse", connection_string=get_settings().as_duty("transformer").sqlalchemy_url("warehouse")
    )
    definitions = []
    for label, query, suite in named_batches:
        asset = source.add_query_asset(name=f"{suite.name} {label}", query=query)
        definitions.append(
            context.validation_definitions.add(
                gx.ValidationDefinition(
                    name=f"{suite.name} {label}",
                    data=asset.add_batch_definition_whole_table("batch"),
                    suite=context.suites.add(suite),
                )
            )
        )
    checkpoint = context.checkpoints.add(
        gx.Checkpoint(
            name="gate",
            validation_definitions=definitions,
            actions=[gx.checkpoint.UpdateDataDocsAction(name="data_docs")],
            result_format="SUMMARY",
        )
    )
    result = checkpoint.run(run_id=RunIdentifier(run_name=run_id))
    seconds = (time.monotonic() - started) / max(len(named_batches), 1)
    by_suite = {r.suite_name: r for r in result.run_results.values()}
    outcomes = []
    for label, _, suite in named_batches:
        outcome = GateOutcome(suite=suite.name, batch=label, seconds=seconds)
        for row in by_suite[suite.name].results:
            config, details = row.expectation_config, row.result or {}
            observed = details.get("observed_value", details.get("unexpected_percent"))
            errors = [
                v["exception_message"]
                for v in (row.exception_info or {}).values()
                if isinstance(v, dict) and v.get("raised_exception")
            ]
            if errors:  # a query that cannot run fails its expectation: the gate fails closed
                observed = "error: " + errors[0]
            outcome.results.append(
                {
                    "expectation": config.type,
                    "column_name": config.kwargs.get("column")
                    or (",".join(config.kwargs["column_list"]) if "column_list" in config.kwargs else None),
                    "description": (config.meta or {}).get("description"),
                    "blocking": bool((config.meta or {}).get("blocking")),
                    "success": bool(row.success),
                    "observed_value": None if observed is None else json.dumps(observed, default=str)[:2000],
                    # UnexpectedRowsExpectation reports its row count as the observed value.
                    "unexpected_count": details.get("unexpected_count")
                    if "unexpected_count" in details or not isinstance(observed, int)
                    else observed,
                }
            )
        outcomes.append(outcome)
    return outcomes


def record(outcomes: list[GateOutcome], run_id: str) -> None:
    with connect("warehouse", duty="transformer") as conn, conn.cursor() as cur:
        cur.executemany(
            "insert into quality.validation_result (run_id, suite, batch, expectation, column_name, description,"
            " blocking, success, observed_value, unexpected_count) values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
            [
                (run_id, o.suite, o.batch, r["expectation"], r["column_name"], r["description"], r["blocking"],
                 r["success"], r["observed_value"], r["unexpected_count"])
                for o in outcomes
                for r in o.results
            ],
        )  # fmt: skip


def validate_landing(batches: list[dict], run_id: str) -> list[GateOutcome]:
    """Validate landed batches ({"landing_table", "batch_id", "rows"} as the extract tasks return them)."""
    with connect("warehouse", duty="transformer") as conn:
        recorded = {
            batch_id: (rows, high_water)
            for batch_id, rows, high_water in conn.execute(
                "select batch_id, row_count, high_water from ops.extract_batch where batch_id = any(%s)",
                ([b["batch_id"] for b in batches if b.get("batch_id")],),
            )
        }
    named = []
    for batch in batches:
        if not batch.get("batch_id") or batch["batch_id"] not in recorded:
            continue  # nothing landed in this window
        rows, high_water = recorded[batch["batch_id"]]
        table = batch["landing_table"].removeprefix("landing.")
        named.append(
            (
                f"batch {batch['batch_id']}",
                f"select * from landing.{table} where _batch_id = {int(batch['batch_id'])}",
                suites.landing_suite(table, int(rows or 0), high_water),
            )
        )
    outcomes = _validate(named, run_id) if named else []
    record(outcomes, run_id)
    return outcomes


def validate_marts(run_id: str) -> GateOutcome | None:
    """Validate the risk days dbt built since the last publication (None: it built none)."""
    with connect("warehouse", duty="transformer") as conn:
        days = days_built_since_publication(conn)
    if days is None:
        return None
    query, suite = suites.mart_suite(days.date_from, days.date_to)
    [outcome] = _validate([(str(days), query, suite)], run_id)
    outcome.days = days
    record([outcome], run_id)
    return outcome
