"""The province and its cities from the warehouse's org dimension, and per-unit entries of a file."""

from __future__ import annotations

from dataclasses import dataclass

import psycopg

from service_risk.bi.config import SupersetError
from service_risk.db import connect
from service_risk.settings import Settings


@dataclass(frozen=True)
class OrgUnit:
    level: str  # province | city
    code: str
    name: str


def org_units(settings: Settings | None = None) -> list[OrgUnit]:
    """The province and every city of published.org_unit (the province first)."""
    try:
        with connect("warehouse", settings) as conn:
            rows = conn.execute(
                "select org_level, org_code, org_name from published.org_unit "
                "where org_level in ('province', 'city') order by org_level desc, org_code"
            ).fetchall()
    except psycopg.errors.UndefinedTable as exc:
        raise SupersetError(
            "published.org_unit does not exist: build and publish the warehouse first"
        ) from exc
    units = [OrgUnit(*row) for row in rows]
    if not any(unit.level == "province" for unit in units):
        raise SupersetError("published.org_unit has no province: build and publish the warehouse first")
    return units


@dataclass(frozen=True)
class UnitLeader:
    """A current contact of a unit in the marketing system: who leads it, in which role."""

    org_code: str
    contact_role: str
    staff_id: str


def unit_leaders(contact_roles: list[str], settings: Settings | None = None) -> list[UnitLeader]:
    """The marketing system's current unit contacts in these roles (staging: the project's own
    connection reads it; Superset's reader role cannot). Only the staff id: no name, no phone."""
    with connect("warehouse", settings) as conn:
        rows = conn.execute(
            "select org_code, contact_role, staff_id from staging.stg_marketing__unit_contacts "
            "where contact_role = any(%s) order by staff_id, org_code, contact_role",
            (list(contact_roles),),
        ).fetchall()
    return [UnitLeader(*row) for row in rows]


def _fill(value, fields: dict[str, str], sql_fields: dict[str, str], key: str = ""):
    if isinstance(value, str):
        return value.format(**(sql_fields if key in ("clause", "sql") else fields))
    if isinstance(value, list):
        return [_fill(v, fields, sql_fields, key) for v in value]
    if isinstance(value, dict):
        return {k: _fill(v, fields, sql_fields, k) for k, v in value.items()}
    return value


def for_each_unit(entries: list[dict], units: list[OrgUnit]) -> list[tuple[dict, OrgUnit | None]]:
    """Each entry once, or once per unit of its `for_each` level with {org_code}/{org_name} filled
    in (escaped as a SQL literal in `clause` and `sql`)."""
    expanded = []
    for entry in entries:
        level = entry.get("for_each")
        if level is None:
            expanded.append((entry, None))
            continue
        for unit in (u for u in units if u.level == level):
            fields = {"org_code": unit.code, "org_name": unit.name}
            sql_fields = {k: v.replace("'", "''") for k, v in fields.items()}
            filled = {k: _fill(v, fields, sql_fields, k) for k, v in entry.items() if k != "for_each"}
            expanded.append((filled, unit))
    return expanded
