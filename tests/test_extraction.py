"""Extraction: real `airflow dags test` runs of extract_sources against PostgreSQL."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import psycopg
import pytest

from service_risk.db import connect
from service_risk.extract import extract_table
from service_risk.extract.core import truncate_landing
from service_risk.settings import get_settings
from service_risk.sources import SOURCE_TABLES, SourceTable
from tests.conftest import query

LAG = timedelta(minutes=30)  # SR_EXTRACT_LAG_MINUTES' default, which the DAG runs use
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
            "select read_from, low_water, high_water, row_count, rows_read from ops.extract_batch "
            "where landing_table = 'appeals__work_order' order by batch_id desc limit 1"
        ).fetchone()
    assert len(versions) == 2
    assert versions[-1][:2] == ("finished", datetime(2026, 11, 21, 0, 5))
    assert versions[0][2] < versions[-1][2]
    # The window reached back the lag; what it re-read of the first load did not land again.
    assert window[:4] == (
        datetime(2026, 11, 20, 23, 30),
        datetime(2026, 11, 21),
        datetime(2026, 11, 21, 0, 15),
        1,
    )
    assert window[4] > 1


def assert_batches_reconcile(landing_name: str) -> None:
    """Every batch's row_count is the rows landed with its _batch_id; it read what it landed at least."""
    recorded = query(
        "select batch_id, row_count, rows_read from ops.extract_batch where landing_table = %s",
        (landing_name,),
    )
    landed = dict(query(f'select _batch_id, count(*) from landing."{landing_name}" group by 1'))
    assert {batch: rows for batch, rows, _ in recorded if rows} == landed, landing_name
    assert all(read >= rows for _, rows, read in recorded), landing_name


def test_batches_reconcile_with_landing(initial_load):
    for table in SOURCE_TABLES:
        assert_batches_reconcile(table.landing_name)
    assert query(
        "select count(*) from ops.extract_batch where read_from is distinct from low_water - %s",
        (LAG,),
    ) == [(0,)]


@pytest.fixture
def probe_table():
    """A tiny source table of our own, to test the window borders exactly."""
    table = SourceTable("appeals", "extract_probe", ("probe_id",))
    with connect("appeals") as source, connect("warehouse") as warehouse:
        source.execute("drop table if exists extract_probe")
        source.execute("create table extract_probe (probe_id int, note text, updated_at timestamp)")
        warehouse.execute(f'drop table if exists landing."{table.landing_name}"')
        for bookkeeping in ("ops.extract_watermark", "ops.extract_batch"):
            warehouse.execute(f"delete from {bookkeeping} where landing_table = %s", (table.landing_name,))
    yield table
    with connect("appeals") as source:
        source.execute("drop table if exists extract_probe")


def extract_probe(table: SourceTable, high: datetime):
    settings = get_settings()
    return extract_table(table, high, settings.dsn("appeals"), settings.dsn("warehouse"), "pytest", LAG)


def at(clock: str) -> datetime:
    return datetime.fromisoformat(f"2026-11-20 {clock}")


def probe_rows(table: SourceTable) -> list[tuple]:
    """(probe_id, note, updated_at, _batch_id) of every landed row, in landing order."""
    return query(
        f'select probe_id, note, updated_at, _batch_id from landing."{table.landing_name}" '
        "order by _batch_id, probe_id, updated_at"
    )


def test_window_is_open_below_and_closed_above(probe_table):
    with connect("appeals") as source:
        source.execute(
            "insert into extract_probe values (0, 'z', '2026-11-20 09:45'), (1, 'a', '2026-11-20 10:00'), "
            "(2, 'b', '2026-11-20 10:15'), (3, 'c', '2026-11-20 10:15:00.000001')"
        )
    first = extract_probe(probe_table, at("10:15"))
    second = extract_probe(probe_table, at("10:30"))  # reads (09:45, 10:30]: 1, 2 again and 3
    assert (first.row_count, second.rows_read, second.row_count) == (3, 3, 1)
    assert (second.read_from, second.low_water) == (at("09:45"), at("10:15"))
    assert [(row[0], row[3]) for row in probe_rows(probe_table)] == [
        (0, first.batch_id),
        (1, first.batch_id),
        (2, first.batch_id),
        (3, second.batch_id),
    ]


def test_row_committed_after_the_run_lands_in_the_next_once(probe_table):
    """Issue 17: a row stamped with its transaction's now() that commits after a run passed that
    time is behind the watermark, but within the lag: the next run lands it, later runs do not."""
    with connect("appeals") as source:
        clock = source.execute("select localtimestamp").fetchone()[0]
        source.execute("insert into extract_probe values (1, 'before', %s)", (clock - timedelta(minutes=10),))
    runs = [extract_probe(probe_table, clock - timedelta(minutes=5))]
    with connect("appeals") as open_transaction:
        stamp = open_transaction.execute(
            "insert into extract_probe values (2, 'late', localtimestamp) returning updated_at"
        ).fetchone()[0]
        runs.append(extract_probe(probe_table, stamp + timedelta(seconds=1)))  # cannot see row 2 yet
    # committed now, stamped before the watermark
    runs += [extract_probe(probe_table, stamp + timedelta(minutes=m)) for m in (15, 30)]
    assert [(r.rows_read, r.row_count) for r in runs] == [(1, 1), (1, 0), (2, 1), (2, 0)]
    assert probe_rows(probe_table) == [
        (1, "before", clock - timedelta(minutes=10), runs[0].batch_id),
        (2, "late", stamp, runs[2].batch_id),
    ]
    assert_batches_reconcile(probe_table.landing_name)


