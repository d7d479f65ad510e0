"""Dirty data (sources.md, "Dirty data the pipeline must survive") and its manifest.

A share `rate` of the rows written to each fact table is spoilt with exactly
one kind of defect that applies to that table. Kinds are dealt round-robin
per table, so every kind shows up as soon as a table has a few dirty rows.
Each spoilt row is recorded in `sim.dirty_row` (table, key joined with '|',
kind) so tests can prove that the pipeline quarantines exactly these rows.
A `duplicate_key` row is an extra, older version of a clean row: same key,
earlier updated_at, different values; the latest version is the right one.
"""

from __future__ import annotations

import numpy as np

from service_risk.simulator.clock import DAY, HOUR, MINUTE, NEVER
from service_risk.simulator.schema import TABLES

Frame = dict[str, np.ndarray]

KINDS: dict[str, tuple[str, ...]] = {
    "work_order": (
        "unknown_station", "finish_before_accept", "reply_before_accept", "missing_accept_time",
        "future_timestamp", "bad_enum", "malformed_phone", "duplicate_key",
    ),
    "call_record": ("unknown_station", "future_timestamp", "malformed_phone", "duplicate_key"),
    "callback_survey": ("future_timestamp", "bad_enum", "duplicate_key"),
    "outage_event": ("unknown_station", "future_timestamp", "bad_enum", "duplicate_key"),
    "repair_task": ("future_timestamp", "duplicate_key"),
}  # fmt: skip
BAD_VALUES: dict[str, tuple[str, ...]] = {
    "channel": ("wechat", "95598"),
    "order_type": ("repair", "投诉"),
    "category": ("power_outage", "misc"),
    "status": ("closed", "done"),
    "result": ("very_satisfied", "n/a"),
    "outage_type": ("unplanned", "maintenance"),
}
ENUM_COLUMNS = {
    "work_order": ("channel", "order_type", "category", "status"),
    "callback_survey": ("result",),
    "outage_event": ("outage_type",),
}
# Event times that a `future_timestamp` row pushes ahead, latest recorded one first.
FUTURE_COLUMNS = {
    "work_order": ("finish_time", "reply_time", "accept_time"),
    "call_record": ("call_time",),
    "callback_survey": ("survey_time",),
    "outage_event": ("start_time",),
    "repair_task": ("restore_time", "arrive_time", "dispatch_time"),
}


def row_keys(table: str, rows: Frame, index: np.ndarray) -> list[str]:
    key = TABLES[table].key
    return ["|".join(parts) for parts in zip(*(rows[k][index].tolist() for k in key), strict=True)]


def _malformed_phones(rng: np.random.Generator, phones: np.ndarray) -> np.ndarray:
    """Phone numbers that are not an 11-digit mobile: truncated, landline, letters, too long."""
    out = []
    variants = rng.integers(0, 4, len(phones)).tolist()
    for i, (phone, variant) in enumerate(zip(phones.tolist(), variants, strict=True)):
        phone = phone if isinstance(phone, str) and len(phone) == 11 else "13800000000"
        if variant == 0:
            out.append(phone[:10])
        elif variant == 1:
            out.append(f"0531-{phone[4:11]}")
        elif variant == 2:
            out.append(phone[:7] + "x" + phone[8:])
        else:
            out.append(phone + str(i % 10))
    return np.array(out, dtype=object)


def pick_dirty(n: int, rate: float, rng: np.random.Generator) -> np.ndarray:
    """Which of n rows to spoil: each independently with probability `rate`."""
    return rng.random(n) < rate if rate > 0 else np.zeros(n, bool)


