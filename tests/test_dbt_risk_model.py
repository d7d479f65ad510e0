"""The dbt risk model (shared/spec/risk-model.md) on simulated, extracted data.

Real PostgreSQL, real dbt, real Airflow: the module simulates a small province, lands it like the
extraction DAG does, builds the dbt project (models, data tests, unit tests) and then checks that
incremental runs give the rows of a full refresh (day by day, and after late and out-of-order
versions land), that every unit and day is published, one station-day against an independent
computation from the landing tables, and the Airflow DAG.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import subprocess
from collections import defaultdict

import psycopg
import pytest

from service_risk.db import connect, drop_database
from service_risk.settings import get_settings
from service_risk.setup_db import init_databases
from tests.conftest import query, run_dag, run_dbt

END = dt.date(2026, 6, 30)  # last simulated day
DAYS = 40
SCALE = 0.05
INCREMENTAL_DAYS = 3  # the sequence: a first run up to END - 3, then one run per day
INCREMENTAL_TABLES = (
    "staging.base_appeals__work_orders",
    "staging.base_appeals__call_records",
    "staging.base_appeals__callback_surveys",
    "staging.base_command__outage_events",
    "staging.base_command__repair_tasks",
    "intermediate.int_station_indicator_daily",
    "marts.fct_unit_indicator_daily",
    "marts.fct_unit_risk_daily",
)
# Bookkeeping of int_station_indicator_daily's builds (macros/risk_dates.sql): differs between
# incremental and full builds.
BOOKKEEPING = ("built_from_high_water", "landed_high_water", "built_at")
MOBILE = re.compile(r"^1[3-9][0-9]{9}$")


def dbt_vars(**values: str) -> str:
    return "--vars '" + json.dumps(values) + "'"


@pytest.fixture(scope="module")
def warehouse() -> str:
    """A fresh warehouse with DAYS simulated days landed, the dbt project built in full and published
    (the gate, then the published models: `service-risk publish`); dbt's build output."""
    from service_risk.extract.cli import extract_all
    from service_risk.simulator import simulate

    drop_database("warehouse")  # landing and watermarks must match the freshly simulated sources
    init_databases()
    simulate(days=DAYS, end_date=END, scale=SCALE, seed=11)
    extract_all(dt.datetime.combine(END + dt.timedelta(days=1), dt.time()), run_id="test_dbt")
    built = run_dbt("build", "--full-refresh")
    subprocess.run(["service-risk", "publish"], check=True, capture_output=True, text=True, timeout=600)
    return built


def test_build_passes_models_data_tests_and_unit_tests(warehouse):
    summary = re.search(r"Done\. PASS=(\d+) WARN=(\d+) ERROR=(\d+) SKIP=(\d+)", warehouse)
    assert summary, warehouse[-2000:]
    passed, _, errors, skipped = map(int, summary.groups())
    assert errors == 0 and skipped == 0
    assert passed > 400
    assert len(re.findall(r"PASS \S+::", warehouse)) >= 8, "the unit tests did not run"


def test_every_built_column_is_declared_and_described(warehouse, tmp_path):
    """`dbt docs generate` on the built warehouse: every column a model's or source's relation has is
    declared in its properties file with a description, and nothing declared is missing (tests/test_dbt_docs.py
    checks the rest of the documentation without a database)."""
    # Every model (the default selector would leave the published ones out), without compiling them
    # (a publication's vars would be needed): the manifest comes from parse.
    run_dbt("parse", "--target-path", str(tmp_path))
    run_dbt("docs", "generate", "--select", "service_risk", "--no-compile", "--target-path", str(tmp_path))
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    catalog = json.loads((tmp_path / "catalog.json").read_text())
    models = {uid: node for uid, node in catalog["nodes"].items() if uid.startswith("model.service_risk.")}
    assert len(models) == sum(
        1
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model" and node["config"]["enabled"]
    )
    sources = catalog["sources"]
    assert len(sources) == len(manifest["sources"])
    problems = []
    for uid, relation in {**models, **sources}.items():
        declared = (manifest["nodes"] if uid in models else manifest["sources"])[uid]["columns"]
        problems += [f"{uid}: {name} undeclared" for name in relation["columns"] if name not in declared]
        problems += [f"{uid}: {name} not built" for name in declared if name not in relation["columns"]]
        problems += [
            f"{uid}: {name} undescribed" for name, column in declared.items() if not column["description"]
        ]
    assert not problems, "\n".join(problems)


