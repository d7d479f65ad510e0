"""Source-system simulator against a real PostgreSQL (databases prefixed `test_`)."""

from __future__ import annotations

import datetime as dt
import re
import signal
import subprocess
import sys
import threading
import time
from collections import Counter

import pytest

from service_risk.db import connect
from service_risk.simulator import run_live, simulate
from service_risk.simulator.behaviour import Behaviour
from service_risk.simulator.clock import day_start
from service_risk.simulator.dirty import KINDS
from service_risk.simulator.fake import MOBILE_PATTERN
from service_risk.simulator.geography import CITIES
from service_risk.simulator.hierarchy import build_world
from service_risk.simulator.profile import DEFAULT_PROFILE
from service_risk.simulator.schema import ENUMERATIONS, EVENT_TIMES, FACT_TABLES, MASTER_TABLES, TABLES

END = dt.date(2024, 7, 31)
RUN = {"days": 10, "end_date": END, "scale": 0.02, "seed": 5, "dirty_rate": 0.02}
NOW = dt.datetime.combine(END, dt.time(23, 59, 59))
SPEC_COUNTIES = [12, 10, 8, 6, 5, 11, 12, 11, 6, 4, 4, 12, 11, 8, 7, 9]


@pytest.fixture(scope="module")
def small_run():
    summary = simulate(**RUN)
    return summary, fingerprints()


def fingerprints() -> dict[str, str]:
    """md5 over every table's rows in a fixed order, and over the dirt manifests."""
    result = {}
    for system in ("marketing", "appeals", "command"):
        with connect(system) as conn:
            relations = [f"public.{t.name}" for t in MASTER_TABLES + FACT_TABLES if t.system == system]
            for relation in [*relations, "sim.dirty_row"]:
                result[f"{system}:{relation}"] = conn.execute(
                    f"select md5(coalesce(string_agg(r::text, E'\\n' order by r::text), '')) from {relation} r"
                ).fetchone()[0]
    return result


def query(system: str, sql: str, params=None) -> list[tuple]:
    with connect(system) as conn:
        return conn.execute(sql, params).fetchall()


def manifest(system: str) -> dict[str, set[str]]:
    """Dirty keys per table."""
    keys: dict[str, set[str]] = {}
    for table, key, _ in query(system, "select table_name, row_key, kind from sim.dirty_row"):
        keys.setdefault(table, set()).add(key)
    return keys


def key_sql(table: str, alias: str | None = None) -> str:
    """The manifest's row_key as SQL: key columns joined with '|'."""
    return " || '|' || ".join(f"{alias}.{k}" if alias else k for k in TABLES[table].key)


def stations() -> set[str]:
    return {
        code for (code,) in query("marketing", "select org_code from org_unit where org_level = 'station'")
    }


# --------------------------------------------------------------------------- hierarchy
def test_hierarchy_at_scale_1_matches_the_province():
    world = build_world(42, 1.0, day_start(END))
    org = world.tables["org_unit"]
    levels = Counter(org["org_level"].tolist())
    assert levels["province"] == 1 and levels["city"] == 16 and levels["county"] == 136
    assert 1250 <= levels["station"] <= 1350
    cities = [name for name, level in zip(org["org_name"], org["org_level"], strict=True) if level == "city"]
    assert cities == [f"{city}供电公司" for city, _ in CITIES]
    parent = dict(zip(org["org_code"].tolist(), org["parent_code"].tolist(), strict=True))
    counties_per_city = Counter(
        parent[c] for c, lv in zip(org["org_code"], org["org_level"], strict=True) if lv == "county"
    )
    assert [counties_per_city[f"SD{i:02d}"] for i in range(1, 17)] == SPEC_COUNTIES
    for code, parent_code in parent.items():  # readable hierarchical codes
        assert parent_code is None or code.startswith(parent_code)
    assert abs(world.customers.sum() - 52_000_000) <= 0.05 * 52_000_000
    areas = world.tables["transformer_area"]
    per_station = Counter()
    for station, customers in zip(
        areas["station_code"].tolist(), areas["customer_count"].tolist(), strict=True
    ):
        per_station[station] += customers
    assert dict(per_station) == dict(zip(world.station_code.tolist(), world.customers.tolist(), strict=True))
    assert world.ta_count.min() >= 30 and world.ta_count.max() <= 120
    area_types = Counter(t for t in org["area_type"].tolist() if t)
    assert 0.18 < area_types["urban"] / levels["station"] < 0.32
    assert 0.05 < area_types["remote"] / levels["station"] < 0.15
    contacts = Counter(world.tables["unit_contact"]["org_code"].tolist())
    assert set(contacts.values()) == {2} and len(contacts) == len(org["org_code"])


