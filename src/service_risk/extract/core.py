"""Land the rows of one source table changed in (watermark, high] with COPY.

The landed rows, the batch record and the new watermark commit in one
warehouse transaction, so a failed run lands nothing and a re-run of a
successful one finds its window already covered: no duplicates. Landing is
append-only; every row carries `_batch_id` and `_loaded_at` (filled by column
defaults during COPY, so the data is streamed source → warehouse in one pass).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime

import psycopg
from psycopg import sql

from service_risk.sources import SourceTable

BATCH_SETTING = "service_risk.batch_id"


@dataclass(frozen=True)
class ExtractResult:
    landing_table: str
    batch_id: int | None  # None: the window was already covered
    low_water: datetime | None
    high_water: datetime
    row_count: int
    seconds: float

    @property
    def rows_per_second(self) -> float:
        return self.row_count / self.seconds if self.seconds else 0.0


def source_columns(source: psycopg.Connection, table: SourceTable) -> list[tuple[str, str]]:
    """(name, SQL type) of the source table's columns, in table order."""
    rows = source.execute(
        """
        select a.attname, format_type(a.atttypid, a.atttypmod)
        from pg_attribute a
        where a.attrelid = to_regclass(%s) and a.attnum > 0 and not a.attisdropped
        order by a.attnum
        """,
        (f"public.{table.name}",),
    ).fetchall()
    if not rows:
        raise LookupError(f"source table {table.system}.{table.name} does not exist")
    return rows


def landing_columns(warehouse: psycopg.Connection, table: SourceTable) -> list[str]:
    rows = warehouse.execute(
        """
        select column_name from information_schema.columns
        where table_schema = 'landing' and table_name = %s
        order by ordinal_position
        """,
        (table.landing_name,),
    ).fetchall()
    return [name for (name,) in rows]


def ensure_landing_table(
    warehouse: psycopg.Connection, table: SourceTable, columns: list[tuple[str, str]]
) -> None:
    """Create the landing table, or add columns the source has gained since."""
    target = sql.Identifier("landing", table.landing_name)
    warehouse.execute(
        sql.SQL(
            "create table if not exists {} ("
            "_batch_id bigint not null default current_setting({})::bigint, "
            "_loaded_at timestamptz not null default now())"
        ).format(target, sql.Literal(BATCH_SETTING))
    )
    for name, sql_type in columns:
        warehouse.execute(
            sql.SQL("alter table {} add column if not exists {} {}").format(
                target, sql.Identifier(name), sql.SQL(sql_type)
            )
        )
    warehouse.execute(
        sql.SQL("create index if not exists {} on {} (_batch_id)").format(
            sql.Identifier(f"{table.landing_name}__batch_idx"), target
        )
    )


def extract_table(
    table: SourceTable,
    high_water: datetime,
    source_dsn: str,
    warehouse_dsn: str,
    run_id: str | None = None,
) -> ExtractResult:
    """Land rows with low_water < updated_at <= high_water (naive Asia/Shanghai time)."""
    started = time.perf_counter()
    with psycopg.connect(source_dsn) as source, psycopg.connect(warehouse_dsn) as warehouse:
        columns = source_columns(source, table)
        ensure_landing_table(warehouse, table, columns)
        # Serialises concurrent runs of the same table until commit, even before
        # the table has a watermark row to lock.
        warehouse.execute("select pg_advisory_xact_lock(hashtext(%s))", (f"extract:{table.landing_name}",))
        row = warehouse.execute(
            "select high_water from ops.extract_watermark where landing_table = %s",
            (table.landing_name,),
        ).fetchone()
        low_water = row[0] if row else None
        if low_water is not None and low_water >= high_water:
            return ExtractResult(table.landing_name, None, low_water, high_water, 0, 0.0)

        batch_id = warehouse.execute("select nextval('ops.extract_batch_id_seq')").fetchone()[0]
        warehouse.execute("select set_config(%s, %s, true)", (BATCH_SETTING, str(batch_id)))
        row_count = _copy_window(source, warehouse, table, [c for c, _ in columns], low_water, high_water)
        warehouse.execute(
            """
            insert into ops.extract_batch
                (batch_id, landing_table, low_water, high_water, row_count, run_id, finished_at)
            values (%s, %s, %s, %s, %s, %s, now())
            """,
            (batch_id, table.landing_name, low_water, high_water, row_count, run_id),
        )
        warehouse.execute(
            """
            insert into ops.extract_watermark (landing_table, high_water, last_batch_id)
            values (%s, %s, %s)
            on conflict (landing_table) do update
            set high_water = excluded.high_water, last_batch_id = excluded.last_batch_id,
                updated_at = now()
            """,
            (table.landing_name, high_water, batch_id),
        )
    return ExtractResult(
        table.landing_name, batch_id, low_water, high_water, row_count, time.perf_counter() - started
    )


def _copy_window(
    source: psycopg.Connection,
    warehouse: psycopg.Connection,
    table: SourceTable,
    columns: list[str],
    low_water: datetime | None,
    high_water: datetime,
) -> int:
    column_list = sql.SQL(", ").join(map(sql.Identifier, columns))
    window = sql.SQL("updated_at <= {}").format(sql.Literal(high_water))
    if low_water is not None:
        window = sql.SQL("updated_at > {} and ").format(sql.Literal(low_water)) + window
    copy_out = sql.SQL("copy (select {} from {} where {}) to stdout").format(
        column_list, sql.Identifier("public", table.name), window
    )
    copy_in = sql.SQL("copy {} ({}) from stdin").format(
        sql.Identifier("landing", table.landing_name), column_list
    )
    with source.cursor() as out_cursor, warehouse.cursor() as in_cursor:
        with out_cursor.copy(copy_out) as reader, in_cursor.copy(copy_in) as writer:
            for chunk in reader:
                writer.write(chunk)
        return in_cursor.rowcount


def truncate_landing(warehouse: psycopg.Connection) -> None:
    """Empty every landing table and forget the watermarks (tests, benchmarks).

    Truncate rather than drop: dbt's staging views depend on the tables.
    """
    for (name,) in warehouse.execute(
        "select table_name from information_schema.tables where table_schema = 'landing'"
    ).fetchall():
        warehouse.execute(sql.SQL("truncate {}").format(sql.Identifier("landing", name)))
    warehouse.execute("truncate ops.extract_watermark, ops.extract_batch")
