"""Extraction: real `airflow dags test` runs of extract_sources against PostgreSQL."""

from __future__ import annotations

from datetime import date, datetime

import psycopg
import pytest

from service_risk.db import connect
from service_risk.extract import extract_table
from service_risk.extract.core import truncate_landing
from service_risk.settings import get_settings
from service_risk.sources import SOURCE_TABLES, SourceTable

END = date(2026, 11, 20)
FIRST_RUN = "2026-11-21T00:00:00+08:00"
SECOND_RUN = "2026-11-21T00:15:00+08:00"


def reset_landing() -> None:
    with connect("warehouse") as conn:
        truncate_landing(conn)


def fingerprint(conn: psycopg.Connection, relation: str, table: SourceTable) -> tuple[int, str]:
    """Row count and an order-independent digest of (key, updated_at) over every row."""
    key = " || '|' || ".join(f"coalesce({column}::text, '')" for column in table.key)
    return conn.execute(
        f"select count(*), md5(coalesce(string_agg({key} || '@' || updated_at::text, ',' "
        f"order by {key}, updated_at), '')) from {relation}"
    ).fetchone()


def landed_and_source(table: SourceTable) -> tuple[tuple[int, str], tuple[int, str]]:
    with connect(table.system) as source, connect("warehouse") as warehouse:
        return (
            fingerprint(warehouse, f'landing."{table.landing_name}"', table),
            fingerprint(source, f"public.{table.name}", table),
        )


@pytest.fixture(scope="module")
def initial_load():
    from service_risk.simulator import simulate

    simulate(days=7, end_date=END, scale=0.02, seed=7, dirty_rate=0.01)
    reset_landing()
    return run_dag_or_fail(FIRST_RUN)


def run_dag_or_fail(logical_date: str):
    from tests.conftest import run_dag

    result = run_dag("extract_sources", logical_date)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result


def test_initial_load_lands_every_source_row(initial_load):
    for table in SOURCE_TABLES:
        landed, source = landed_and_source(table)
        assert source[0] > 0, f"simulator produced no {table.name} rows"
        assert landed == source, table.landing_name


def test_rerun_lands_nothing_twice(initial_load):
    with connect("warehouse") as conn:
        batches_before = conn.execute("select count(*) from ops.extract_batch").fetchone()[0]
    run_dag_or_fail(FIRST_RUN)
    with connect("warehouse") as conn:
        assert conn.execute("select count(*) from ops.extract_batch").fetchone()[0] == batches_before
    for table in SOURCE_TABLES:
        landed, source = landed_and_source(table)
        assert landed == source, table.landing_name


def test_source_update_arrives_as_new_landed_version(initial_load):
    with connect("appeals") as conn:
        order_no = conn.execute(
            "select order_no from work_order where status <> 'finished' order by order_no limit 1"
        ).fetchone()[0]
        conn.execute(
            "update work_order set status = 'finished', updated_at = '2026-11-21 00:05:00' "
            "where order_no = %s",
            (order_no,),
        )
    run_dag_or_fail(SECOND_RUN)
    with connect("warehouse") as conn:
        versions = conn.execute(
            "select status, updated_at, _batch_id from landing.appeals__work_order "
            "where order_no = %s order by _batch_id",
            (order_no,),
        ).fetchall()
        window = conn.execute(
            "select low_water, high_water, row_count from ops.extract_batch "
            "where landing_table = 'appeals__work_order' order by batch_id desc limit 1"
        ).fetchone()
    assert len(versions) == 2
    assert versions[-1][:2] == ("finished", datetime(2026, 11, 21, 0, 5))
    assert versions[0][2] < versions[-1][2]
    assert window == (datetime(2026, 11, 21, 0, 0), datetime(2026, 11, 21, 0, 15), 1)


@pytest.fixture
def probe_table():
    """A tiny source table of our own, to test the window borders exactly."""
    table = SourceTable("appeals", "extract_probe", ("probe_id",))
    with connect("appeals") as source, connect("warehouse") as warehouse:
        source.execute("drop table if exists extract_probe")
        source.execute("create table extract_probe (probe_id int, note text, updated_at timestamp)")
        warehouse.execute(f'drop table if exists landing."{table.landing_name}"')
        warehouse.execute("delete from ops.extract_watermark where landing_table = %s", (table.landing_name,))
    yield table
    with connect("appeals") as source:
        source.execute("drop table if exists extract_probe")


def extract_probe(table: SourceTable, high: datetime):
    settings = get_settings()
    return extract_table(table, high, settings.dsn("appeals"), settings.dsn("warehouse"), "pytest")


def test_window_is_open_below_and_closed_above(probe_table):
    with connect("appeals") as source:
        source.execute(
            "insert into extract_probe values (1, 'a', '2026-11-20 10:00'), (2, 'b', '2026-11-20 10:15'), "
            "(3, 'c', '2026-11-20 10:15:00.000001')"
        )
    first = extract_probe(probe_table, datetime(2026, 11, 20, 10, 15))
    second = extract_probe(probe_table, datetime(2026, 11, 20, 10, 30))
    assert (first.row_count, second.row_count) == (2, 1)
    with connect("warehouse") as conn:
        landed = conn.execute(
            f'select probe_id, _batch_id from landing."{probe_table.landing_name}" order by probe_id'
        ).fetchall()
    assert landed == [(1, first.batch_id), (2, first.batch_id), (3, second.batch_id)]


def test_failed_copy_lands_nothing_and_keeps_the_watermark(probe_table):
    with connect("appeals") as source:
        source.execute("insert into extract_probe values (1, 'fine', '2026-11-20 10:00')")
    extract_probe(probe_table, datetime(2026, 11, 20, 11, 0))
    with connect("appeals") as source:
        source.execute("insert into extract_probe values (2, 'x', '2026-11-20 11:30')")
        source.execute("insert into extract_probe values (3, 'y', '2026-11-20 11:40')")
    # The warehouse side now rejects the data mid-stream (a contract break upstream).
    with connect("warehouse") as conn:
        conn.execute(
            f'alter table landing."{probe_table.landing_name}" add constraint probe_note_check '
            "check (note <> 'y')"
        )
    with pytest.raises(psycopg.errors.CheckViolation):
        extract_probe(probe_table, datetime(2026, 11, 20, 12, 0))
    with connect("warehouse") as conn:
        count = conn.execute(f'select count(*) from landing."{probe_table.landing_name}"').fetchone()[0]
        watermark = conn.execute(
            "select high_water from ops.extract_watermark where landing_table = %s",
            (probe_table.landing_name,),
        ).fetchone()[0]
    assert count == 1
    assert watermark == datetime(2026, 11, 20, 11, 0)