def test_small_scale_keeps_every_city_and_county_station():
    world = build_world(42, 0.01, day_start(END))
    levels = Counter(world.tables["org_unit"]["org_level"].tolist())
    assert levels["city"] == 16 and levels["county"] == 16 and levels["station"] == 16


def test_training_from_the_loop_start_makes_a_trouble_spell_milder():
    """With a loop start, a station trained on a 1st (its spell held its plateau on at least
    `plateau_days` days of the month before) has the rest of that spell `severity_factor` as
    severe; before the loop start, and for stations never trained, nothing changes."""
    world = build_world(42, 0.2, day_start(END))
    loop_start = dt.date(2026, 3, 1)
    untouched = Behaviour(world, 42, DEFAULT_PROFILE)
    trained = Behaviour(world, 42, DEFAULT_PROFILE, loop_start)
    training, ramp_share = DEFAULT_PROFILE.training, DEFAULT_PROFILE.trouble.ramp_share
    epoch = dt.date(1970, 1, 1)
    milder_days = 0
    for offset in range(-40, 200):
        date = loop_start + dt.timedelta(days=offset)
        day = (date - epoch).days
        before, after = untouched.conditions(day), trained.conditions(day)
        for station in range(world.n_stations):
            old = before.equipment[station] + before.staffing[station]
            new = after.equipment[station] + after.staffing[station]
            if date < loop_start or old == 0:
                assert new == old
                continue
            current = (untouched.episode_start[station] <= day + 0.5).sum() - 1
            start = untouched.episode_start[station, current]
            length = untouched.episode_length[station, current]
            plateau_from, plateau_to = start + ramp_share * length, start + (1 - ramp_share) * length
            was_trained, first = False, date.replace(day=1)
            while first >= loop_start:  # every 1st since the loop start, back from this month's
                month_before = (first - dt.timedelta(days=1)).replace(day=1)
                held = min(plateau_to, (first - epoch).days) - max(plateau_from, (month_before - epoch).days)
                was_trained |= start < (first - epoch).days and held >= training.plateau_days
                first = month_before
            assert new == pytest.approx(old * (training.severity_factor if was_trained else 1.0)), (
                station,
                date,
            )
            milder_days += was_trained
    assert milder_days > 100  # the effect happens, on station-days of trained spells


# ------------------------------------------------------------------------- small run
def test_small_run_has_plausible_volumes(small_run):
    summary, _ = small_run
    n_stations = len(stations())
    customers = query("marketing", "select sum(customer_count) from org_unit where org_level = 'station'")[0][
        0
    ]
    days = RUN["days"]
    orders = summary.rows["work_order"]
    per_10k_day = orders / (customers / 1e4) / days
    assert 0.7 < per_10k_day < 2.5, per_10k_day  # ~1.15 at scale 1 (6k/day for 52M customers)
    assert 1.3 < summary.rows["call_record"] / orders < 2.6
    assert 0.8 < summary.rows["outage_event"] / n_stations / days < 3.0
    (fault, finished) = query(
        "appeals",
        "select count(*) filter (where order_type = 'fault_repair'), count(*) filter (where status = 'finished') "
        "from work_order",
    )[0]
    assert 0.35 < fault / orders < 0.7
    assert 0.95 < summary.rows["repair_task"] / fault < 1.15
    assert 0.3 < summary.rows["callback_survey"] / finished < 0.5
    assert summary.seconds < 20