def test_every_day_and_every_level_is_published(warehouse):
    first_day = query("select min(accept_time)::date from staging.stg_appeals__work_orders")[0][0]
    units = dict(query("select org_level, count(*) from marts.dim_org_unit group by org_level"))
    assert set(units) == {"province", "city", "county", "station"} and units["province"] == 1
    published = query(
        "select risk_date, org_level, count(*) from marts.fct_unit_risk_daily group by risk_date, org_level"
    )
    days = {risk_date for risk_date, _, _ in published}
    assert days == {first_day + dt.timedelta(days=n) for n in range((END - first_day).days + 1)}
    assert all(count == units[level] for _, level, count in published)
    codes = dict(query("select risk_code, count(*) from marts.fct_unit_risk_daily group by risk_code"))
    assert set(codes) <= {"red", "yellow", "green"} and sum(codes.values()) == len(days) * sum(units.values())
    # Warm-up: the days before the longest window of the selected version fits into the history.
    longest_window = query("select max(window_days) from staging.stg_risk_model__indicators")[0][0]
    warm_up = query(
        "select risk_date, count(*) from marts.fct_unit_risk_daily where is_warm_up group by risk_date"
    )
    assert {day for day, _ in warm_up} == {
        first_day + dt.timedelta(days=n) for n in range(longest_window - 1)
    }
    assert all(count == sum(units.values()) for _, count in warm_up)


def test_incremental_day_by_day_equals_full_refresh(warehouse):
    copy_incremental_tables("test_full_refresh")

    # Whole-project runs: rebuilding a relation drops the views on top of it (dbt replaces it with
    # drop ... cascade), so a partial selection would lose the staging views.
    first_to = END - dt.timedelta(days=INCREMENTAL_DAYS)
    run_dbt("run", "--full-refresh", dbt_vars(risk_date_to=str(first_to)))
    assert query("select max(risk_date) from marts.fct_unit_risk_daily")[0][0] == first_to
    for offset in range(1, INCREMENTAL_DAYS + 1):
        day = first_to + dt.timedelta(days=offset)
        output = run_dbt("run", dbt_vars(risk_date_to=str(day)))
        # The first incremental run after a full refresh recomputes every day (the full build cannot
        # tell which batches its facts reflect); later ones, without new versions, only the lookback.
        assert touched_from(output) == ("-infinity" if offset == 1 else "none"), output[-3000:]

    assert_same_rows_as("test_full_refresh")