def test_source_clock_skew_within_the_lag_loses_nothing(probe_table):
    with connect("appeals") as source:
        source.execute("insert into extract_probe values (1, 'a', '2026-11-20 09:50')")
    runs = [extract_probe(probe_table, at(clock)) for clock in ("10:00", "10:15")]
    with connect("appeals") as source:
        # Committed just after the 10:15 run by a source clock 5 minutes behind Airflow's.
        source.execute("insert into extract_probe values (2, 'behind', '2026-11-20 10:10:30')")
        # Committed at 10:27 by a source clock 5 minutes ahead: after the 10:30 run's high water.
        source.execute("insert into extract_probe values (3, 'ahead', '2026-11-20 10:32')")
    runs += [extract_probe(probe_table, at(clock)) for clock in ("10:30", "10:45", "11:00")]
    assert [r.row_count for r in runs] == [1, 0, 1, 1, 0]
    assert probe_rows(probe_table) == [
        (1, "a", at("09:50"), runs[0].batch_id),
        (2, "behind", at("10:10:30"), runs[2].batch_id),
        (3, "ahead", at("10:32"), runs[3].batch_id),
    ]
    # The batch record says which source time each run covered.
    assert query(
        "select read_from, low_water, high_water from ops.extract_batch where batch_id = %s",
        (runs[2].batch_id,),
    ) == [(at("09:45"), at("10:15"), at("10:30"))]
    assert_batches_reconcile(probe_table.landing_name)


def test_every_version_within_the_lag_lands_once(probe_table):
    """updated_at going backwards (a corrected source clock), or a change that kept its updated_at:
    a new version all the same, landed once; the overlap re-reads but never repeats a version."""
    with connect("appeals") as source:
        source.execute(
            "insert into extract_probe values (1, 'v1', '2026-11-20 10:20'), (2, 'w1', '2026-11-20 10:25')"
        )
    runs = [extract_probe(probe_table, at("10:30"))]
    with connect("appeals") as source:
        source.execute(
            "update extract_probe set note = 'v2', updated_at = '2026-11-20 10:10' where probe_id = 1"
        )
        source.execute("update extract_probe set note = 'w2' where probe_id = 2")
    runs += [extract_probe(probe_table, at(clock)) for clock in ("10:45", "11:00")]
    assert [(r.rows_read, r.row_count) for r in runs] == [(2, 2), (2, 2), (1, 0)]
    assert probe_rows(probe_table) == [
        (1, "v1", at("10:20"), runs[0].batch_id),
        (2, "w1", at("10:25"), runs[0].batch_id),
        (1, "v2", at("10:10"), runs[1].batch_id),
        (2, "w2", at("10:25"), runs[1].batch_id),
    ]
    assert_batches_reconcile(probe_table.landing_name)


def test_identical_rows_of_one_run_both_land_and_only_once(probe_table):
    """A source's exact duplicates land as they come (dbt quarantines the second as duplicate_key);
    the overlap's check against earlier batches is not thrown by them."""
    with connect("appeals") as source:
        source.execute("insert into extract_probe values (1, 'a', '2026-11-20 10:00')")
    runs = [extract_probe(probe_table, at("10:00"))]
    with connect("appeals") as source:
        source.execute(
            "insert into extract_probe values (2, 'd', '2026-11-20 10:05'), (2, 'd', '2026-11-20 10:05')"
        )
    runs += [extract_probe(probe_table, at(clock)) for clock in ("10:15", "10:30")]
    assert [(r.rows_read, r.row_count) for r in runs] == [(1, 1), (3, 2), (3, 0)]
    assert_batches_reconcile(probe_table.landing_name)


def test_landing_from_before_version_hashes_is_migrated(probe_table):
    with connect("appeals") as source:
        source.execute(
            "insert into extract_probe values (1, 'a', '2026-11-20 10:00'), (2, 'b', '2026-11-20 10:10')"
        )
    first = extract_probe(probe_table, at("10:15"))
    with connect("warehouse") as conn:  # the layout before issue 17 (the index goes with the column)
        conn.execute(f'alter table landing."{probe_table.landing_name}" drop column _version_hash')
    second = extract_probe(probe_table, at("10:30"))
    assert (first.row_count, second.rows_read, second.row_count) == (2, 2, 0)
    assert query(
        f'select count(*), count(distinct _version_hash) from landing."{probe_table.landing_name}"'
    ) == [(2, 2)]
    assert query(
        "select count(*) from pg_indexes where schemaname = 'landing' and indexname = %s",
        (f"{probe_table.landing_name}__version_idx",),
    ) == [(1,)]


def test_failed_copy_lands_nothing_and_keeps_the_watermark(probe_table):
    with connect("appeals") as source:
        source.execute("insert into extract_probe values (1, 'fine', '2026-11-20 10:00')")
    extract_probe(probe_table, datetime(2026, 11, 20, 11, 0))
    with connect("appeals") as source:
        source.execute("insert into extract_probe values (2, 'x', '2026-11-20 11:30')")
        source.execute("insert into extract_probe values (3, 'y', '2026-11-20 11:40')")
    # The warehouse side now rejects the data (a contract break upstream).
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
