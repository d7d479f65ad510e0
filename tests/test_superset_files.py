"""The Superset files as provisioning reads them, without a server: templates, per-unit entries,
and that every name one file uses exists in the other (the lead's bundle may change under them)."""

from __future__ import annotations

import json

import pytest
import yaml

from service_risk.bi.access import load_access
from service_risk.bi.bundle import DATABASE_FILE, bundle_configs, dataset_uuid, render_asset
from service_risk.bi.config import ACCESS_FILE, ASSETS_DIR, SupersetError
from service_risk.bi.org_units import OrgUnit, UnitLeader, for_each_unit
from service_risk.bi.ownership import MANAGED_PREFIX, MANAGER_LAST_NAME
from service_risk.bi.passwords import ensure_passwords, load_passwords, rotate_password
from service_risk.bi.subscriptions import load_subscriptions

UNITS = [
    OrgUnit("province", "33", "浙江省"),
    OrgUnit("city", "3301", "杭州市"),
    OrgUnit("city", "O'1", "测试市"),
]


def test_database_uri_comes_from_the_environment_without_password():
    text = (ASSETS_DIR / DATABASE_FILE).read_text(encoding="utf-8")
    environ = {
        "SUPERSET_WAREHOUSE_ROLE": "x_reader",
        "PGHOST": "db.internal",
        "PGPORT": "5433",
        "SR_DB_PREFIX": "x_",
    }
    uri = yaml.safe_load(render_asset(text, {"env": environ}))["sqlalchemy_uri"]
    assert uri == "postgresql+psycopg2://x_reader:XXXXXXXXXX@db.internal:5433/x_warehouse"
    with pytest.raises(SupersetError, match="PGHOST"):
        render_asset(text, {"env": {k: v for k, v in environ.items() if k != "PGHOST"}})


def test_access_expands_per_unit_with_escaped_clauses():
    plan = load_access(UNITS)
    roles = {role["name"] for role in plan.roles}
    assert {"sr_viewer", "sr_subscriber", "sr_province", "sr_city_3301", "sr_city_O'1"} == roles
    clauses = {rule["name"]: rule["clause"] for rule in plan.rls}
    assert clauses["sr_rls_sr_city_O'1"] == "city_code = 'O''1'"
    assert clauses["sr_rls_sr_province"] == "province_code = '33'"
    assert plan.username_for(UNITS[1]) == "city_3301"
    assert plan.username_for(UNITS[0]) == "province"
    # Every name provisioning owns carries its mark, and users only hold roles the file defines.
    assert all(name.startswith(MANAGED_PREFIX) for name in roles | set(clauses))
    assert {role for user in plan.users for role in user["roles"]} <= roles
    assert {role for rule in plan.rls for role in rule["roles"]} <= roles


def test_access_rejects_a_name_provisioning_would_not_own(tmp_path):
    config = yaml.safe_load(ACCESS_FILE.read_text(encoding="utf-8"))
    config["roles"].append({"name": "viewer_by_hand", "permissions": []})
    path = tmp_path / "access.yaml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    with pytest.raises(SupersetError, match="viewer_by_hand"):
        load_access(UNITS, path)


def test_access_and_subscriptions_name_what_the_bundle_has():
    schemas = {config.get("schema") for config in bundle_configs("datasets").values()}
    config = yaml.safe_load(ACCESS_FILE.read_text(encoding="utf-8"))
    for entry in config["roles"] + config["row_level_security"]:
        assert set(entry.get("datasets", {}).get("schemas", [])) <= schemas, entry["name"]
    slugs = {config["slug"] for config in bundle_configs("dashboards").values()}
    subscriptions = load_subscriptions()
    assert {report["dashboard"] for report in subscriptions["reports"]} <= slugs
    for alert, _ in for_each_unit(subscriptions["alerts"], UNITS):
        dataset = bundle_configs("datasets")[dataset_uuid(alert["chart"]["dataset"])]
        columns = {column["column_name"] for column in dataset["columns"]}
        wanted = (
            set(alert["chart"]["columns"]) | set(alert["chart"]["filters"]) | {alert["chart"]["order_by"]}
        )
        assert wanted <= columns, wanted - columns


