"""The source-system contract (`shared/spec/sources.md`): systems, tables, keys.

One place for what the simulator creates and the extraction reads. Landing
tables are named `landing.<system>__<table>`.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SourceTable:
    system: str  # key in settings.SYSTEM_DATABASES
    name: str
    key: tuple[str, ...]

    @property
    def landing_name(self) -> str:
        return f"{self.system}__{self.name}"


SOURCE_TABLES: tuple[SourceTable, ...] = (
    SourceTable("marketing", "org_unit", ("org_code",)),
    SourceTable("marketing", "transformer_area", ("ta_code",)),
    SourceTable("marketing", "customer", ("customer_no",)),
    SourceTable("marketing", "team", ("team_code",)),
    SourceTable("marketing", "staff", ("staff_id",)),
    SourceTable("marketing", "unit_contact", ("org_code", "role")),
    SourceTable("appeals", "work_order", ("order_no",)),
    SourceTable("appeals", "call_record", ("call_id",)),
    SourceTable("appeals", "callback_survey", ("survey_id",)),
    SourceTable("command", "outage_event", ("outage_id", "ta_code")),
    SourceTable("command", "repair_task", ("task_id",)),
)


def source_table(system: str, name: str) -> SourceTable:
    for table in SOURCE_TABLES:
        if (table.system, table.name) == (system, name):
            return table
    raise KeyError(f"unknown source table {system}.{name}")