def test_late_and_out_of_order_versions_equal_a_full_refresh(warehouse):
    """Versions landed late for days before the lookback recompute those days: the incremental history
    stays equal to a full refresh of the same landing."""
    if query("select max(built_from_high_water) from intermediate.int_station_indicator_daily")[0][0] is None:
        run_dbt("run", dbt_vars(risk_date_to=str(END)))  # after a full build: the one run that recomputes all
    late_day = END - dt.timedelta(days=10)  # beyond the 3-day lookback
    new_order, station = query(
        "select order_no, station_code from intermediate.int_work_order_facts where order_type = 'fault_repair'"
        " and least(accept_time, deadline_time, reply_time, finish_time)::date = %s order by order_no limit 1",
        (late_day,),
    )[0]
    finished, finished_on = query(
        "select order_no, finish_date from intermediate.int_work_order_facts where not is_cancelled"
        " and finish_date = %s and accept_date between %s and %s order by order_no limit 1",
        (END - dt.timedelta(days=2), late_day + dt.timedelta(days=1), END - dt.timedelta(days=6)),
    )[0]
    recategorised, surveyed = [
        order_no
        for (order_no,) in query(
            "select order_no from intermediate.int_work_order_facts where not is_cancelled and"
            " accept_date = %s and least(accept_time, deadline_time, reply_time, finish_time)::date = %s"
            " and order_no <> %s order by order_no limit 2",
            (late_day + dt.timedelta(days=1), late_day + dt.timedelta(days=1), finished),
        )
    ]
    survey = query("select survey_id from landing.appeals__callback_survey order by survey_id limit 1")[0][0]
    a1_before = _a1_numerator(station, late_day)

    # An order moving on (finished today) reaches back to no earlier day.
    open_order = query(
        "select order_no from intermediate.int_work_order_facts where not is_cancelled and finish_time is null"
        " and least(accept_time, deadline_time, reply_time)::date < %s order by accept_time limit 1",
        (END - dt.timedelta(days=4),),  # before the lookback
    )[0][0]
    land_round(
        (
            "appeals__work_order",
            "order_no",
            open_order,
            f"status = 'finished', finish_time = '{END} 20:00', {{updated}}",
        ),
    )
    output = run_dbt("run", dbt_vars(risk_date_to=str(END)))
    assert touched_from(output) == str(END), output[-3000:]

    # A new order accepted 10 days ago, a finish moved to an earlier day, a late survey, a change of
    # category (it places the order: every day from its acceptance), a survey of an order not landed yet.
    late = land_round(
        ("appeals__work_order", "order_no", new_order, "order_no = 'LATE-' || order_no, {updated}"),
        (
            "appeals__work_order",
            "order_no",
            finished,
            "finish_time = accept_time + interval '2 hours', {updated}",
        ),
        ("appeals__work_order", "order_no", recategorised, "category = 'metering', {updated}"),
        (
            "appeals__callback_survey",
            "survey_id",
            survey,
            f"survey_id = 'LATE-S', order_no = '{surveyed}', result = 'unsatisfied',"
            f" survey_time = '{late_day + dt.timedelta(days=2)} 10:00', {{updated}}",
        ),
        (
            "appeals__callback_survey",
            "survey_id",
            survey,
            f"survey_id = 'ORPHAN-S', order_no = 'LATE-O2', survey_time = '{late_day + dt.timedelta(days=2)} 11:00',"
            " {updated}",
        ),
    )
    output = run_dbt("run", dbt_vars(risk_date_to=str(END)))
    assert touched_from(output) == str(late_day), output[-3000:]
    assert query(
        "select reason from quarantine.quarantine_appeals where row_key = 'ORPHAN-S' and is_current_version"
    ) == [("unknown_reference",)]
    assert _a1_numerator(station, late_day) == a1_before + 1
    assert query(
        "select finish_date from intermediate.int_work_order_facts where order_no = %s", (finished,)
    )[0][0] < finished_on - dt.timedelta(days=2)

    # Out of order: a version older than the one landed above lands after it; it is no current version.
    older = late - dt.timedelta(minutes=10)
    # The orphan survey's order lands: the survey, with no new version, counts (its reference is checked
    # again on every build of the incremental base model).
    land_round(
        ("appeals__work_order", "order_no", recategorised, f"status = 'cancelled', updated_at = '{older}'"),
        ("appeals__work_order", "order_no", new_order, "order_no = 'LATE-O2', {updated}"),
    )
    output = run_dbt("run", dbt_vars(risk_date_to=str(END)))
    assert touched_from(output) == str(late_day)  # the batches above, looked at again (risk_dates.sql)
    assert query(
        "select order_no from staging.stg_appeals__callback_surveys where survey_id = 'ORPHAN-S'"
    ) == [("LATE-O2",)]
    assert query(
        "select category from staging.stg_appeals__work_orders where order_no = %s", (recategorised,)
    ) == [("metering",)]

    copy_incremental_tables("test_incremental")
    run_dbt("run", "--full-refresh", dbt_vars(risk_date_to=str(END)))
    assert_same_rows_as("test_incremental")


def copy_incremental_tables(schema: str) -> None:
    with connect("warehouse", autocommit=True) as conn:
        conn.execute(f"drop schema if exists {schema} cascade")
        conn.execute(f"create schema {schema}")
        for table in INCREMENTAL_TABLES:
            conn.execute(f"create table {schema}.{table.split('.')[1]} as table {table}")


def assert_same_rows_as(schema: str) -> None:
    """Every incremental table holds the rows of its copy in `schema` (bookkeeping aside)."""
    for table in INCREMENTAL_TABLES:
        columns = ", ".join(
            name
            for (name,) in query(
                "select column_name from information_schema.columns where table_schema || '.' || table_name = %s"
                " order by ordinal_position",
                (table,),
            )
            if name not in BOOKKEEPING
        )
        copy = f"{schema}.{table.split('.')[1]}"
        only_here = query(
            f"select count(*) from (select {columns} from {table} except all select {columns} from {copy}) as d"
        )
        only_copy = query(
            f"select count(*) from (select {columns} from {copy} except all select {columns} from {table}) as d"
        )
        assert query(f"select count(*) from {table}")[0][0] > 0
        assert (only_here[0][0], only_copy[0][0]) == (0, 0), table