class DirtyInjector:
    def __init__(self, now: int, station_codes: np.ndarray, dealt: dict[str, int] | None = None):
        self.now, self.station_codes = now, station_codes
        self.dealt = dict(dealt or {})  # dirty rows dealt per table so far: the round-robin position

    def spoil(
        self, table: str, rows: Frame, rng: np.random.Generator
    ) -> tuple[Frame, list[tuple], np.ndarray]:
        """Give every row one kind of defect. Returns the rows (with the older duplicate
        versions appended), manifest entries and, per input row, whether it is now frozen
        dirt (never updated again; a duplicated row itself stays clean and live)."""
        n = len(rows["updated_at"])
        kinds = KINDS[table]
        first = self.dealt.get(table, 0)
        self.dealt[table] = first + n
        dealt = np.array(kinds, dtype=object)[(first + np.arange(n)) % len(kinds)]
        rows = {column: values.copy() for column, values in rows.items()}
        manifest: list[tuple] = []
        frozen = np.zeros(n, bool)
        duplicates = None
        for kind in kinds:
            index = np.flatnonzero(dealt == kind)
            if len(index) == 0:
                continue
            manifest += [(table, key, kind) for key in row_keys(table, rows, index)]
            if kind == "duplicate_key":
                duplicates = self._older_versions(table, rows, index, rng)
                continue
            frozen[index] = True
            getattr(self, f"_{kind}")(table, rows, index, rng)
        if duplicates is not None:
            rows = {column: np.concatenate([rows[column], duplicates[column]]) for column in rows}
        return rows, manifest, frozen

    def _unknown_station(self, table, rows, index, rng) -> None:
        real = self.station_codes[rng.integers(0, len(self.station_codes), len(index))]
        # Station numbers 90-99 are never used (hierarchy.MAX_STATIONS_PER_COUNTY).
        rows["station_code"][index] = [
            f"{code[:-2]}9{d}" for code, d in zip(real, rng.integers(0, 10, len(index)), strict=True)
        ]

    def _finish_before_accept(self, table, rows, index, rng) -> None:
        rows["finish_time"][index] = rows["accept_time"][index] - rng.integers(HOUR, 3 * DAY, len(index))

    def _reply_before_accept(self, table, rows, index, rng) -> None:
        rows["reply_time"][index] = rows["accept_time"][index] - rng.integers(HOUR, 3 * DAY, len(index))

    def _missing_accept_time(self, table, rows, index, rng) -> None:
        rows["accept_time"][index] = NEVER

    def _future_timestamp(self, table, rows, index, rng) -> None:
        """Push the latest recorded event time one to two years past now (a wrong clock)."""
        ahead = self.now + rng.integers(365 * DAY, 730 * DAY, len(index))
        for position, row in enumerate(index.tolist()):
            for column in FUTURE_COLUMNS[table]:
                if rows[column][row] != NEVER:
                    rows[column][row] = ahead[position]
                    break

    def _bad_enum(self, table, rows, index, rng) -> None:
        columns = ENUM_COLUMNS[table]
        for position, row in enumerate(index.tolist()):
            column = columns[position % len(columns)]
            rows[column][row] = BAD_VALUES[column][int(rng.integers(0, len(BAD_VALUES[column])))]

    def _malformed_phone(self, table, rows, index, rng) -> None:
        rows["caller_phone"][index] = _malformed_phones(rng, rows["caller_phone"][index])

    def _older_versions(self, table: str, rows: Frame, index: np.ndarray, rng) -> Frame:
        """An earlier snapshot of each row: earlier updated_at and some values not yet set."""
        older = {column: values[index].copy() for column, values in rows.items()}
        older["updated_at"] = older["updated_at"] - rng.integers(MINUTE, HOUR, len(index))
        if table == "work_order":
            older["status"][:] = "accepted"
            for column in ("reply_time", "finish_time"):
                older[column][:] = NEVER
            older["return_count"][:] = 0
            older["handler_team_code"][:] = None
            older["handler_staff_id"][:] = None
            older["content"] = np.array(
                [text.split("，")[0] + "（待补充）" for text in older["content"].tolist()], dtype=object
            )
        elif table == "call_record":
            older["duration_s"] = np.maximum(1, older["duration_s"] // 2)
        elif table == "callback_survey":
            older["result"] = np.where(older["result"] == "unreachable", "satisfied", "unreachable")
            older["comment"][:] = None
        elif table == "outage_event":
            older["end_time"][:] = NEVER
            older["cause"][:] = "原因待查"
        elif table == "repair_task":
            older["arrive_time"][:] = NEVER
            older["restore_time"][:] = NEVER
        return older
