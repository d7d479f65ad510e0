"""Roles, row-level security and logins as data: superset/access.yaml, applied by name.

Role permissions, which datasets each role reads, the RLS clauses and the users are in the
file; the province and cities come from the warehouse's org dimension (`for_each`), the
managers' logins from the marketing system's unit contacts (`managers`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml

from service_risk.bi.bundle import bundle_configs
from service_risk.bi.client import SupersetClient
from service_risk.bi.config import ACCESS_FILE, SupersetError, SupersetSettings
from service_risk.bi.org_units import OrgUnit, UnitLeader, for_each_unit
from service_risk.bi.ownership import (
    MANAGER_LAST_NAME,
    REGION_USER_LAST_NAME,
    Wanted,
    check_managed_name,
)
from service_risk.bi.passwords import ensure_passwords


@dataclass
class AccessPlan:
    """access.yaml with its per-unit entries expanded."""

    roles: list[dict]
    rls: list[dict]
    users: list[dict]
    region_users: dict[tuple[str, str], str] = field(default_factory=dict)  # (level, code) -> username

    def username_for(self, unit: OrgUnit) -> str:
        """The login that stands for a unit (reports for the unit are created and rendered as it)."""
        try:
            return self.region_users[(unit.level, unit.code)]
        except KeyError:
            raise SupersetError(f"access.yaml has no user for {unit.level} {unit.code}") from None


def read_access(path: Path = ACCESS_FILE) -> dict:
    return yaml.safe_load(path.read_text(encoding="utf-8")) or {}


def manager_contact_roles(path: Path = ACCESS_FILE) -> list[str]:
    """The unit-contact roles that get a login (access.yaml `managers.contact_titles`)."""
    return list(read_access(path).get("managers", {}).get("contact_titles", {}))


def manager_users(config: dict, units: list[OrgUnit], leaders: list[UnitLeader]) -> list[dict]:
    """One login per staff member who leads a province or city unit, with that unit's roles (and
    every unit's, for someone who leads two). Username = staff id; nothing else of the person."""
    by_code = {unit.code: unit for unit in units}
    labels = config.get("contact_titles", {})
    users: dict[str, dict] = {}
    for leader in leaders:
        unit = by_code.get(leader.org_code)
        entry = config.get("levels", {}).get(unit.level) if unit else None
        if entry is None or leader.contact_role not in labels:
            continue  # a county's or station's leader: no role scoped to that unit (README)
        ((filled, _),) = for_each_unit([{**entry, "for_each": unit.level}], [unit])
        user = users.setdefault(
            leader.staff_id,
            {
                "username": leader.staff_id,
                "first_name": "",
                "last_name": MANAGER_LAST_NAME,
                "email": config["email"].format(staff_id=leader.staff_id),
                "roles": [],
            },
        )
        title = f"{unit.name}{labels[leader.contact_role]}"
        user["first_name"] = "、".join(filter(None, [user["first_name"], title]))
        user["roles"] += [role for role in filled["roles"] if role not in user["roles"]]
    return list(users.values())


def load_access(
    units: list[OrgUnit], path: Path = ACCESS_FILE, leaders: list[UnitLeader] | None = None
) -> AccessPlan:
    config = read_access(path)
    roles = [entry for entry, _ in for_each_unit(config.get("roles", []), units)]
    rls = [entry for entry, _ in for_each_unit(config.get("row_level_security", []), units)]
    users = for_each_unit(config.get("users", []), units)
    managers = manager_users(config.get("managers", {}), units, leaders or [])
    for role in roles:
        check_managed_name("role", role["name"])
    for rule in rls:
        check_managed_name("RLS rule", rule["name"])
    taken = {user["username"] for user, _ in users} & {user["username"] for user in managers}
    if taken:
        raise SupersetError(f"staff ids {sorted(taken)} collide with region logins of access.yaml")
    return AccessPlan(
        roles=roles,
        rls=rls,
        users=[{**user, "last_name": REGION_USER_LAST_NAME} for user, _ in users] + managers,
        region_users={(unit.level, unit.code): user["username"] for user, unit in users if unit},
    )


def _permission_key(text: str) -> tuple[str, str]:
    permission, _, view_menu = text.partition(" on ")
    if not view_menu:
        raise SupersetError(f"permission {text!r}: write it as '<permission> on <view menu>'")
    return permission.strip(), view_menu.strip()


