"""Against a running server: the asset bundle, then access.yaml and subscriptions.yaml, then
removing the managed objects the files no longer name (ownership.py)."""

from __future__ import annotations

import time
from pathlib import Path

from service_risk.bi.access import apply_access, load_access, manager_contact_roles
from service_risk.bi.bundle import bundle_configs, import_bundle
from service_risk.bi.client import SupersetClient
from service_risk.bi.config import ACCESS_FILE, ADMIN_USER, SUBSCRIPTIONS_FILE, SupersetSettings
from service_risk.bi.org_units import org_units, unit_leaders
from service_risk.bi.ownership import MANAGER_LAST_NAME, Wanted, remove_stale
from service_risk.bi.subscriptions import apply_subscriptions


def admin_client(settings: SupersetSettings) -> SupersetClient:
    return SupersetClient(settings.url, ADMIN_USER, settings.admin_password)


def provision(
    settings: SupersetSettings,
    access_file: Path = ACCESS_FILE,
    subscriptions_file: Path = SUBSCRIPTIONS_FILE,
) -> dict[str, list[str]]:
    """Apply everything; return kind -> names of the managed objects removed."""
    started = time.monotonic()
    client = admin_client(settings)
    import_bundle(client, settings)
    print(
        f"asset bundle imported ({len(bundle_configs('dashboards'))} dashboards, "
        f"{len(bundle_configs('charts'))} charts)"
    )
    units = org_units(settings.db)
    plan = load_access(units, access_file, unit_leaders(manager_contact_roles(access_file), settings.db))
    access = apply_access(client, settings, plan)
    subscriptions = apply_subscriptions(client, settings, plan, units, subscriptions_file)
    wanted = Wanted(
        roles=access.roles,
        rls=access.rls,
        users=access.users | subscriptions.users,
        reports=subscriptions.reports,
        charts=subscriptions.charts,
    )
    removed = remove_stale(client, wanted)
    for kind, names in removed.items():
        print(f"removed {kind} no longer in the files: {', '.join(names)}")
    print(
        f"{len(access.roles)} roles, {len(access.rls)} RLS rules, {len(access.users)} logins "
        f"({sum(u['last_name'] == MANAGER_LAST_NAME for u in plan.users)} managers); "
        f"provisioned in {time.monotonic() - started:.1f} s"
    )
    return removed
