"""Source rows odder than sources.md lists: what a real 95598, command or marketing extract brings.

Each case copies a clean source row under a new key and spoils it one way. The pipeline must
quarantine it with the expected reason (or repair it and count the rest of the row) and publish the
day all the same. The key `ODD-<n>` lets the tests find each one in quarantine and staging.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import psycopg

from service_risk.extract.core import source_columns
from service_risk.settings import get_settings
from service_risk.sources import source_table


@dataclass(frozen=True)
class OddRow:
    system: str
    table: str
    what: str
    reason: str
    overrides: dict[str, str] = field(default_factory=dict)  # column -> SQL expression
    new_key: bool = True  # False: the key itself is spoilt (given in overrides)

    @property
    def repaired(self) -> bool:
        return self.reason in ("unknown_team",)


CASES: tuple[OddRow, ...] = (
    OddRow("appeals", "work_order", "empty order type", "missing_value", {"order_type": "''"}),
    OddRow("appeals", "work_order", "no channel", "missing_value", {"channel": "null"}),
    OddRow(
        "appeals", "work_order", "order type padded with blanks", "bad_enum", {"order_type": "' complaint '"}
    ),
    OddRow("appeals", "work_order", "status in capitals", "bad_enum", {"status": "upper(status)"}),
    OddRow("appeals", "work_order", "negative return count", "negative_value", {"return_count": "-3"}),
    OddRow(
        "appeals",
        "work_order",
        "accepted in 1900",
        "implausible_timestamp",
        {"accept_time": "'1900-01-01'", "created_at": "'1900-01-01'"},
    ),
    OddRow(
        "appeals",
        "work_order",
        "handler team unknown",
        "unknown_team",
        {"handler_team_code": "'NO-SUCH-TEAM'"},
    ),
    OddRow("appeals", "work_order", "no order number", "missing_value", {"order_no": "null"}, new_key=False),
    OddRow("appeals", "call_record", "negative duration", "negative_value", {"duration_s": "-1"}),
    OddRow("appeals", "call_record", "blank call id", "missing_value", {"call_id": "'  '"}, new_key=False),
    OddRow(
        "appeals",
        "callback_survey",
        "survey of no order",
        "unknown_reference",
        {"order_no": "'NO-SUCH-ORDER'"},
    ),
    OddRow("appeals", "callback_survey", "no result", "missing_value", {"result": "null"}),
    OddRow(
        "command",
        "outage_event",
        "transformer area unknown",
        "unknown_reference",
        {"ta_code": "'NO-SUCH-TA'"},
    ),
    OddRow(
        "command",
        "outage_event",
        "ends before it starts",
        "end_before_start",
        {"end_time": "start_time - interval '1 hour'"},
    ),
    OddRow(
        "command", "repair_task", "task of no order", "unknown_reference", {"order_no": "'NO-SUCH-ORDER'"}
    ),
    OddRow("command", "repair_task", "team unknown", "unknown_team", {"team_code": "'NO-SUCH-TEAM'"}),
    OddRow(
        "command",
        "repair_task",
        "arrives before dispatch",
        "end_before_start",
        {"arrive_time": "dispatch_time - interval '10 minutes'"},
    ),
    OddRow("marketing", "team", "no team type", "missing_value", {"team_type": "null"}),
    OddRow("marketing", "staff", "team unknown", "unknown_team", {"team_code": "'NO-SUCH-TEAM'"}),
    OddRow(
        "marketing",
        "unit_contact",
        "contact of no staff",
        "unknown_reference",
        {"staff_id": "'NO-SUCH-STAFF'"},
    ),
    OddRow(
        "marketing",
        "customer",
        "blank customer number",
        "missing_value",
        {"customer_no": "' '"},
        new_key=False,
    ),
    OddRow(
        "marketing", "transformer_area", "negative customer count", "negative_value", {"customer_count": "-5"}
    ),
    OddRow(
        "marketing", "org_unit", "parent unknown", "unknown_reference", {"parent_code": "'NO-SUCH-PARENT'"}
    ),
)


def odd_key(index: int) -> str:
    return f"ODD-{index}"


def inject(cases: tuple[OddRow, ...] = CASES) -> None:
    """Insert every case into its source system (one clean row copied and spoilt per case)."""
    settings = get_settings()
    for index, case in enumerate(cases):
        table = source_table(case.system, case.table)
        overrides = dict(case.overrides)
        if case.new_key:
            overrides.setdefault(table.key[0], f"'{odd_key(index)}'")
        with psycopg.connect(settings.dsn(case.system)) as source:
            columns = [name for name, _ in source_columns(source, table)]
            select_list = ", ".join(overrides.get(column, column) for column in columns)
            source.execute(
                f"insert into public.{case.table} ({', '.join(columns)}) "
                f"select {select_list} from public.{case.table} "
                f"where {table.key[0]} not like 'ODD-%%' and {table.key[0]} not in "
                "(select split_part(row_key, '|', 1) from sim.dirty_row where table_name = %s) "
                f"order by {table.key[0]} limit 1",
                (case.table,),
            )
