"""Validation gates, results in the warehouse, Data Docs and the publication pointer.

Dashboards read `published.*`: tables holding the marts' rows up to `quality.publication`'s latest
`published_through`. Only `publish`, after the mart gate's blocking expectations passed, writes them
(one transaction per run: the validated days are replaced). So a broken day never reaches a manager's
screen, the last good day stays published, and neither dbt rebuilding a mart nor recomputing the
lookback days shows unvalidated rows in between.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import time
from dataclasses import dataclass, field
from pathlib import Path

from service_risk.db import connect
from service_risk.landing_state import landed_through
from service_risk.quality import alert, data_docs, suites
from service_risk.settings import get_settings

PUBLISHED_TABLES = {  # published table -> the mart it mirrors (same columns, in the same order)
    "published.unit_risk_daily": "marts.fct_unit_risk_daily",
    "published.unit_indicator_daily": "marts.fct_unit_indicator_daily",
}


def data_docs_dir() -> Path:
    return Path(os.environ.get("SR_STATE_DIR", ".")) / "data_docs"


@dataclass
class GateOutcome:
    suite: str
    batch: str
    results: list[dict] = field(default_factory=list)
    seconds: float = 0.0
    date_from: dt.date | None = None  # the risk days a mart gate covered
    date_to: dt.date | None = None

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
        "warehouse", connection_string=get_settings().sqlalchemy_url("warehouse")
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
    with connect("warehouse") as conn, conn.cursor() as cur:
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
    with connect("warehouse") as conn:
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


def published_through(conn=None) -> dt.date | None:
    """The pointer: the last day dashboards show (in `conn`'s transaction if given)."""
    if conn is None:
        with connect("warehouse") as conn:
            return published_through(conn)
    row = conn.execute(
        "select published_through from quality.publication order by publication_id desc limit 1"
    ).fetchone()
    return row[0] if row else None


def validate_marts(
    risk_date_to: dt.date | str, run_id: str, risk_date_from: dt.date | str | None = None
) -> GateOutcome:
    """Validate the risk days this run built: from the day after the pointer, minus dbt's lookback
    (earlier when a recomputation asked for earlier days, or when late data made dbt rebuild them;
    before the first publication, from the first day in the mart) to `risk_date_to`, never past the
    last day landed completely."""
    risk_date_to = dt.date.fromisoformat(str(risk_date_to))
    with connect("warehouse") as conn:  # dbt builds no day that has not landed completely
        risk_date_to = min(filter(None, (risk_date_to, landed_through(conn))))
    pointer = published_through()
    if pointer is None:
        with connect("warehouse") as conn:
            first = conn.execute("select min(risk_date) from marts.fct_unit_risk_daily").fetchone()[0]
        date_from = first or risk_date_to
    else:
        lookback = int(suites.dbt_vars()["risk_lookback_days"])
        date_from = min(pointer + dt.timedelta(days=1), risk_date_to) - dt.timedelta(days=lookback)
    if risk_date_from:
        date_from = min(date_from, dt.date.fromisoformat(str(risk_date_from)))
    if rebuilt := rebuilt_from():  # late data made dbt recompute older days: validate and publish them too
        date_from = min(date_from, rebuilt)
    query, suite = suites.mart_suite(date_from, risk_date_to)
    [outcome] = _validate([(f"{date_from}..{risk_date_to}", query, suite)], run_id)
    outcome.date_from, outcome.date_to = date_from, risk_date_to
    record([outcome], run_id)
    return outcome


def rebuilt_from() -> dt.date | None:
    """The first risk day dbt rebuilt since the last publishing run started (int_station_indicator_daily
    stamps every row it writes with built_at; the marts follow it), including days rebuilt by a run
    whose gate failed since."""
    with connect("warehouse") as conn:
        return conn.execute(
            """
            select min(risk_date) from intermediate.int_station_indicator_daily
            where built_at > (
                select coalesce(run_started_at, published_at) from quality.publication
                order by publication_id desc limit 1
            )
            """
        ).fetchone()[0]


def _columns(conn, relation: str) -> list[tuple[str, str]]:
    return conn.execute(
        "select attname, format_type(atttypid, atttypmod) from pg_attribute "
        "where attrelid = to_regclass(%s) and attnum > 0 and not attisdropped order by attnum",
        (relation,),
    ).fetchall()


def copy_published_days(conn, date_from: dt.date, date_to: dt.date) -> None:
    """In the caller's transaction: replace the days [date_from, date_to] of every published table
    with its mart's rows; a table whose columns no longer match its mart (a changed contract, or the
    views of earlier versions) is recreated from the mart up to `date_to`."""
    for table, mart in PUBLISHED_TABLES.items():
        if _columns(conn, table) == _columns(conn, mart):
            conn.execute(f"delete from {table} where risk_date between %s and %s", (date_from, date_to))
            conn.execute(
                f"insert into {table} select * from {mart} where risk_date between %s and %s",
                (date_from, date_to),
            )
            continue
        kind = conn.execute("select relkind from pg_class where oid = to_regclass(%s)", (table,)).fetchone()
        if kind:
            conn.execute(f"drop {'view' if kind[0] == 'v' else 'table'} {table}")
        conn.execute(f"create table {table} (like {mart} including defaults including constraints)")
        conn.execute(f"comment on table {table} is 'Rows of {mart} that passed the quality gate.'")
        conn.execute(f"insert into {table} select * from {mart} where risk_date <= %s", (date_to,))
        # The mart's indexes (its key, risk_date, ...), built after the load rather than row by row.
        for (definition,) in conn.execute(
            "select indexdef from pg_indexes where schemaname || '.' || tablename = %s", (mart,)
        ).fetchall():
            conn.execute(re.sub(r" INDEX \S+ ON \S+ ", f" INDEX ON {table} ", definition, count=1))


def publish(
    date_from: dt.date | str, date_to: dt.date | str, run_id: str, run_started_at: dt.datetime | None = None
) -> dt.date:
    """Copy the validated days [date_from, date_to] of the marts into `published.*` and record the
    publication, advancing the pointer (never back: a recomputation of old days keeps it), all in one
    transaction. `run_started_at`: when the run that built the days started."""
    date_from, date_to = dt.date.fromisoformat(str(date_from)), dt.date.fromisoformat(str(date_to))
    with connect("warehouse") as conn:
        conn.execute("lock table quality.publication in exclusive mode")  # one publisher at a time
        copy_published_days(conn, date_from, date_to)
        through = max(filter(None, (published_through(conn), date_to)))
        conn.execute(
            "insert into quality.publication (published_through, run_id, run_started_at) values (%s, %s, %s)",
            (through, run_id, run_started_at),
        )
        return through


def announce_failure(outcomes: list[GateOutcome], run_id: str) -> list[str]:
    """E-mail the blocking failures to the data engineers; the recipients."""
    failed = [o for o in outcomes if not o.passed]
    pointer = published_through()
    subject = (
        f"[service-risk] quality gate FAILED: {', '.join(o.suite for o in failed)} - "
        f"publication held at {pointer or 'nothing published yet'}"
    )
    body = "\n\n".join(
        [
            f"Run {run_id}: blocking Great Expectations failed; dashboards keep showing data up to {pointer}.",
            *(o.summary() for o in failed),
            f"Data Docs: file://{data_docs_dir().resolve()}/index.html",
            "History: select * from quality.validation_result where run_id = '" + run_id + "';",
        ]
    )
    return alert.send_alert(subject, body)