def touched_from(dbt_output: str) -> str:
    """The first day that the versions landed since the last build change, as int_station_indicator_daily
    logged it ('-infinity': every day; 'none': none)."""
    found = re.findall(
        r"int_station_indicator_daily: versions landed after .+ change risk days from (\S+)", dbt_output
    )
    assert len(found) == 1, dbt_output[-3000:]
    return found[0]


def land_round(*versions: tuple[str, str, str, str]) -> dt.datetime:
    """Land one extraction round as extract_sources does, a quarter of an hour after the last: a batch
    for every landing table (ops.extract_batch, the watermark) holding `versions`, each (table, key
    column, key, assignments): a copy of the key's latest landed version with the SQL assignments, where
    {updated} stands for an updated_at just before the round's high water. Returns the high water."""
    with connect("warehouse") as conn:
        high_water = conn.execute("select max(high_water) from ops.extract_watermark").fetchone()[0]
        high_water += dt.timedelta(minutes=15)
        updated = f"updated_at = '{high_water - dt.timedelta(minutes=1)}'"
        tables = conn.execute(
            "select landing_table from ops.extract_watermark order by last_batch_id"
        ).fetchall()
        for (table,) in tables:
            batch_id = conn.execute("select nextval('ops.extract_batch_id_seq')").fetchone()[0]
            rows = 0
            for landing_table, key_column, key, assignments in versions:
                if landing_table == table:
                    conn.execute(
                        f"create temp table version as select * from landing.{table} where {key_column} = %s"
                        " order by updated_at desc, _batch_id desc limit 1",
                        (key,),
                    )
                    conn.execute(
                        "update version set _batch_id = %s, _loaded_at = now(), "
                        + assignments.format(updated=updated),
                        (batch_id,),
                    )
                    rows += conn.execute(f"insert into landing.{table} select * from version").rowcount
                    conn.execute("drop table version")
            conn.execute(
                "insert into ops.extract_batch"
                " (batch_id, landing_table, low_water, high_water, row_count, run_id, finished_at)"
                " select %s, landing_table, high_water, %s, %s, 'test_late_data', now()"
                " from ops.extract_watermark where landing_table = %s",
                (batch_id, high_water, rows, table),
            )
            conn.execute(
                "update ops.extract_watermark set high_water = %s, last_batch_id = %s, updated_at = now()"
                " where landing_table = %s",
                (high_water, batch_id, table),
            )
    return high_water


def _a1_numerator(station: str, day: dt.date) -> int:
    return query(
        "select numerator from intermediate.int_station_indicator_daily"
        " where station_code = %s and indicator_code = 'A1' and risk_date = %s",
        (station, day),
    )[0][0]


def test_one_station_day_against_an_independent_computation(warehouse):
    """A2 and B1 of the busiest station on the last day, recomputed in Python from the landing tables."""
    orders = _landed_orders()
    customers = dict(query("select org_code, customer_count from landing.marketing__org_unit"))
    window = {END - dt.timedelta(days=n) for n in range(30)}
    appeals_in_window = defaultdict(int)
    for order in orders:
        if order["is_appeal"] and order["accept_time"].date() in window:
            appeals_in_window[order["station_code"]] += 1
    station = max(appeals_in_window, key=appeals_in_window.get)

    opinions = sum(
        1
        for o in orders
        if o["station_code"] == station
        and o["order_type"] == "opinion"
        and o["accept_time"].date() in window
        and o["status"] != "cancelled"
    )
    repeat_k, repeat_n = defaultdict(int), defaultdict(int)
    last_appeal: dict[tuple, dt.datetime] = {}
    for order in sorted(
        (o for o in orders if o["is_appeal"]), key=lambda o: (o["accept_time"], o["order_no"])
    ):
        who = order["customer_no"] or order["phone"]
        key = (order["station_code"], who, order["category"])
        limit = dt.timedelta(hours=24 if order["order_type"] == "fault_repair" else 168)
        repeat = who is not None and key in last_appeal and order["accept_time"] - last_appeal[key] <= limit
        if who is not None:
            last_appeal[key] = order["accept_time"]
        if order["accept_time"].date() in window:
            repeat_n[order["station_code"]] += 1
            repeat_k[order["station_code"]] += repeat
    province_rate = sum(repeat_k.values()) / sum(repeat_n.values())
    b1 = (repeat_k[station] + 20 * province_rate) / (repeat_n[station] + 20)
    a2 = opinions / customers[station] * 10_000

    a2_value, b1_value = query(
        "select a2_value, b1_value from marts.fct_unit_risk_daily where org_code = %s and risk_date = %s",
        (station, END),
    )[0]
    assert float(a2_value) == pytest.approx(round(a2, 4), abs=1e-9)
    assert float(b1_value) == pytest.approx(round(b1, 4), abs=1e-9)