def test_same_seed_same_bytes_other_seed_differs(small_run):
    _, first = small_run
    simulate(**{**RUN, "seed": 6})
    other = fingerprints()
    simulate(**RUN)
    assert fingerprints() == first
    differing = [name for name in first if first[name] != other[name]]
    assert "appeals:public.work_order" in differing and "marketing:public.customer" in differing


def test_enumerations_hold_on_clean_rows(small_run):
    for (table, column), allowed in ENUMERATIONS.items():
        system = TABLES[table].system
        dirty = manifest(system).get(table, set())
        values = query(system, f"select {key_sql(table)}, {column} from public.{table}")
        bad = [
            (key, value)
            for key, value in values
            if key not in dirty and value is not None and value not in allowed
        ]
        assert not bad, (table, column, bad[:5])
    dirty = manifest("appeals")["work_order"]
    levels = query("appeals", "select order_no, order_type from work_order where complaint_level is not null")
    assert {order_type for order_no, order_type in levels if order_no not in dirty} == {"complaint"}


def test_clean_rows_satisfy_every_rule(small_run):
    known = stations()
    mobile = re.compile(MOBILE_PATTERN)
    dirty = manifest("appeals") | manifest("command")
    for table in FACT_TABLES:
        times = EVENT_TIMES[table.name]
        columns = ["station_code" if "station_code" in table.column_names else "null", "updated_at", *times]
        rows = query(
            table.system, f"select {key_sql(table.name)}, {', '.join(columns)} from public.{table.name}"
        )
        clean = [row for row in rows if row[0] not in dirty.get(table.name, set())]
        assert len({row[0] for row in clean}) == len(clean), f"duplicate keys in {table.name}"
        for key, station, *stamps in clean:
            assert station is None or station in known, (table.name, key)
            assert all(t is None or t <= NOW for t in stamps), (table.name, key, stamps)
    orders = query(
        "appeals",
        "select order_no, caller_phone, accept_time, reply_time, finish_time, station_code, "
        "order_type, parent_order_no from work_order",
    )
    by_no = {row[0]: row for row in orders}
    clean_orders = [row for row in orders if row[0] not in dirty["work_order"]]
    for order_no, phone, accept, reply, finish, station, order_type, parent in clean_orders:
        assert accept is not None and mobile.match(phone), order_no
        assert (reply is None or reply >= accept) and (finish is None or finish >= accept), order_no
        if order_type == "urge" and parent not in dirty["work_order"]:
            assert by_no[parent][5] == station and by_no[parent][2] < accept, order_no
    calls = query("appeals", "select call_id, caller_phone from call_record")
    assert all(mobile.match(phone) for key, phone in calls if key not in dirty["call_record"])
    share_urge = sum(row[6] == "urge" for row in clean_orders) / len(clean_orders)
    assert 0.01 < share_urge < 0.06


def test_every_dirty_kind_is_recorded_at_the_configured_rate(small_run):
    summary, _ = small_run
    rate = RUN["dirty_rate"]
    recorded = Counter()
    for system in ("appeals", "command"):
        for table, kind, count in query(
            system, "select table_name, kind, count(*) from sim.dirty_row group by 1, 2"
        ):
            recorded[(table, kind)] = count
    for table, kinds in KINDS.items():
        assert all(recorded[(table, kind)] > 0 for kind in kinds), (table, recorded)
    total_dirty = sum(recorded.values())
    total_rows = sum(summary.rows[t.name] for t in FACT_TABLES)
    assert 0.6 * rate < total_dirty / total_rows < 1.4 * rate
    for table in ("work_order", "call_record"):
        share = sum(c for (t, _), c in recorded.items() if t == table) / summary.rows[table]
        assert 0.5 * rate < share < 1.6 * rate, (table, share)


