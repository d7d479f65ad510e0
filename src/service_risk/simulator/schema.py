"""Table layouts of the three source systems (spec: shared/spec/sources.md) and the `sim` schema.

Fact tables get no primary key: the simulator deliberately inserts the same
key twice (`duplicate_key` dirty rows), as real extract journals can repeat a
key; plain indexes on the key keep look-ups fast. Master tables keep their
primary keys because they are never made dirty.
"""

from __future__ import annotations

from dataclasses import dataclass

from service_risk.simulator.profile import (
    AREA_TYPES,
    CATEGORIES,
    CHANNELS,
    COMPLAINT_LEVELS,
    CONTACT_ROLES,
    CUSTOMER_TYPES,
    ORDER_STATUSES,
    ORDER_TYPES,
    OUTAGE_TYPES,
    SURVEY_RESULTS,
    TEAM_TYPES,
)
from service_risk.sources import source_table

TEXT, INT, TIME = "text", "integer", "timestamp without time zone"


@dataclass(frozen=True)
class TableSchema:
    system: str
    name: str
    columns: tuple[tuple[str, str], ...]  # (name, SQL type) in table order
    hidden: tuple[str, ...] = ()  # plan-only event times kept in sim.<name>_plan
    is_fact: bool = True

    @property
    def key(self) -> tuple[str, ...]:
        return source_table(self.system, self.name).key

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.columns)

    @property
    def plan_columns(self) -> tuple[tuple[str, str], ...]:
        return self.columns + tuple((name, TIME) for name in self.hidden)

    def kind(self, column: str) -> str:
        return dict(self.plan_columns)[column]


MASTER_TABLES = (
    TableSchema("marketing", "org_unit", (
        ("org_code", TEXT), ("org_name", TEXT), ("org_level", TEXT), ("parent_code", TEXT),
        ("area_type", TEXT), ("customer_count", INT), ("updated_at", TIME),
    ), is_fact=False),
    TableSchema("marketing", "transformer_area", (
        ("ta_code", TEXT), ("ta_name", TEXT), ("station_code", TEXT), ("customer_count", INT),
        ("updated_at", TIME),
    ), is_fact=False),
    TableSchema("marketing", "customer", (
        ("customer_no", TEXT), ("customer_name", TEXT), ("mobile", TEXT), ("address", TEXT),
        ("station_code", TEXT), ("ta_code", TEXT), ("customer_type", TEXT), ("created_at", TIME),
        ("updated_at", TIME),
    ), is_fact=False),
    TableSchema("marketing", "team", (
        ("team_code", TEXT), ("team_name", TEXT), ("station_code", TEXT), ("team_type", TEXT),
        ("updated_at", TIME),
    ), is_fact=False),
    TableSchema("marketing", "staff", (
        ("staff_id", TEXT), ("staff_name", TEXT), ("org_code", TEXT), ("team_code", TEXT),
        ("position", TEXT), ("mobile", TEXT), ("email", TEXT), ("updated_at", TIME),
    ), is_fact=False),
    TableSchema("marketing", "unit_contact", (
        ("org_code", TEXT), ("role", TEXT), ("staff_id", TEXT), ("updated_at", TIME),
    ), is_fact=False),
)  # fmt: skip