class _Catalogue:
    """Permission and dataset ids of the running server, read once per provision."""

    def __init__(self, client: SupersetClient) -> None:
        self.client = client
        self.roles = client.ids_by("/api/v1/security/roles/", "name")
        pvms = client.list_all("/api/v1/security/permissions-resources/")
        self.permissions = {(p["permission"]["name"], p["view_menu"]["name"]): p["id"] for p in pvms}
        # Datasets of the bundle, by UUID; a dataset's permission is "[database].[table](id:N)".
        self.configs = bundle_configs("datasets")
        self.datasets = [
            d
            for d in client.list_all("/api/v1/dataset/", columns=["id", "uuid", "table_name"])
            if d["uuid"] in self.configs
        ]
        if len(self.datasets) != len(self.configs):
            raise SupersetError(
                f"only {len(self.datasets)} of {len(self.configs)} datasets found: import the bundle first"
            )
        self.dataset_access = {
            int(view.rsplit("(id:", 1)[1].rstrip(")")): pvm_id
            for (permission, view), pvm_id in self.permissions.items()
            if permission == "datasource_access" and "(id:" in view
        }
        missing = [d["table_name"] for d in self.datasets if d["id"] not in self.dataset_access]
        if missing:
            raise SupersetError(f"dataset permissions missing for {missing}")

    def dataset_ids(self, selection: dict | None) -> list[int]:
        schemas = set((selection or {}).get("schemas", []))
        return sorted(d["id"] for d in self.datasets if self.configs[d["uuid"]].get("schema") in schemas)

    def role_permission_ids(self, role: dict) -> list[int]:
        wanted = {_permission_key(text) for text in role.get("permissions", [])}
        if limit := role.get("limit_to_role"):
            granted = self.client.get(f"/api/v1/security/roles/{self.roles[limit]}/permissions/")["result"]
            ids = [p["id"] for p in granted if (p["permission_name"], p["view_menu_name"]) in wanted]
        else:
            missing = sorted(wanted - self.permissions.keys())
            if missing:
                raise SupersetError(f"role {role['name']}: no such permissions in Superset: {missing}")
            ids = [self.permissions[key] for key in wanted]
        return ids + [self.dataset_access[i] for i in self.dataset_ids(role.get("datasets"))]

    def role_id(self, name: str) -> int:
        if name not in self.roles:
            raise SupersetError(f"role {name} is neither in access.yaml nor in Superset")
        return self.roles[name]


def apply_access(client: SupersetClient, settings: SupersetSettings, plan: AccessPlan) -> Wanted:
    """Create or update every role, RLS rule and user of the plan; return their names."""
    catalogue = _Catalogue(client)
    for role in plan.roles:
        if role["name"] not in catalogue.roles:
            catalogue.roles[role["name"]] = client.post("/api/v1/security/roles/", {"name": role["name"]})[
                "id"
            ]
        # This endpoint replaces the role's permissions: re-running converges.
        client.post(
            f"/api/v1/security/roles/{catalogue.roles[role['name']]}/permissions",
            {"permission_view_menu_ids": sorted(catalogue.role_permission_ids(role))},
        )

    rules = client.ids_by("/api/v1/rowlevelsecurity/", "name")
    for rule in plan.rls:
        body = {
            "name": rule["name"],
            "description": rule.get("description", ""),
            "filter_type": rule.get("filter_type", "Regular"),
            "tables": catalogue.dataset_ids(rule.get("datasets")),
            "roles": [catalogue.role_id(name) for name in rule["roles"]],
            "group_key": rule.get("group_key", ""),
            "clause": rule["clause"],
        }
        client.upsert("/api/v1/rowlevelsecurity/", rules, rule["name"], body)

    users = client.ids_by("/api/v1/security/users/", "username")
    # Each login its own password, set on every run: the file in .local/ is the truth (rotation).
    passwords = ensure_passwords({user["username"] for user in plan.users})
    for user in plan.users:
        body = {
            "first_name": user["first_name"],
            "last_name": user["last_name"],
            "username": user["username"],
            "email": user["email"],
            "active": True,
            "roles": [catalogue.role_id(name) for name in user["roles"]],
            "password": passwords[user["username"]],
        }
        client.upsert("/api/v1/security/users/", users, user["username"], body)
    return Wanted(
        roles={r["name"] for r in plan.roles},
        rls={r["name"] for r in plan.rls},
        users={u["username"] for u in plan.users},
    )