def _landed_orders() -> list[dict]:
    """The latest landed version of each work order that a careful analyst would keep."""
    stations = {
        code
        for (code,) in query("select org_code from landing.marketing__org_unit where org_level = 'station'")
    }
    enums = {
        "order_type": {"fault_repair", "complaint", "report", "opinion", "suggestion", "praise", "consult",
                       "service_request", "urge"},
        "channel": {"95598_phone", "online_app", "12398", "12345"},
        "category": {"outage", "power_quality", "billing", "business_expansion", "metering", "service_attitude",
                     "other"},
        "status": {"accepted", "dispatched", "processing", "replied", "finished", "cancelled"},
    }  # fmt: skip
    high_water = query("select max(high_water) from ops.extract_batch")[0][0]
    rows = query(
        """
        select distinct on (order_no) order_no, station_code, order_type, channel, category, status,
            customer_no, caller_phone, accept_time, reply_time, finish_time
        from landing.appeals__work_order
        order by order_no, updated_at desc, _batch_id desc
        """
    )
    orders = []
    for (order_no, station, order_type, channel, category, status, customer_no, phone, accept, reply,
         finish) in rows:  # fmt: skip
        values = {"order_type": order_type, "channel": channel, "category": category, "status": status}
        if station not in stations or accept is None or any(values[k] not in enums[k] for k in enums):
            continue
        if (reply and reply < accept) or (finish and finish < accept):
            continue
        if any(t and t > high_water for t in (accept, reply, finish)):
            continue
        orders.append(
            {
                "order_no": order_no, "station_code": station, "order_type": order_type, "category": category,
                "status": status, "customer_no": customer_no or None, "accept_time": accept,
                "phone": phone if phone and MOBILE.match(phone) else None,
                "is_appeal": order_type != "praise" and status != "cancelled",
            }
        )  # fmt: skip
    return orders


def test_every_injected_dirty_row_is_quarantined(warehouse):
    settings = get_settings()
    for system in ("appeals", "command"):
        with psycopg.connect(settings.dsn(system)) as source:
            injected = set(source.execute("select table_name, row_key, kind from sim.dirty_row").fetchall())
        quarantined = set(query(f"select source_table, row_key, reason from quarantine.quarantine_{system}"))
        assert injected <= quarantined, sorted(injected - quarantined)[:10]
    # A malformed phone is repaired, not dropped: the order still counts.
    lost = query(
        """
        select count(*) from quarantine.quarantine_appeals as q
        where q.source_table = 'work_order' and q.quarantine_action = 'repaired' and q.is_current_version
            and q.row_key not in (select order_no from staging.stg_appeals__work_orders)
        """
    )[0][0]
    assert lost == 0


@pytest.mark.slow
def test_daily_risk_dag_backfills_every_day_in_one_run(warehouse):
    with connect("warehouse", autocommit=True) as conn:
        for table in INCREMENTAL_TABLES:  # the views on them too: the run builds them all from empty
            conn.execute(f"drop table if exists {table} cascade")
    logical_date = f"{END + dt.timedelta(days=1)}T00:30:00+08:00"
    result = run_dag("daily_risk", logical_date)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    first_day, last_day, days, levels = query(
        "select min(risk_date), max(risk_date), count(distinct risk_date), count(distinct org_level) "
        "from marts.fct_unit_risk_daily"
    )[0]
    assert first_day == query("select min(accept_date) from intermediate.int_work_order_facts")[0][0]
    assert last_day == END and days == (END - first_day).days + 1 and levels == 4
