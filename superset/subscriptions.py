"""Scheduled e-mail reports and alerts as code (issue 6), applied through the REST API.

`apply()` reads superset/subscriptions.yaml and makes Superset's Alerts & Reports match it,
matched by name (re-running converges):

- region users get the `sr_subscriber` role (read/write their own reports: the same right
  lets managers subscribe themselves in the UI);
- each report is created *by the region user it is for* (city_<code> or province), so
  ALERT_REPORTS_EXECUTORS = [CREATOR_OWNER, ...] renders it as that user and RLS limits it
  to the region;
- the data engineers (DATA_ENGINEER_EMAILS) are co-owners of everything: Superset mails a
  failed report's error to its owners. They get inactive users (no login) for that;
- alerts need the warehouse database, which region users cannot see: the admin owns them,
  and each city's alert carries a chart of that city's red stations (TEXT = table in mail).

Recipients come from the marketing system's unit contacts (staging schema, read with the
project's own warehouse connection: Superset's reader role cannot read staging).
"""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path

import yaml

SUBSCRIPTIONS = Path(__file__).resolve().parent / "subscriptions.yaml"
SUBSCRIBER_ROLE = "sr_subscriber"
DATA_ENGINEER_PREFIX = "de_"
ALERT_DATASET = "18bfbdd9-ec46-5db9-aca6-033ecc1a7829"  # unit_risk_latest (bundle)
_SUBSCRIBER_PERMS = {
    ("can_read", "ReportSchedule"),
    ("can_write", "ReportSchedule"),
    ("menu_access", "Alerts & Report"),
}


def load(path: Path = SUBSCRIPTIONS) -> dict:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def units_and_contacts(setup, roles: set[str]) -> tuple[list[tuple[str, str, str]], dict[str, str]]:
    """(level, code, name) of the province and cities; org_code -> 'a@x,b@x' of their contacts."""
    conn = setup.pg_connect(setup.prefix() + "warehouse")
    try:
        with conn.cursor() as cur:
            cur.execute(
                "select org_level, org_code, org_name from marts.dim_org_unit "
                "where org_level in ('province', 'city') order by org_level desc, org_code"
            )
            units = cur.fetchall()
            cur.execute(
                "select contact.org_code, string_agg(distinct staff.email, ',' order by staff.email) "
                "from staging.stg_marketing__unit_contacts as contact "
                "join staging.stg_marketing__staff_members as staff using (staff_id) "
                "where contact.contact_role = any(%s) and staff.email is not null "
                "group by contact.org_code",
                (sorted(roles),),
            )
            contacts = dict(cur.fetchall())
    finally:
        conn.close()
    return units, contacts


def _user_ids(client) -> dict[str, int]:
    return {
        u["username"]: u["id"] for u in client.list_all("/api/v1/security/users/", columns=["id", "username"])
    }


def ensure_subscriber_role(client, setup, usernames: list[str]) -> None:
    roles = {r["name"]: r["id"] for r in client.list_all("/api/v1/security/roles/")}
    role_id = setup.ensure_role(client, roles, SUBSCRIBER_ROLE)
    pvms = client.list_all("/api/v1/security/permissions-resources/")
    ids = [p["id"] for p in pvms if (p["permission"]["name"], p["view_menu"]["name"]) in _SUBSCRIBER_PERMS]
    if len(ids) != len(_SUBSCRIBER_PERMS):
        raise setup.SupersetError("Alerts & Reports permissions missing: is FEATURE_FLAGS ALERT_REPORTS on?")
    setup.set_role_permissions(client, role_id, ids)
    users = _user_ids(client)
    for username in usernames:
        user = client.get(f"/api/v1/security/users/{users[username]}")["result"]
        current = [r["id"] for r in user["roles"]]
        if role_id not in current:
            client.put(f"/api/v1/security/users/{users[username]}", {"roles": [*current, role_id]})


def ensure_data_engineers(client, setup) -> list[int]:
    """One inactive user per DATA_ENGINEER_EMAILS address: co-owner, so it gets failure mails."""
    emails = [e.strip() for e in os.environ.get("DATA_ENGINEER_EMAILS", "").split(",") if e.strip()]
    users = _user_ids(client)
    roles = {r["name"]: r["id"] for r in client.list_all("/api/v1/security/roles/")}
    ids = []
    for email in emails:
        username = DATA_ENGINEER_PREFIX + email.split("@")[0]
        body = {
            "first_name": "数据工程",
            "last_name": "失败通知",
            "username": username,
            "email": email,
            "active": False,  # no login: it only receives failure mails as an owner
            "roles": [roles[setup.VIEWER_ROLE]],  # the API wants a role; this one sees no data
        }
        if username in users:
            client.put(f"/api/v1/security/users/{users[username]}", body)
            ids.append(users[username])
        else:
            # Never used to log in (inactive); a throw-away password satisfies the API.
            body["password"] = secrets.token_urlsafe(32)
            ids.append(client.post("/api/v1/security/users/", body)["id"])
    return ids


def _by_name(client, path: str, name_field: str, **query) -> dict[str, int]:
    return {row[name_field]: row["id"] for row in client.list_all(path, columns=["id", name_field], **query)}


def _upsert(client, path: str, existing: dict[str, int], name: str, body: dict) -> int:
    if name in existing:
        client.put(f"{path}{existing[name]}", body)
        return existing[name]
    existing[name] = client.post(path, body)["id"]
    return existing[name]


