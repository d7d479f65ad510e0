"""Turn a row's full plan into what the source system shows at a moment T.

The generators decide a row's whole life up front (accepted, dispatched,
returned, replied, finished...). `materialise` hides what has not happened by
T, derives `status` and `return_count`, and sets `updated_at` to the latest
event at or before T. The batch materialises at the simulated now; live mode
materialises the same plans again at later moments, so both agree.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from service_risk.simulator.clock import NEVER
from service_risk.simulator.schema import TABLES

Frame = dict[str, np.ndarray]
_BEFORE_ALL = np.iinfo(np.int64).min  # "no event yet" while taking the latest event


@dataclass(frozen=True)
class Lifecycle:
    appears: str  # the time at which the row is inserted
    revealed: tuple[str, ...] = ()  # public time columns that stay empty until they happen


LIFECYCLES = {
    "work_order": Lifecycle("accept_time", ("reply_time", "finish_time")),
    "call_record": Lifecycle("updated_at"),  # inserted when the call ends
    "callback_survey": Lifecycle("survey_time"),
    "outage_event": Lifecycle("start_time", ("end_time",)),
    "repair_task": Lifecycle("dispatch_time", ("arrive_time", "restore_time")),
}


def event_columns(table: str) -> tuple[str, ...]:
    lifecycle = LIFECYCLES[table]
    return (lifecycle.appears, *lifecycle.revealed, *TABLES[table].hidden)


@dataclass
class Snapshot:
    visible: np.ndarray  # bool per plan row: the row exists at T
    rows: Frame  # public columns of every plan row as of T (meaningful where visible)
    next_time: np.ndarray  # the next event after T, NEVER when the row is final


def materialise(table: str, plan: Frame, at: int) -> Snapshot:
    lifecycle = LIFECYCLES[table]
    events = np.stack([plan[column] for column in event_columns(table)])
    happened = events <= at
    rows = {column: plan[column] for column in TABLES[table].column_names if column in plan}
    for column in lifecycle.revealed:
        rows[column] = np.where(plan[column] <= at, plan[column], NEVER)
    if table == "work_order":
        _order_state(plan, at, rows)
    latest = np.where(happened, events, _BEFORE_ALL).max(axis=0, initial=_BEFORE_ALL)
    rows["updated_at"] = np.where(latest == _BEFORE_ALL, NEVER, latest)
    next_time = np.where(happened, NEVER, events).min(axis=0, initial=NEVER)
    return Snapshot(plan[lifecycle.appears] <= at, rows, next_time)


def _order_state(plan: Frame, at: int, rows: Frame) -> None:
    status = np.full(len(plan["accept_time"]), "accepted", dtype=object)
    for column, value in (
        ("dispatch_time", "dispatched"),
        ("process_time", "processing"),
        ("reply_time", "replied"),
        ("finish_time", "finished"),
        ("cancel_time", "cancelled"),
    ):
        status[plan[column] <= at] = value
    rows["status"] = status
    rows["return_count"] = (plan["return_1_time"] <= at).astype(np.int64) + (plan["return_2_time"] <= at)
    dispatched = plan["dispatch_time"] <= at
    rows["handler_team_code"] = np.where(dispatched, plan["handler_team_code"], None)
    rows["handler_staff_id"] = np.where(dispatched, plan["handler_staff_id"], None)
