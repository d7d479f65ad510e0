"""Moving frames in and out of PostgreSQL: COPY text formatting, streaming sinks, plan loading.

COPY with pre-formatted text lines was the fastest way measured here
(~200k rows/s per stream, write_row is several times slower). Each fact table
streams through its own connection, so the server parses one table's rows
while Python formats the next table's. (psycopg's queued writer thread was
measured no faster: it competes for the GIL.)
"""

from __future__ import annotations

import contextlib

import numpy as np
import psycopg

from service_risk.db import connect
from service_risk.settings import Settings
from service_risk.simulator.clock import format_times, from_datetime
from service_risk.simulator.schema import INT, TABLES, TIME, TableSchema

NULL = "\\N"
Frame = dict[str, np.ndarray]


def _format_column(values: np.ndarray, kind: str) -> list[str]:
    if kind == TIME:
        return format_times(np.asarray(values, dtype=np.int64))
    if kind == INT:
        if values.dtype != object:
            return values.astype(str).tolist()
        return [NULL if value is None else str(value) for value in values.tolist()]
    return [NULL if value is None else value for value in values.tolist()]


def copy_text(columns: tuple[tuple[str, str], ...], frame: Frame) -> str:
    """COPY text format; generated values never contain tabs, newlines or backslashes."""
    formatted = [_format_column(frame[name], kind) for name, kind in columns]
    if not formatted or not formatted[0]:
        return ""
    return "\n".join(map("\t".join, zip(*formatted, strict=True))) + "\n"


def copy_frame(
    conn: psycopg.Connection, target: str, columns: tuple[tuple[str, str], ...], frame: Frame
) -> None:
    text = copy_text(columns, frame)
    if not text:
        return
    names = ", ".join(name for name, _ in columns)
    with conn.cursor() as cur, cur.copy(f"copy {target} ({names}) from stdin") as copy:
        copy.write(text)


class CopySinks:
    """One long-running COPY per fact table, each on its own connection, committed on close."""

    def __init__(self, settings: Settings, tables: tuple[TableSchema, ...]):
        self._stack = contextlib.ExitStack()
        self._copies = {}
        self._connections = []
        for table in tables:
            conn = self._stack.enter_context(connect(table.system, settings))
            conn.execute("set synchronous_commit = off")
            cur = self._stack.enter_context(conn.cursor())
            statement = f"copy public.{table.name} ({', '.join(table.column_names)}) from stdin"
            self._copies[table.name] = self._stack.enter_context(cur.copy(statement))
            self._connections.append(conn)

    def write(self, table: str, frame: Frame) -> None:
        self.write_text(table, copy_text(TABLES[table].columns, frame))

    def write_text(self, table: str, text: str) -> None:
        if text:
            self._copies[table].write(text)

    def close(self) -> None:
        self._stack.close()  # ends every COPY, then commits each connection


def load_plans(conn: psycopg.Connection, table: str, due_by: int) -> Frame:
    """Take (delete and return) the plans with an event due by `due_by`."""
    schema = TABLES[table]
    columns = schema.plan_columns
    names = ", ".join(name for name, _ in columns)
    rows = conn.execute(
        f"delete from sim.{table}_plan where next_time <= %s returning {names}",
        (np.datetime64(int(due_by), "s").item(),),
    ).fetchall()
    key_positions = [position for position, (name, _) in enumerate(columns) if name in schema.key]
    rows.sort(key=lambda row: [row[position] for position in key_positions])  # heap order is not stable
    frame: Frame = {}
    for position, (name, kind) in enumerate(columns):
        values = [row[position] for row in rows]
        if kind == TIME:
            frame[name] = np.array([from_datetime(v) for v in values], dtype=np.int64)
        elif kind == INT:
            frame[name] = np.array(values, dtype=np.int64)
        else:
            frame[name] = np.array(values, dtype=object)
    return frame


def save_plans(conn: psycopg.Connection, table: str, plan: Frame, next_time: np.ndarray) -> None:
    columns = (*TABLES[table].plan_columns, ("next_time", TIME))
    copy_frame(conn, f"sim.{table}_plan", columns, {**plan, "next_time": next_time})


def save_manifest(conn: psycopg.Connection, entries: list[tuple]) -> None:
    if entries:
        frame = {
            name: np.array([e[i] for e in entries], dtype=object)
            for i, name in enumerate(("table_name", "row_key", "kind"))
        }
        copy_frame(
            conn, "sim.dirty_row", (("table_name", "text"), ("row_key", "text"), ("kind", "text")), frame
        )


def write_run_state(conn: psycopg.Connection, state: dict[str, str]) -> None:
    """`sim.run`: the simulated clock and what live mode needs to carry on (plain text values)."""
    conn.execute("delete from sim.run")
    with conn.cursor() as cur:
        cur.executemany("insert into sim.run (key, value) values (%s, %s)", sorted(state.items()))


def read_run_state(conn: psycopg.Connection) -> dict[str, str]:
    return dict(conn.execute("select key, value from sim.run").fetchall())


def take(frame: Frame, index: np.ndarray) -> Frame:
    return {name: values[index] for name, values in frame.items()}
