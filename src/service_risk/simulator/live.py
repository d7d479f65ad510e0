"""Live mode: keep the source systems moving after the batch, in near real time.

Every tick advances the simulated clock by `tick_seconds * speed` seconds
(a fixed step, so a run of N ticks is reproducible whatever the machine's
load). For each step it generates the new calls, appeals and outages, inserts
the rows that now exist and updates rows whose lifecycle moved on (reply,
finish, arrival, outage end...), bumping updated_at. Future events wait in
`sim.<table>_plan` (never in `public`); the clock and id counters are kept in
`sim.run`, so a later `simulate --days 0 --live` carries on where this stopped.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import signal
import threading
import time
from dataclasses import dataclass, field

import numpy as np
import psycopg

from service_risk.db import connect
from service_risk.settings import SYSTEM_DATABASES, Settings, get_settings
from service_risk.simulator.activity import IdAllocator, concat
from service_risk.simulator.clock import DAY, LOCAL_ZONE, NEVER, from_datetime, to_datetime
from service_risk.simulator.dirty import DirtyInjector, pick_dirty
from service_risk.simulator.engine import Simulation
from service_risk.simulator.lifecycle import materialise
from service_risk.simulator.pgio import (
    copy_frame,
    load_plans,
    read_run_state,
    save_manifest,
    save_plans,
    take,
    write_run_state,
)
from service_risk.simulator.profile import DEFAULT_PROFILE, SimulationProfile
from service_risk.simulator.schema import FACT_TABLES, TIME, TableSchema

Frame = dict[str, np.ndarray]


@dataclass
class LiveSummary:
    ticks: int = 0
    inserted: dict[str, int] = field(default_factory=lambda: {t.name: 0 for t in FACT_TABLES})
    updated: dict[str, int] = field(default_factory=lambda: {t.name: 0 for t in FACT_TABLES})
    simulated_now: dt.datetime | None = None
    seconds: float = 0.0

    def format(self) -> str:
        lines = [f"live: {self.ticks} ticks in {self.seconds:.1f} s, simulated now {self.simulated_now}"]
        lines += [
            f"  {name:<16} +{self.inserted[name]:>8,} inserted  {self.updated[name]:>8,} updated"
            for name in self.inserted
        ]
        return "\n".join(lines)


class LiveSimulator:
    """Applies simulated intervals to the databases; one transaction per interval."""

    def __init__(self, settings: Settings, dirty_rate: float | None, profile: SimulationProfile):
        self._stack = contextlib.ExitStack()
        self.connections = {
            system: self._stack.enter_context(connect(system, settings)) for system in SYSTEM_DATABASES
        }
        try:
            state = read_run_state(self.connections["appeals"])
        except psycopg.errors.UndefinedTable as exc:
            self.close()
            raise RuntimeError("no simulated data here: run `service-risk simulate` first") from exc
        self.sim = Simulation.create(
            int(state["seed"]),
            float(state["scale"]),
            dt.date.fromisoformat(state["first_day"]),
            profile,
            dt.date.fromisoformat(state["loop_start"]) if state.get("loop_start") else None,
        )
        self.dirty_rate = float(state["dirty_rate"]) if dirty_rate is None else dirty_rate
        self.clock = int(state["clock"])  # first simulated second not generated yet
        self.ids = IdAllocator(json.loads(state["id_counters"]))
        self.dirt = DirtyInjector(
            self.clock - 1, self.sim.world.station_code, json.loads(state["dirty_dealt"])
        )
        for table in FACT_TABLES:
            columns = ", ".join(f"{name} {kind}" for name, kind in table.columns)
            self.connections[table.system].execute(
                f"create temp table live_{table.name} ({columns}, prev_updated_at {TIME})"
            )

    def close(self) -> None:
        self._stack.close()

    @property
    def now(self) -> int:
        return self.clock - 1

    def advance(self, seconds: int, summary: LiveSummary) -> None:
        """Simulate the next `seconds`, split at midnight (generators work within one day)."""
        end = self.clock + seconds
        while self.clock < end:
            stop = min(end, (self.clock // DAY + 1) * DAY)
            self._interval(self.clock, stop, summary)
            self.clock = stop
        summary.simulated_now = to_datetime(self.now)

    def _interval(self, start: int, end: int, summary: LiveSummary) -> None:
        now, before = end - 1, start - 1
        self.dirt.now = now
        rng, pick_rng, spoil_rng = self.sim.interval_rngs(start)
        new_plans = self.sim.generator.generate(start, end, rng, self.ids)
        for table in FACT_TABLES:
            conn = self.connections[table.system]
            plan = concat([load_plans(conn, table.name, now), new_plans[table.name]], table.name)
            current, previous = materialise(table.name, plan, now), materialise(table.name, plan, before)
            appeared = np.flatnonzero(current.visible & ~previous.visible)
            changed = np.flatnonzero(
                previous.visible & (current.rows["updated_at"] != previous.rows["updated_at"])
            )
            picked = pick_dirty(len(appeared), self.dirty_rate, pick_rng)
            spoilt, entries, frozen = self.dirt.spoil(
                table.name, take(current.rows, appeared[picked]), spoil_rng
            )
            copy_frame(conn, f"public.{table.name}", table.columns, take(current.rows, appeared[~picked]))
            copy_frame(conn, f"public.{table.name}", table.columns, spoilt)
            save_manifest(conn, entries)
            self._update(conn, table, take(current.rows, changed), previous.rows["updated_at"][changed])
            still_open = current.next_time != NEVER
            still_open[appeared[picked][frozen]] = False
            keep = np.flatnonzero(still_open)
            save_plans(conn, table.name, take(plan, keep), current.next_time[keep])
            summary.inserted[table.name] += int((~picked).sum()) + len(spoilt["updated_at"])
            summary.updated[table.name] += len(changed)
        state = self.sim.run_state(now, self.dirty_rate, self.ids, self.dirt)
        for conn in self.connections.values():
            write_run_state(conn, state)
        for conn in self.connections.values():
            conn.commit()

    @staticmethod
    def _update(
        conn: psycopg.Connection, table: TableSchema, rows: Frame, prev_updated_at: np.ndarray
    ) -> None:
        """Rewrite changed rows; matching the previous updated_at leaves older duplicate versions alone."""
        if not len(prev_updated_at):
            return
        staging = f"live_{table.name}"
        conn.execute(f"truncate {staging}")
        copy_frame(
            conn,
            staging,
            (*table.columns, ("prev_updated_at", TIME)),
            {**rows, "prev_updated_at": prev_updated_at},
        )
        assignments = ", ".join(f"{name} = s.{name}" for name in table.column_names if name not in table.key)
        match = " and ".join(f"t.{name} = s.{name}" for name in table.key)
        conn.execute(
            f"update public.{table.name} t set {assignments} from {staging} s "
            f"where {match} and t.updated_at = s.prev_updated_at"
        )


def run_live(
    settings: Settings | None = None,
    tick_seconds: float = 5.0,
    speed: float = 60.0,
    duration: float | None = None,
    dirty_rate: float | None = None,
    progress: bool = False,
    profile: SimulationProfile = DEFAULT_PROFILE,
    stop: threading.Event | None = None,
    ticks: int | None = None,
    wall_clock: bool = False,
) -> LiveSummary:
    """Advance `tick_seconds * speed` simulated seconds every `tick_seconds` until stopped.

    With `wall_clock`, every tick instead advances the simulated clock to the wall clock (Asia/Shanghai),
    catching up first: the sources then change as a province in operation would, stamped with the
    time the extraction's windows are cut by.

    Stops after `duration` real seconds or `ticks` ticks, when `stop` is set, or on
    SIGINT/SIGTERM (finishing the current tick, so the databases stay consistent).
    """
    if tick_seconds <= 0 or speed <= 0:
        raise ValueError("tick_seconds and speed must be positive")
    started = time.monotonic()
    stop = stop or threading.Event()
    step = max(1, round(tick_seconds * speed))
    summary = LiveSummary()
    previous_handlers = _stop_on_signals(stop)  # first, so a signal during start-up is not lost
    live = None
    try:
        live = LiveSimulator(settings or get_settings(), dirty_rate, profile)
        deadline = started + duration if duration is not None else float("inf")
        next_tick = started + tick_seconds
        while not stop.is_set() and (ticks is None or summary.ticks < ticks):
            if next_tick > deadline:
                break
            if stop.wait(max(0.0, next_tick - time.monotonic())):
                break
            live.advance(wall_clock_step(live) if wall_clock else step, summary)
            summary.ticks += 1
            next_tick += tick_seconds
            if progress:
                total = sum(summary.inserted.values())
                print(
                    f"{summary.simulated_now}  +{total:,} rows, {sum(summary.updated.values()):,} updates",
                    flush=True,
                )
    finally:
        for signum, handler in previous_handlers.items():
            signal.signal(signum, handler)
        if live is not None:
            live.close()
    summary.seconds = time.monotonic() - started
    return summary


def wall_clock_step(live: LiveSimulator) -> int:
    """Simulated seconds from the live clock up to the local wall clock (0 when it is ahead)."""
    return max(0, from_datetime(dt.datetime.now(LOCAL_ZONE).replace(tzinfo=None)) + 1 - live.clock)


def _stop_on_signals(stop: threading.Event) -> dict:
    """SIGINT/SIGTERM set `stop` (only possible from the main thread)."""
    if threading.current_thread() is not threading.main_thread():
        return {}
    previous = {}
    for signum in (signal.SIGINT, signal.SIGTERM):
        previous[signum] = signal.getsignal(signum)
        signal.signal(signum, lambda *_: stop.set())
    return previous