CHECKS = {
    "unknown_station": "station_code <> all(%(stations)s)",
    "finish_before_accept": "finish_time < accept_time",
    "reply_before_accept": "reply_time < accept_time",
    "missing_accept_time": "accept_time is null",
    "malformed_phone": "caller_phone !~ %(mobile)s",
}


def test_every_manifest_row_really_is_bad(small_run):
    params = {"stations": sorted(stations()), "mobile": MOBILE_PATTERN, "now": NOW}
    for system in ("appeals", "command"):
        entries = query(system, "select table_name, kind, count(*) from sim.dirty_row group by 1, 2")
        for table, kind, count in entries:
            columns = TABLES[table].column_names
            if kind == "duplicate_key":
                condition = f"(select count(*) from public.{table} d where {' and '.join(f'd.{k} = t.{k}' for k in TABLES[table].key)}) > 1"
            elif kind == "future_timestamp":
                condition = " or ".join(f"{c} > %(now)s" for c in EVENT_TIMES[table])
            elif kind == "bad_enum":
                condition = " or ".join(
                    f"{c} <> all(%(enum_{c})s)" for (t, c) in ENUMERATIONS if t == table and c in columns
                )
                params |= {f"enum_{c}": list(v) for (t, c), v in ENUMERATIONS.items() if t == table}
            else:
                condition = CHECKS[kind]
            matched = query(
                system,
                f"select count(distinct m.row_key) from sim.dirty_row m join public.{table} t "
                f"on m.row_key = {key_sql(table, 't')} "
                f"where m.table_name = %(table)s and m.kind = %(kind)s and ({condition})",
                {**params, "table": table, "kind": kind},
            )[0][0]
            assert matched == count, (table, kind, matched, count)


def test_live_mode_inserts_and_updates_deterministically(small_run):
    before = {t.name: query(t.system, f"select count(*) from public.{t.name}")[0][0] for t in FACT_TABLES}
    try:
        first = run_live(tick_seconds=0.05, speed=7200, ticks=4)
        after_first = fingerprints()
        assert first.ticks == 4 and first.simulated_now == NOW + dt.timedelta(seconds=4 * 360)
        assert first.inserted["work_order"] > 0 and first.inserted["call_record"] > 0
        assert first.updated["work_order"] > 0
        for table in FACT_TABLES:
            count, latest = query(table.system, f"select count(*), max(updated_at) from public.{table.name}")[
                0
            ]
            assert count == before[table.name] + first.inserted[table.name]
            assert latest <= first.simulated_now
        moved_on = query(
            "appeals",
            "select count(*) from work_order where accept_time <= %s and updated_at > %s",
            (NOW, NOW),
        )[0][0]
        assert moved_on > 0  # existing rows were updated, not only new ones inserted
        now = query("appeals", "select value from sim.run where key = 'now'")[0][0]
        assert now == str(first.simulated_now)
        simulate(**RUN)
        run_live(tick_seconds=0.05, speed=7200, ticks=4)
        assert fingerprints() == after_first
    finally:
        simulate(**RUN)


def test_live_mode_stops_after_duration_on_request_and_on_sigterm(small_run):
    try:
        summary = run_live(tick_seconds=0.2, speed=600, duration=0.9)
        assert 1 <= summary.ticks <= 5 and summary.seconds < 3

        stop, finished = threading.Event(), []
        worker = threading.Thread(target=lambda: finished.append(run_live(tick_seconds=0.1, stop=stop)))
        worker.start()
        time.sleep(0.5)
        stop.set()
        worker.join(5)
        assert finished and not worker.is_alive()

        script = "from service_risk.simulator import run_live; print(run_live(tick_seconds=0.1).format())"
        process = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
        time.sleep(2.5)
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=10)
        assert process.returncode == 0 and output.startswith("live:"), output
    finally:
        simulate(**RUN)
