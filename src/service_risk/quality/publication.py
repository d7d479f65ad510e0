"""Publication: which days a run built, the published models dbt builds from them, and the pointer.

Dashboards read `published.*`, dbt models (dbt_project/models/published) built only by a publication,
after the mart gate passed for the days the run built: the two facts get those days of the marts
(delete+insert by day), the dashboards' tables are rebuilt from them. `quality.publication` is the
append-only pointer, a row per publication: its latest `published_through` is the last day dashboards
show. A failed gate publishes nothing: the last good day stays on every screen.

This module needs only the database (no Great Expectations): the daily DAG's `has_work` imports it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from service_risk.db import connect

# Published fact -> the mart whose gated days it holds (same columns, in the same order).
PUBLISHED_FACTS = {
    "published.unit_risk_daily": "marts.fct_unit_risk_daily",
    "published.unit_indicator_daily": "marts.fct_unit_indicator_daily",
    # The closed loop: a day's episode states and sheets depend on that day and earlier ones only.
    "published.station_episode_daily": "marts.fct_station_episode_daily",
    "published.unit_episode_daily": "marts.fct_unit_episode_daily",
    "published.risk_sheet": "marts.fct_risk_sheet",
    "published.risk_sheet_order": "marts.fct_risk_sheet_order",
}
PUBLICATION_SELECTOR = "publication"  # dbt_project/selectors.yml
PUBLISH_VARS = ("publish_date_from", "publish_date_to")  # macros/publication.sql


@dataclass(frozen=True)
class Publication:
    published_through: dt.date
    run_started_at: dt.datetime  # when the run that built it started (or, without one, when it published)


@dataclass(frozen=True)
class DayRange:
    date_from: dt.date
    date_to: dt.date

    def __str__(self) -> str:
        return f"{self.date_from}..{self.date_to}"


def last_publication(conn) -> Publication | None:
    """The latest row of the pointer, or None before the first publication."""
    row = conn.execute(
        "select published_through, coalesce(run_started_at, published_at) from quality.publication "
        "order by publication_id desc limit 1"
    ).fetchone()
    return Publication(*row) if row else None


def published_through(conn=None) -> dt.date | None:
    """The last day dashboards show (in `conn`'s transaction if given)."""
    if conn is None:
        with connect("warehouse", duty="transformer") as conn:
            return published_through(conn)
    publication = last_publication(conn)
    return publication.published_through if publication else None


def days_built_since_publication(conn) -> DayRange | None:
    """The risk days dbt built since the last publishing run started: what a gate validates and a
    publication copies. dbt alone decides which days a run builds (macros/risk_dates.sql: the new days,
    its lookback, the days late versions touch, a requested recomputation); every row it writes to
    int_station_indicator_daily carries built_at, and the marts rebuild the same days. Days built by a
    run whose gate failed since are included. None: nothing built since."""
    publication = last_publication(conn)
    date_from, date_to = conn.execute(
        "select min(risk_date), max(risk_date) from intermediate.int_station_indicator_daily "
        "where built_at > %s",
        (publication.run_started_at if publication else dt.datetime.min.replace(tzinfo=dt.UTC),),
    ).fetchone()
    return DayRange(date_from, date_to) if date_from else None


def dbt_vars(days: DayRange) -> dict[str, str]:
    """The vars of a publication's dbt run (macros/publication.sql)."""
    return dict(zip(PUBLISH_VARS, (str(days.date_from), str(days.date_to)), strict=True))


def facts_need_rebuild(conn) -> bool:
    """A published fact whose columns no longer match its mart (a changed contract) is rebuilt from
    the mart up to the publication's last day (dbt --full-refresh) instead of failing on the schema."""
    return any(_columns(conn, table) != _columns(conn, mart) for table, mart in PUBLISHED_FACTS.items())


def _columns(conn, relation: str) -> list[tuple[str, str]]:
    return conn.execute(
        "select attname, format_type(atttypid, atttypmod) from pg_attribute "
        "where attrelid = to_regclass(%s) and attnum > 0 and not attisdropped order by attnum",
        (relation,),
    ).fetchall()


def build_published_models(days: DayRange) -> None:
    """Run dbt for the published models (selector `publication`) over the validated days; outside
    Airflow (the DAG builds the same selector through Cosmos)."""
    from service_risk.dbt_manifest import run_dbt

    with connect("warehouse", duty="transformer") as conn:
        full_refresh = facts_need_rebuild(conn)
    run_dbt(
        ["run", "--selector", PUBLICATION_SELECTOR, *(["--full-refresh"] if full_refresh else [])],
        dbt_vars(days),
    )


def record_publication(days: DayRange, run_id: str, run_started_at: dt.datetime | None = None) -> dt.date:
    """Advance the pointer to the published days (never back: a recomputation of old days keeps it);
    one publisher at a time. `run_started_at`: when the run that built the days started."""
    with connect("warehouse", duty="transformer") as conn:
        conn.execute("lock table quality.publication in exclusive mode")
        through = max(filter(None, (published_through(conn), days.date_to)))
        conn.execute(
            "insert into quality.publication (published_through, run_id, run_started_at) values (%s, %s, %s)",
            (through, run_id, run_started_at),
        )
        return through
