"""What provisioning owns in Superset, and removing what no file asks for any more.

As code means reconciled: an entry removed from superset/access.yaml or subscriptions.yaml is
removed from Superset on the next provision. Provisioning recognises its own objects by a mark
it sets when it creates them, and never touches anything else (roles, rules, reports and users
made by hand):

- roles and RLS rules: the name prefix `sr_` (reserved for provisioning);
- reports, alerts and the alerts' charts: the description `subscriptions.yaml`;
- users: the last name 看板用户 (region logins), 单位负责人 (managers' logins from the unit
  contacts) or 失败通知 (data engineers' failure mail).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from service_risk.bi.client import SupersetClient
from service_risk.bi.config import SupersetError

MANAGED_PREFIX = "sr_"
MANAGED_DESCRIPTION = "subscriptions.yaml"
REGION_USER_LAST_NAME = "看板用户"
MANAGER_LAST_NAME = "单位负责人"
DATA_ENGINEER_LAST_NAME = "失败通知"
MANAGED_USER_LAST_NAMES = (REGION_USER_LAST_NAME, MANAGER_LAST_NAME, DATA_ENGINEER_LAST_NAME)


@dataclass
class Wanted:
    """Names of the managed objects the files ask for; everything else managed goes."""

    roles: set[str] = field(default_factory=set)
    rls: set[str] = field(default_factory=set)
    users: set[str] = field(default_factory=set)
    reports: set[str] = field(default_factory=set)
    charts: set[str] = field(default_factory=set)


def check_managed_name(kind: str, name: str) -> None:
    if not name.startswith(MANAGED_PREFIX):
        raise SupersetError(f"{kind} {name!r}: provisioned names start with {MANAGED_PREFIX!r}")


def _marked(row: dict) -> bool:
    return row.get("description") == MANAGED_DESCRIPTION


def _prefixed(row: dict) -> bool:
    return row["name"].startswith(MANAGED_PREFIX)


def _managed_user(row: dict) -> bool:
    return row.get("last_name") in MANAGED_USER_LAST_NAMES


def _stale(rows: list[dict], key: str, wanted: set[str], owned) -> list[dict]:
    return [row for row in rows if owned(row) and row[key] not in wanted]


def remove_stale(client: SupersetClient, wanted: Wanted) -> dict[str, list[str]]:
    """Delete managed objects not wanted, dependents first; return kind -> names removed."""
    # kind, collection, name key, extra columns, owned?, wanted names; in deletion order.
    kinds = [
        ("reports", "/api/v1/report/", "name", ["description"], _marked, wanted.reports),
        ("charts", "/api/v1/chart/", "slice_name", ["description"], _marked, wanted.charts),
        ("users", "/api/v1/security/users/", "username", ["last_name"], _managed_user, wanted.users),
        ("rls", "/api/v1/rowlevelsecurity/", "name", [], _prefixed, wanted.rls),
        ("roles", "/api/v1/security/roles/", "name", None, _prefixed, wanted.roles),
    ]
    removed: dict[str, list[str]] = {}
    for kind, path, key, columns, owned, names in kinds:
        # The roles API answers with its own fixed columns.
        query = {} if columns is None else {"columns": ["id", key, *columns]}
        for row in _stale(client.list_all(path, **query), key, names, owned):
            if kind == "users":
                removed.setdefault(kind, []).append(_delete_or_deactivate_user(client, row))
            else:
                client.delete(f"{path}{row['id']}")
                removed.setdefault(kind, []).append(row[key])
    return removed


def _delete_or_deactivate_user(client: SupersetClient, user: dict) -> str:
    """Delete a user; one that Superset still references (objects it created) is deactivated."""
    try:
        client.delete(f"/api/v1/security/users/{user['id']}")
        return user["username"]
    except SupersetError as exc:
        client.put(f"/api/v1/security/users/{user['id']}", {"active": False})
        print(f"user {user['username']} deactivated, not deleted: {str(exc)[:200]}")
        return f"{user['username']} (deactivated)"