def _recipients(emails: str) -> list[dict]:
    return [{"type": "Email", "recipient_config_json": {"target": emails}}]


def _alert_chart(dataset_id: int, city_code: str, name: str) -> dict:
    """Table of the city's red stations on the latest day (the city filter is fixed)."""
    columns = ["county_name", "org_name", "risk_score", "days_in_code", "worst_indicator_1"]
    filters = [
        {"col": "org_level", "op": "==", "val": "station"},
        {"col": "risk_code_zh", "op": "==", "val": "红码"},
        {"col": "city_code", "op": "==", "val": city_code},
    ]
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
        "order_by_cols": ['["risk_score", false]'],
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
                "orderby": [["risk_score", False]],
                "row_limit": 1000,
                "post_processing": [],
            }
        ],
        "form_data": params,
        "result_format": "json",
        "result_type": "full",
    }
    return {
        "slice_name": name,
        "viz_type": "table",
        "datasource_id": dataset_id,
        "datasource_type": "table",
        "params": json.dumps(params, ensure_ascii=False),
        "query_context": json.dumps(query_context, ensure_ascii=False),
    }


def apply(client, setup, config: dict | None = None) -> dict[str, int]:
    """Create or update every report and alert of the file; return name -> report id."""
    config = config or load()
    timezone = config.get("timezone", "Asia/Shanghai")
    items = config.get("reports", []) + config.get("alerts", [])
    roles = {r for item in items for r in item.get("recipients", {}).get("contacts", [])}
    units, contacts = units_and_contacts(setup, roles)
    province = next((code, name) for level, code, name in units if level == "province")
    cities = [(code, name) for level, code, name in units if level == "city"]
    region_users = [setup.PROVINCE_USER] + [setup.CITY_USER_PREFIX + code for code, _ in cities]
    ensure_subscriber_role(client, setup, region_users)
    engineers = ensure_data_engineers(client, setup)
    users = _user_ids(client)
    admin_id = users[setup.ADMIN_USER]
    dashboards = _by_name(client, "/api/v1/dashboard/", "slug")
    reports = _by_name(client, "/api/v1/report/", "name")
    password = setup.env("SUPERSET_CITY_USER_PASSWORD")
    sessions: dict[str, object] = {}
    applied: dict[str, int] = {}

    def targets(item: dict) -> list[tuple[str, str, str]]:
        """(code, name, region username) the item is made for."""
        if item.get("for_each") == "city":
            return [(code, name, setup.CITY_USER_PREFIX + code) for code, name in cities]
        return [(province[0], province[1], setup.PROVINCE_USER)]

    def recipients(item: dict, code: str) -> str:
        emails = [e for e in contacts.get(code, "").split(",") if e]
        emails += item.get("recipients", {}).get("emails", [])
        return ",".join(emails)

    for item in config.get("reports", []):
        for code, unit_name, username in targets(item):
            name = item["name"].format(city_code=code, city_name=unit_name)
            emails = recipients(item, code)
            if not emails:
                print(f"subscriptions: {name}: no contacts for {code} in the marketing system, skipped")
                continue
            if username not in sessions:
                sessions[username] = setup.SupersetClient(client.base_url, username, password)
            body = {
                "type": "Report",
                "name": name,
                "description": "subscriptions.yaml",
                "active": True,
                "crontab": item["crontab"],
                "timezone": timezone,
                "dashboard": dashboards[item["dashboard"]],
                "report_format": item.get("format", "PNG"),
                "creation_method": "alerts_reports",
                # The creator (this region user) renders it; data engineers get failures.
                "owners": [users[username], *engineers],
                "recipients": _recipients(emails),
                "working_timeout": 600,
            }
            applied[name] = _upsert(sessions[username], "/api/v1/report/", reports, name, body)

    datasets = {d["uuid"]: d["id"] for d in client.list_all("/api/v1/dataset/", columns=["id", "uuid"])}
    database_name = next(iter(setup.bundle_uuids("databases").values()))["database_name"]
    databases = _by_name(client, "/api/v1/database/", "database_name")
    charts = _by_name(client, "/api/v1/chart/", "slice_name")
    for item in config.get("alerts", []):
        for code, unit_name, _ in targets(item):
            name = item["name"].format(city_code=code, city_name=unit_name)
            emails = recipients(item, code)
            if not emails:
                print(f"subscriptions: {name}: no contacts for {code} in the marketing system, skipped")
                continue
            chart_name = item["chart"].format(city_code=code, city_name=unit_name)
            chart = _alert_chart(datasets[ALERT_DATASET], code, chart_name)
            chart_id = _upsert(client, "/api/v1/chart/", charts, chart_name, chart)
            body = {
                "type": "Alert",
                "name": name,
                "description": "subscriptions.yaml",
                "active": True,
                "crontab": item["crontab"],
                "timezone": timezone,
                "database": databases[database_name],
                "sql": item["sql"].format(city_code=code.replace("'", "''")),
                "validator_type": "operator",
                "validator_config_json": {"op": item["operator"], "threshold": item["threshold"]},
                "chart": chart_id,
                "report_format": "TEXT",
                "creation_method": "alerts_reports",
                # Admin first: it creates it, so CREATOR_OWNER renders the chart as the admin.
                "owners": [admin_id, *engineers],
                "recipients": _recipients(emails),
                "grace_period": 3600,
                "working_timeout": 600,
            }
            applied[name] = _upsert(client, "/api/v1/report/", reports, name, body)
    print(f"subscriptions: {len(applied)} reports and alerts applied")
    return applied