def test_managers_come_from_the_unit_contacts_with_their_units_scope():
    """A new leader in the marketing system is a new login with the unit's roles: no code, no file."""
    leaders = [
        UnitLeader("3301", "leader_in_charge", "S0001"),
        UnitLeader("33", "department_head", "S0002"),
        UnitLeader("O'1", "department_head", "S0001"),  # leads two cities: both scopes
        UnitLeader("330102", "leader_in_charge", "S0003"),  # a county: no role is scoped to it
    ]
    plan = load_access(UNITS, leaders=leaders)
    managers = {u["username"]: u for u in plan.users if u["last_name"] == MANAGER_LAST_NAME}
    assert set(managers) == {"S0001", "S0002"}
    assert managers["S0001"]["roles"] == ["sr_viewer", "sr_city_3301", "sr_subscriber", "sr_city_O'1"]
    assert managers["S0001"]["first_name"] == "杭州市分管领导、测试市部门负责人"
    assert managers["S0002"]["roles"] == ["sr_viewer", "sr_province", "sr_subscriber"]
    assert managers["S0002"]["email"] == "S0002@staff.service-risk.invalid"
    # Region logins keep their own mark, and a staff id cannot take a region login's name.
    assert {u["last_name"] for u in plan.users} - {MANAGER_LAST_NAME} == {"看板用户"}
    with pytest.raises(SupersetError, match="collide"):
        load_access(UNITS, leaders=[UnitLeader("3301", "leader_in_charge", "city_3301")])


def test_each_login_gets_its_own_password_in_an_owner_only_file(tmp_path):
    path = tmp_path / "local" / "superset_passwords.json"
    first = ensure_passwords({"city_3301", "province"}, path)
    assert len(set(first.values())) == 2 and all(len(p) >= 32 for p in first.values())
    assert path.stat().st_mode & 0o777 == 0o600
    assert ensure_passwords({"city_3301", "province", "S0001"}, path).items() >= first.items()
    rotated = rotate_password("province", path)
    assert rotated != first["province"] and load_passwords(path)["province"] == rotated
    assert load_passwords(path)["city_3301"] == first["city_3301"]
    assert path.stat().st_mode & 0o777 == 0o600


def test_dashboards_and_charts_name_what_the_bundle_has():
    """Every chart a dashboard places, every dataset and column a native filter targets, and every
    saved metric and column a chart reads exist in the bundle (a new dashboard is checked on its own)."""
    datasets = bundle_configs("datasets")
    charts = bundle_configs("charts")
    columns = {uuid: {c["column_name"] for c in config["columns"]} for uuid, config in datasets.items()}
    metrics = {uuid: {m["metric_name"] for m in config["metrics"]} for uuid, config in datasets.items()}
    for dashboard in bundle_configs("dashboards").values():
        placed = [
            item["meta"]["uuid"]
            for item in dashboard["position"].values()
            if isinstance(item, dict) and item.get("type") == "CHART"
        ]
        assert placed and set(placed) <= set(charts), dashboard["slug"]
        for native_filter in dashboard["metadata"]["native_filter_configuration"]:
            for target in native_filter["targets"]:
                assert target["column"]["name"] in columns[target["datasetUuid"]], native_filter["name"]
    for chart in charts.values():
        params, dataset = chart["params"], chart["dataset_uuid"]
        used_metrics = [params.get("metric"), *params.get("metrics", [])]
        assert {m for m in used_metrics if isinstance(m, str)} <= metrics[dataset], chart["slice_name"]
        used_columns = [params.get("x_axis"), *params.get("groupby", []), *params.get("all_columns", [])]
        used_columns += [json.loads(order)[0] for order in params.get("order_by_cols", [])]
        assert {c for c in used_columns if isinstance(c, str)} <= columns[dataset], chart["slice_name"]
