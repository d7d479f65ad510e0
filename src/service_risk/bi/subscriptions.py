"""Scheduled e-mail reports and alerts as code: superset/subscriptions.yaml, applied by name.

- each report is created *by the login of the unit it is for* (access.yaml: city_<code> or
  province), so ALERT_REPORTS_EXECUTORS = [CREATOR_OWNER, ...] renders it as that user and
  RLS limits it to the unit;
- the data engineers (DATA_ENGINEER_EMAILS) are co-owners of everything: Superset mails a
  failed report's error to its owners. They get inactive users (no login) for that;
- alerts need the warehouse database, which region users cannot see: the admin owns them,
  and each city's alert carries a chart of that city's red stations (TEXT = table in mail).

Recipients come from the marketing system's unit contacts (staging schema, read with the
project's own warehouse connection: Superset's reader role cannot read staging).
Everything made here carries the description `subscriptions.yaml` (ownership.py).
"""

from __future__ import annotations

import json
import secrets
from pathlib import Path

import yaml

from service_risk.bi.access import AccessPlan
from service_risk.bi.bundle import bundle_configs, dataset_uuid
from service_risk.bi.client import SupersetClient
from service_risk.bi.config import ADMIN_USER, SUBSCRIPTIONS_FILE, SupersetSettings
from service_risk.bi.org_units import OrgUnit, for_each_unit
from service_risk.bi.ownership import DATA_ENGINEER_LAST_NAME, MANAGED_DESCRIPTION, Wanted
from service_risk.db import connect

DATA_ENGINEER_PREFIX = "de_"
DATA_ENGINEER_ROLE = "sr_viewer"  # the API wants a role; this one sees no data


def load_subscriptions(path: Path = SUBSCRIPTIONS_FILE) -> dict:
    return yaml.safe_load(path.read_text(encoding="utf-8")) or {}


def unit_contacts(contact_roles: set[str]) -> dict[str, list[str]]:
    """org_code -> work e-mails of the unit's contacts in these roles (marketing system)."""
    with connect("warehouse") as conn:
        rows = conn.execute(
            "select contact.org_code, staff.email "
            "from staging.stg_marketing__unit_contacts as contact "
            "join staging.stg_marketing__staff_members as staff using (staff_id) "
            "where contact.contact_role = any(%s) and staff.email is not null "
            "group by 1, 2 order by 1, 2",
            (sorted(contact_roles),),
        ).fetchall()
    contacts: dict[str, list[str]] = {}
    for code, address in rows:
        contacts.setdefault(code, []).append(address)
    return contacts


def apply_data_engineers(client: SupersetClient, settings: SupersetSettings) -> dict[str, int]:
    """One inactive user per DATA_ENGINEER_EMAILS address (co-owner: it gets failure mails)."""
    users = client.ids_by("/api/v1/security/users/", "username")
    role_id = client.ids_by("/api/v1/security/roles/", "name")[DATA_ENGINEER_ROLE]
    engineers = {}
    for address in settings.data_engineer_emails:
        username = DATA_ENGINEER_PREFIX + address.split("@")[0]
        body = {
            "first_name": "数据工程",
            "last_name": DATA_ENGINEER_LAST_NAME,
            "username": username,
            "email": address,
            "active": False,  # no login: it only receives failure mails as an owner
            "roles": [role_id],
        }
        if username not in users:
            # Never used to log in (inactive); a throw-away password satisfies the API.
            body["password"] = secrets.token_urlsafe(32)
        engineers[username] = client.upsert("/api/v1/security/users/", users, username, body)
    return engineers


def alert_chart(dataset_id: int, spec: dict) -> dict:
    """A table chart from the alert's `chart` entry (fixed filters: one city's rows)."""
    columns = spec["columns"]
    filters = [{"col": col, "op": "==", "val": val} for col, val in spec.get("filters", {}).items()]
    order_by = spec["order_by"]
    ascending = not spec.get("descending", False)
    params = {
        "datasource": f"{dataset_id}__table",
        "viz_type": "table",
        "query_mode": "raw",
        "all_columns": columns,
        "adhoc_filters": [
            {
                "expressionType": "SIMPLE",
                "subject": f["col"],
                "operator": "==",
                "comparator": f["val"],
                "clause": "WHERE",
            }
            for f in filters
        ],
        "order_by_cols": [json.dumps([order_by, ascending])],
        "row_limit": 1000,
        "time_range": "No filter",
    }
    query_context = {
        "datasource": {"id": dataset_id, "type": "table"},
        "force": False,
        "queries": [
            {
                "time_range": "No filter",
                "filters": filters,
                "extras": {"having": "", "where": ""},
                "columns": columns,
                "orderby": [[order_by, ascending]],
                "row_limit": 1000,
                "post_processing": [],
            }
        ],
        "form_data": params,
        "result_format": "json",
        "result_type": "full",
    }
    return {
        "slice_name": spec["name"],
        "description": MANAGED_DESCRIPTION,
        "viz_type": "table",
        "datasource_id": dataset_id,
        "datasource_type": "table",
        "params": json.dumps(params, ensure_ascii=False),
        "query_context": json.dumps(query_context, ensure_ascii=False),
    }