FACT_TABLES = (
    TableSchema("appeals", "work_order", (
        ("order_no", TEXT), ("channel", TEXT), ("order_type", TEXT), ("category", TEXT),
        ("complaint_level", TEXT), ("customer_no", TEXT), ("caller_phone", TEXT), ("station_code", TEXT),
        ("ta_code", TEXT), ("parent_order_no", TEXT), ("accept_time", TIME), ("deadline_time", TIME),
        ("reply_time", TIME), ("finish_time", TIME), ("status", TEXT), ("return_count", INT),
        ("handler_team_code", TEXT), ("handler_staff_id", TEXT), ("content", TEXT), ("created_at", TIME),
        ("updated_at", TIME),
    ), hidden=("dispatch_time", "process_time", "cancel_time", "return_1_time", "return_2_time")),
    TableSchema("appeals", "call_record", (
        ("call_id", TEXT), ("call_time", TIME), ("caller_phone", TEXT), ("customer_no", TEXT),
        ("station_code", TEXT), ("duration_s", INT), ("ivr_path", TEXT), ("agent_id", TEXT),
        ("order_no", TEXT), ("updated_at", TIME),
    )),
    TableSchema("appeals", "callback_survey", (
        ("survey_id", TEXT), ("order_no", TEXT), ("survey_time", TIME), ("result", TEXT), ("comment", TEXT),
        ("updated_at", TIME),
    )),
    TableSchema("command", "outage_event", (
        ("outage_id", TEXT), ("ta_code", TEXT), ("outage_type", TEXT), ("station_code", TEXT),
        ("feeder_name", TEXT), ("start_time", TIME), ("planned_end_time", TIME), ("end_time", TIME),
        ("notice_time", TIME), ("affected_customers", INT), ("cause", TEXT), ("updated_at", TIME),
    )),
    TableSchema("command", "repair_task", (
        ("task_id", TEXT), ("order_no", TEXT), ("team_code", TEXT), ("dispatch_time", TIME),
        ("arrive_time", TIME), ("restore_time", TIME), ("updated_at", TIME),
    )),
)  # fmt: skip

TABLES = {table.name: table for table in MASTER_TABLES + FACT_TABLES}

# Allowed values per enumerated column (sources.md); anything else is a `bad_enum` row.
ENUMERATIONS: dict[tuple[str, str], tuple[str, ...]] = {
    ("org_unit", "org_level"): ("province", "city", "county", "station"),
    ("org_unit", "area_type"): AREA_TYPES,
    ("customer", "customer_type"): CUSTOMER_TYPES,
    ("team", "team_type"): TEAM_TYPES,
    ("unit_contact", "role"): CONTACT_ROLES,
    ("work_order", "channel"): CHANNELS,
    ("work_order", "order_type"): ORDER_TYPES,
    ("work_order", "category"): CATEGORIES,
    ("work_order", "complaint_level"): COMPLAINT_LEVELS,
    ("work_order", "status"): ORDER_STATUSES,
    ("callback_survey", "result"): SURVEY_RESULTS,
    ("outage_event", "outage_type"): OUTAGE_TYPES,
}

# Event times that must not lie after the simulated now (planned_end_time and
# deadline_time are plans and may lie ahead).
EVENT_TIMES: dict[str, tuple[str, ...]] = {
    "work_order": ("accept_time", "reply_time", "finish_time", "created_at"),
    "call_record": ("call_time",),
    "callback_survey": ("survey_time",),
    "outage_event": ("start_time", "end_time", "notice_time"),
    "repair_task": ("dispatch_time", "arrive_time", "restore_time"),
}

SIM_RUN_DDL = "create table sim.run (key text primary key, value text not null)"
SIM_DIRTY_DDL = (
    "create table sim.dirty_row (table_name text not null, row_key text not null, kind text not null)"
)


def create_table_sql(table: TableSchema, schema: str = "public", plan: bool = False) -> str:
    columns = table.plan_columns if plan else table.columns
    body = ", ".join(f"{name} {kind}" for name, kind in columns)
    if plan:
        body += ", next_time timestamp without time zone"
    elif not table.is_fact:
        body += f", primary key ({', '.join(table.key)})"
    return f"create table {schema}.{table.name}{'_plan' if plan else ''} ({body})"


def create_index_sql(table: TableSchema) -> list[str]:
    """updated_at (incremental extraction) and, where there is no primary key, the key.

    Built after the bulk load, which is faster than maintaining them during COPY.
    """
    statements = [f"create index on public.{table.name} (updated_at)"]
    if table.is_fact:
        statements.append(f"create index on public.{table.name} ({', '.join(table.key)})")
    return statements
