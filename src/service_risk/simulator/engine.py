"""Batch fill: recreate the three source databases and simulate `days` days up to `end_date`."""

from __future__ import annotations

import datetime as dt
import json
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np
from tqdm import tqdm

from service_risk.db import connect, ensure_database
from service_risk.settings import SYSTEM_DATABASES, Settings, get_settings
from service_risk.simulator.activity import ActivityGenerator, IdAllocator
from service_risk.simulator.behaviour import Behaviour
from service_risk.simulator.clock import DAY, NEVER, day_start, default_end_date, to_datetime
from service_risk.simulator.dirty import DirtyInjector, pick_dirty
from service_risk.simulator.hierarchy import World, build_world
from service_risk.simulator.lifecycle import materialise
from service_risk.simulator.pgio import (
    CopySinks,
    copy_frame,
    copy_text,
    save_manifest,
    save_plans,
    take,
    write_run_state,
)
from service_risk.simulator.profile import DEFAULT_PROFILE, SimulationProfile
from service_risk.simulator.schema import (
    FACT_TABLES,
    MASTER_TABLES,
    SIM_DIRTY_DDL,
    SIM_RUN_DDL,
    TableSchema,
    create_index_sql,
    create_table_sql,
)

Frame = dict[str, np.ndarray]
INDEX_WORKERS = 3


@dataclass
class SimulationSummary:
    rows: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def total_rows(self) -> int:
        return sum(self.rows.values())

    @property
    def rows_per_second(self) -> float:
        return self.total_rows / self.seconds if self.seconds else 0.0

    def format(self) -> str:
        width = max(len(name) for name in self.rows) if self.rows else 0
        lines = [f"  {name:<{width}}  {count:>12,}" for name, count in self.rows.items()]
        lines.append(f"  {'total':<{width}}  {self.total_rows:>12,}")
        lines.append(f"{self.seconds:.1f} s, {self.rows_per_second:,.0f} rows/s")
        return "\n".join(lines)


@dataclass
class Simulation:
    """Everything the generators need, rebuilt identically from (seed, scale, first day, loop start)."""

    seed: int
    scale: float
    first_day: dt.date
    profile: SimulationProfile
    world: World
    generator: ActivityGenerator
    loop_start: dt.date | None = None

    @classmethod
    def create(
        cls,
        seed: int,
        scale: float,
        first_day: dt.date,
        profile: SimulationProfile,
        loop_start: dt.date | None = None,
    ) -> Simulation:
        world = build_world(seed, scale, day_start(first_day), profile.hierarchy)
        generator = ActivityGenerator(world, Behaviour(world, seed, profile, loop_start), profile)
        return cls(seed, scale, first_day, profile, world, generator, loop_start)

    def interval_rngs(self, start: int) -> tuple[np.random.Generator, ...]:
        """Independent streams for the interval starting at `start`: its events, the choice
        of the rows to spoil and their defects."""
        return tuple(np.random.default_rng([self.seed, purpose, start]) for purpose in (9, 10, 11))

    def run_state(
        self, now: int, dirty_rate: float, ids: IdAllocator | None, dirt: DirtyInjector
    ) -> dict[str, str]:
        return {
            "now": str(to_datetime(now)),
            "clock": str(now + 1),
            "seed": str(self.seed),
            "scale": repr(self.scale),
            "first_day": self.first_day.isoformat(),
            "loop_start": self.loop_start.isoformat() if self.loop_start else "",
            "dirty_rate": repr(dirty_rate),
            "id_counters": json.dumps(ids.counters if ids else {}, sort_keys=True),
            "dirty_dealt": json.dumps(dirt.dealt, sort_keys=True),
        }


def recreate_databases(settings: Settings) -> None:
    """Create missing databases; drop and recreate the source tables and the `sim` schema."""
    for system in SYSTEM_DATABASES:
        ensure_database(system, settings)
        with connect(system, settings) as conn:
            conn.execute("drop schema if exists sim cascade")
            conn.execute("create schema sim")
            conn.execute(SIM_RUN_DDL)
            conn.execute(SIM_DIRTY_DDL)
            for table in MASTER_TABLES + FACT_TABLES:
                if table.system != system:
                    continue
                conn.execute(f"drop table if exists public.{table.name}")
                conn.execute(create_table_sql(table))
                if table.is_fact:
                    conn.execute(create_table_sql(table, schema="sim", plan=True))
                    conn.execute(f"create index on sim.{table.name}_plan (next_time)")


def _largest_first(summary: SimulationSummary) -> list[TableSchema]:
    tables = MASTER_TABLES + FACT_TABLES
    return sorted(tables, key=lambda table: -summary.rows.get(table.name, 0))


def _index_and_analyze(table: TableSchema, settings: Settings) -> None:
    with connect(table.system, settings, autocommit=True) as conn:
        conn.execute("set maintenance_work_mem = '256MB'")
        for statement in create_index_sql(table):
            conn.execute(statement)
        conn.execute(f"analyze public.{table.name}")