def apply_subscriptions(
    client: SupersetClient,
    settings: SupersetSettings,
    access: AccessPlan,
    units: list[OrgUnit],
    path: Path = SUBSCRIPTIONS_FILE,
) -> Wanted:
    """Create or update every report and alert of the file; return what it asks for."""
    config = load_subscriptions(path)
    timezone = config.get("timezone", "Asia/Shanghai")
    reports = for_each_unit(config.get("reports", []), units)
    alerts = for_each_unit(config.get("alerts", []), units)
    contact_roles = {
        r for item, _ in reports + alerts for r in item.get("recipients", {}).get("contacts", [])
    }
    contacts = unit_contacts(contact_roles)
    engineers = apply_data_engineers(client, settings)
    users = client.ids_by("/api/v1/security/users/", "username")
    existing = client.ids_by("/api/v1/report/", "name")
    sessions: dict[str, SupersetClient] = {}
    wanted = Wanted(users=set(engineers))

    def recipients(item: dict, unit: OrgUnit | None) -> list[dict]:
        addresses = contacts.get(unit.code, []) if unit else []
        addresses += item.get("recipients", {}).get("emails", [])
        if not addresses:
            return []
        return [{"type": "Email", "recipient_config_json": {"target": ",".join(addresses)}}]

    def common(item: dict, unit: OrgUnit | None) -> dict | None:
        targets = recipients(item, unit)
        if not targets:
            print(f"subscriptions: {item['name']}: no contacts for {unit and unit.code}, skipped")
            return None
        return {
            "name": item["name"],
            "description": MANAGED_DESCRIPTION,
            "active": True,
            "crontab": item["crontab"],
            "timezone": timezone,
            "creation_method": "alerts_reports",
            "recipients": targets,
            "working_timeout": 600,
        }

    dashboards = client.ids_by("/api/v1/dashboard/", "slug")
    for item, unit in reports:
        body = common(item, unit)
        if body is None:
            continue
        # Created by the unit's login, so it renders as that user (RLS); engineers get failures.
        username = access.username_for(unit) if unit else ADMIN_USER
        if username not in sessions:
            sessions[username] = SupersetClient(client.base_url, username, settings.password_for(username))
        body |= {
            "type": "Report",
            "dashboard": dashboards[item["dashboard"]],
            "report_format": item.get("format", "PNG"),
            "owners": [users[username], *engineers.values()],
        }
        sessions[username].upsert("/api/v1/report/", existing, item["name"], body)
        wanted.reports.add(item["name"])

    datasets = {d["uuid"]: d["id"] for d in client.list_all("/api/v1/dataset/", columns=["id", "uuid"])}
    database_name = next(iter(bundle_configs("databases").values()))["database_name"]
    database_id = client.ids_by("/api/v1/database/", "database_name")[database_name]
    charts = client.ids_by("/api/v1/chart/", "slice_name")
    for item, unit in alerts:
        body = common(item, unit)
        if body is None:
            continue
        spec = item["chart"]
        chart = alert_chart(datasets[dataset_uuid(spec["dataset"])], spec)
        chart_id = client.upsert("/api/v1/chart/", charts, spec["name"], chart)
        wanted.charts.add(spec["name"])
        body |= {
            "type": "Alert",
            "database": database_id,
            "sql": item["sql"],
            "validator_type": "operator",
            "validator_config_json": {"op": item["operator"], "threshold": item["threshold"]},
            "chart": chart_id,
            "report_format": "TEXT",
            # Admin first: it creates it, so CREATOR_OWNER renders the chart as the admin.
            "owners": [users[ADMIN_USER], *engineers.values()],
            "grace_period": 3600,
        }
        client.upsert("/api/v1/report/", existing, item["name"], body)
        wanted.reports.add(item["name"])
    print(f"subscriptions: {len(wanted.reports)} reports and alerts applied")
    return wanted
