"""What the extraction has landed, as the daily build sees it.

A day is complete when every source table's watermark has passed its end: the lowest watermark minus
one day, and nothing while a table has never been extracted (a build on part of the tables would
publish a day without, say, its work orders). dbt's `risk_date_range` caps the days it builds the
same way, so the gate validates exactly the days dbt could build.
"""

from __future__ import annotations

import datetime as dt

from service_risk.db import connect
from service_risk.quality.publication import last_publication
from service_risk.sources import SOURCE_TABLES


def landed_through(conn) -> dt.date | None:
    """The last day every source table has landed completely; None before each was extracted once."""
    tables, low_water = conn.execute(
        "select count(*), min(high_water) from ops.extract_watermark where landing_table = any(%s)",
        ([table.landing_name for table in SOURCE_TABLES],),
    ).fetchone()
    if tables < len(SOURCE_TABLES):
        return None
    return (low_water - dt.timedelta(days=1)).date()


def reason_to_build(risk_date_to: dt.date, recompute_from: dt.date | None = None) -> str | None:
    """Why a daily run has work to do, or None: nothing complete has landed yet, or nothing landed
    since the last publication and no new day is due (an asset-triggered run after an empty extraction)."""
    with connect("warehouse", duty="transformer") as conn:
        through = landed_through(conn)
        if through is None:
            return None
        if recompute_from is not None:
            return f"recompute from {recompute_from}"
        published = last_publication(conn)
        if published is None:
            return "nothing published yet"
        if min(risk_date_to, through) > published.published_through:
            return f"{min(risk_date_to, through)} is due (published through {published.published_through})"
        # Landed after the last publishing run started: that run may not have read it.
        landed_since = conn.execute(
            "select count(*) from ops.extract_batch where row_count > 0 and finished_at > %s",
            (published.run_started_at,),
        ).fetchone()[0]
        return f"{landed_since} batches landed since the last publication" if landed_since else None