@dataclass
class PreparedDay:
    """One simulated day as of now: clean rows already COPY-formatted, the rows picked for
    dirt (spoilt afterwards: the round-robin over kinds runs across days) and the plans of
    rows with events still to come."""

    start: int
    clean_text: dict[str, str]
    clean_rows: dict[str, int]
    to_spoil: dict[str, Frame]
    open_plans: dict[str, tuple[Frame, np.ndarray, np.ndarray]]  # plan, next event, position in to_spoil


def prepare_day(sim: Simulation, start: int, now: int, dirty_rate: float) -> PreparedDay:
    rng, pick_rng, _ = sim.interval_rngs(start)
    plans = sim.generator.generate(start, start + DAY, rng, IdAllocator())
    day = PreparedDay(start, {}, {}, {}, {})
    for table in FACT_TABLES:
        snapshot = materialise(table.name, plans[table.name], now)
        visible = np.flatnonzero(snapshot.visible)
        picked = pick_dirty(len(visible), dirty_rate, pick_rng)
        clean, spoil = visible[~picked], visible[picked]
        day.clean_text[table.name] = copy_text(table.columns, take(snapshot.rows, clean))
        day.clean_rows[table.name] = len(clean)
        day.to_spoil[table.name] = take(snapshot.rows, spoil)
        position = np.full(len(snapshot.next_time), -1)
        position[spoil] = np.arange(len(spoil))
        keep = np.flatnonzero(snapshot.next_time != NEVER)
        day.open_plans[table.name] = (take(plans[table.name], keep), snapshot.next_time[keep], position[keep])
    return day


def simulate(
    days: int = 90,
    end_date: dt.date | None = None,
    scale: float = 1.0,
    seed: int = 42,
    dirty_rate: float = 0.002,
    settings: Settings | None = None,
    progress: bool = False,
    profile: SimulationProfile = DEFAULT_PROFILE,
    loop_start: dt.date | None = None,
) -> SimulationSummary:
    """Fill the source databases with `days` days ending on `end_date` (now = its 23:59:59). From
    `loop_start` on, the closed loop's training makes trained stations' trouble milder (None: never)."""
    if days < 0 or not 0 < scale <= 8 or not 0 <= dirty_rate < 1:
        raise ValueError("need days >= 0, 0 < scale <= 8 and 0 <= dirty_rate < 1")
    started = time.perf_counter()
    settings = settings or get_settings()
    end_date = end_date or default_end_date()
    first_day = end_date - dt.timedelta(days=max(days, 1) - 1)
    now = day_start(end_date) + DAY - 1
    sim = Simulation.create(seed, scale, first_day, profile, loop_start)
    summary = SimulationSummary()
    dirt = DirtyInjector(now, sim.world.station_code)
    manifest: dict[str, list[tuple]] = {system: [] for system in SYSTEM_DATABASES}
    pending: dict[str, list[tuple[Frame, np.ndarray]]] = {table.name: [] for table in FACT_TABLES}
    starts = [day_start(first_day) + offset * DAY for offset in range(days)]

    recreate_databases(settings)
    with connect("marketing", settings) as conn:
        for table in MASTER_TABLES:
            copy_frame(conn, f"public.{table.name}", table.columns, sim.world.tables[table.name])
            summary.rows[table.name] = len(sim.world.tables[table.name][table.key[0]])
    summary.rows |= {table.name: 0 for table in FACT_TABLES}
    sinks = CopySinks(settings, FACT_TABLES)
    try:
        for start in tqdm(starts, desc="simulating days", unit="day", disable=not progress):
            day = prepare_day(sim, start, now, dirty_rate)
            spoil_rng = sim.interval_rngs(start)[2]
            for table in FACT_TABLES:
                sinks.write_text(table.name, day.clean_text[table.name])
                spoilt, entries, frozen = dirt.spoil(table.name, day.to_spoil[table.name], spoil_rng)
                sinks.write(table.name, spoilt)
                summary.rows[table.name] += day.clean_rows[table.name] + len(spoilt["updated_at"])
                manifest[table.system] += entries
                # Rows with events still to come wait in sim.<table>_plan for live mode;
                # spoilt rows are frozen as they are.
                plan, next_time, position = day.open_plans[table.name]
                keep = np.ones(len(position), bool)
                keep[position >= 0] = ~frozen[position[position >= 0]]
                pending[table.name].append((take(plan, keep), next_time[keep]))
    finally:
        sinks.close()

    state = sim.run_state(now, dirty_rate, None, dirt)
    for system in SYSTEM_DATABASES:
        with connect(system, settings) as conn:
            conn.execute("set synchronous_commit = off")
            for table in FACT_TABLES:
                if table.system == system:
                    for plan, next_time in pending[table.name]:
                        save_plans(conn, table.name, plan, next_time)
            save_manifest(conn, manifest[system])
            write_run_state(conn, state)
    # Index after the load; tables in parallel (each build is single-threaded sorting).
    with ThreadPoolExecutor(max_workers=INDEX_WORKERS) as pool:
        list(pool.map(lambda table: _index_and_analyze(table, settings), _largest_first(summary)))
    summary.seconds = time.perf_counter() - started
    return summary
