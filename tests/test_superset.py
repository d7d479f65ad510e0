"""Superset as code (issue 5): a real Superset on the real test warehouse.

The module builds the test warehouse through the pipeline, sets Superset up from
scratch, starts it on a free port, imports the asset bundle through the REST API and
stops the server at the end. Screenshots land in artifacts/screenshots/.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import subprocess
import time
import zipfile

import psutil
import psycopg
import pytest
import requests
import yaml
from itsdangerous import TimestampSigner

from service_risk.bi.browser import browser_login
from service_risk.bi.bundle import BUNDLE_ROOT, build_bundle, bundle_configs, dataset_uuid
from service_risk.bi.client import SupersetClient
from service_risk.bi.config import ADMIN_USER, SupersetError
from service_risk.bi.ownership import MANAGER_LAST_NAME
from service_risk.bi.passwords import load_passwords, password_of, passwords_file
from service_risk.db import connect
from tests.conftest import ARTIFACTS, ROOT, query
from tests.offline import intranet_browser
from tests.personal_data import PersonalDataScan
from tests.superset_fixtures import SupersetServer, build_test_warehouse, region_username, run_logged

pytestmark = pytest.mark.slow

SCREENSHOTS = ARTIFACTS / "screenshots"
DATASETS = bundle_configs("datasets")
# The data-quality datasets have no city: superset/access.yaml gives them to the province only.
QUALITY_DATASETS = {uuid for uuid, config in DATASETS.items() if config["schema"] == "quality"}
# Charts and dashboards on the data-quality datasets (province and admins only).
QUALITY_CHARTS = {
    uuid for uuid, config in bundle_configs("charts").items() if config["dataset_uuid"] in QUALITY_DATASETS
}
QUALITY_DASHBOARDS = {
    uuid
    for uuid, config in bundle_configs("dashboards").items()
    if any(
        isinstance(item, dict) and item.get("meta", {}).get("uuid") in QUALITY_CHARTS
        for item in config["position"].values()
    )
}

# Superset's prebuilt frontend renders this image whatever SCARF_ANALYTICS says; the content security
# policy (superset_config.py) has the browser refuse it. Anything else refused would be a page part
# missing on the intranet.
TELEMETRY_PIXEL = "https://apachesuperset.gateway.scarf.sh/pixel/"


@pytest.fixture(scope="module")
def superset():
    build_test_warehouse()
    server = SupersetServer()
    started = time.monotonic()
    try:
        server.prepare()
        server.start()
        server.provision("superset-provision-1")
        print(f"Superset set up, started and provisioned in {time.monotonic() - started:.1f} s")
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def admin(superset):
    return SupersetClient(superset.url, ADMIN_USER, os.environ["SUPERSET_ADMIN_PASSWORD"])


@pytest.fixture(scope="module")
def cities():
    """(code, name) of every city in the test warehouse."""
    return query(
        "select org_code, org_name from marts.dim_org_unit where org_level = 'city' order by org_code"
    )


def province_code() -> str:
    return query("select org_code from marts.dim_org_unit where org_level = 'province'")[0][0]


def login(superset, username: str):
    return SupersetClient(superset.url, username, password_of(username))


def bundle_objects(client, kind: str) -> dict[str, int]:
    """uuid -> id of the bundle's objects of a kind present in Superset."""
    wanted = set(bundle_configs(kind))
    path = {"dashboards": "dashboard", "charts": "chart", "datasets": "dataset"}[kind]
    return {
        row["uuid"]: row["id"]
        for row in client.list_all(f"/api/v1/{path}/", columns=["id", "uuid"])
        if row["uuid"] in wanted
    }


def snapshot(client) -> dict:
    """Everything provisioning creates, as comparable values."""
    rls = client.list_all("/api/v1/rowlevelsecurity/")
    return {kind: bundle_objects(client, kind) for kind in ("dashboards", "charts", "datasets")} | {
        "roles": sorted(r["name"] for r in client.list_all("/api/v1/security/roles/")),
        "rls": sorted((r["name"], r["clause"], tuple(sorted(t["id"] for t in r["tables"]))) for r in rls),
        "users": sorted(
            u["username"] for u in client.list_all("/api/v1/security/users/", columns=["username"])
        ),
        "databases": sorted(d["database_name"] for d in client.list_all("/api/v1/database/")),
    }


def dataset_rows(client, dataset_id: int, columns: list[str]) -> list[dict]:
    """Distinct values of columns in a dataset through the chart-data API (RLS applies)."""
    body = {
        "datasource": {"id": dataset_id, "type": "table"},
        "force": True,
        "queries": [{"columns": columns, "metrics": ["count"], "row_limit": 10000, "orderby": []}],
        "result_format": "json",
        "result_type": "full",
    }
    result = client.post("/api/v1/chart/data", body)["result"][0]
    assert not result.get("error"), result.get("error")
    return result["data"]


def test_bundle_imports_twice_idempotently(superset, admin):
    first = snapshot(admin)
    assert len(first["dashboards"]) == len(bundle_configs("dashboards")) == 11
    assert len(QUALITY_DASHBOARDS) == 1 and len(QUALITY_DATASETS) == 4
    assert len(first["charts"]) == len(bundle_configs("charts"))
    assert len(first["datasets"]) == len(bundle_configs("datasets"))
    assert first["databases"] == ["风险数仓"]
    superset.provision("superset-provision-2")
    assert snapshot(admin) == first


def test_dashboards_have_chinese_titles_and_code_colours(admin):
    colours = {"红码": "#E04355", "黄码": "#FCC700", "绿码": "#5AC189"}
    for dashboard_id in bundle_objects(admin, "dashboards").values():
        dashboard = admin.get(f"/api/v1/dashboard/{dashboard_id}")["result"]
        assert any("\u4e00" <= ch <= "\u9fff" for ch in dashboard["dashboard_title"])
        metadata = json.loads(dashboard["json_metadata"])
        assert colours.items() <= metadata["label_colors"].items()


def test_every_chart_data_endpoint_returns_rows(admin):
    for chart_id in bundle_objects(admin, "charts").values():
        response = admin.http.get(f"{admin.base_url}/api/v1/chart/{chart_id}/data/?force=true", timeout=120)
        assert response.status_code == 200, f"chart {chart_id}: {response.text[:500]}"
        for result in response.json()["result"]:
            assert not result.get("error"), f"chart {chart_id}: {result['error']}"
            assert result["rowcount"] > 0, f"chart {chart_id} returned no rows"


def chart_items(dashboard: dict, native_filter: dict | None = None) -> list[dict]:
    """A dashboard's charts as placed; with a native filter, only those in its scope."""
    excluded = set(native_filter["scope"]["excluded"]) if native_filter else set()
    return [
        item
        for item in dashboard["position"].values()
        if isinstance(item, dict) and item.get("type") == "CHART" and item["meta"]["chartId"] not in excluded
    ]


def tables_of(items: list[dict]) -> set[str]:
    """The published relations charts (a dashboard's items) read."""
    charts = bundle_configs("charts")
    return {
        f"{DATASETS[charts[item['meta']['uuid']]['dataset_uuid']]['schema']}."
        f"{DATASETS[charts[item['meta']['uuid']]['dataset_uuid']]['table_name']}"
        for item in items
    }


def busiest_with_rows(column: str, tables: set[str]) -> str:
    """The county or city (`column` of marts.dim_org_unit: county_name, city_code) with the most
    stations among those with rows in every one of the tables (the training plan has only the
    months' few units on it, not every county)."""
    having = " and ".join(
        f"exists (select from {table} as r where r.{column} = units.{column})" for table in tables
    )
    return query(
        f"select {column} from marts.dim_org_unit as units where org_level = 'station' and {having}"
        f" group by 1 order by count(*) desc, 1 limit 1"
    )[0][0]


def test_every_chart_follows_the_cascading_filters(admin):
    """Each native filter's column exists in every chart's dataset in its scope, and filtering narrows
    the rows. A chart out of the county filter's scope is one whose dataset has no county (闭环成效's
    one row per city): it follows the city filter instead."""
    charts = {c["uuid"]: c for c in bundle_configs("charts").values()}
    ids = bundle_objects(admin, "charts")
    for dashboard in bundle_configs("dashboards").values():
        filters = dashboard["metadata"]["native_filter_configuration"]
        if not filters:
            continue
        by_id = {f["id"]: f for f in filters}
        by_column = {f["targets"][0]["column"]["name"]: f for f in filters}
        county_scope = chart_items(dashboard, by_column["county_name"])
        county = busiest_with_rows("county_name", tables_of(county_scope))
        city = query(
            "select distinct city_name from marts.dim_org_unit where county_name = %s and city_name is not null",
            (county,),
        )[0][0]
        # city -> county -> station (-> episode): each filter's options depend on the one above.
        parents = [by_id[p]["targets"][0]["column"]["name"] for f in filters for p in f["cascadeParentIds"]]
        assert parents in (["city_name", "county_name"], ["city_name", "county_name", "station_name"])
        assert chart_items(dashboard, by_column["city_name"]) == chart_items(dashboard)
        for item in chart_items(dashboard):
            column, value = ("county_name", county) if item in county_scope else ("city_name", city)
            dataset_columns = {
                c["column_name"] for c in DATASETS[charts[item["meta"]["uuid"]]["dataset_uuid"]]["columns"]
            }
            assert column == "county_name" or "county_name" not in dataset_columns, item["meta"]["sliceName"]
            query_context = json.loads(
                admin.get(f"/api/v1/chart/{ids[item['meta']['uuid']]}")["result"]["query_context"]
            )
            for chart_query in query_context["queries"]:
                chart_query["filters"].append({"col": column, "op": "IN", "val": [value]})
            query_context["force"] = True
            result = admin.post("/api/v1/chart/data", query_context)["result"][0]
            name = charts[item["meta"]["uuid"]]["slice_name"]
            assert not result.get("error"), f"{name}: {result['error']}"
            assert not result.get("rejected_filters"), f"{name} ignores the {column} filter"
            assert result["rowcount"] > 0, f"{name}: no rows for {value}"
            assert {row[column] for row in result["data"] if column in row} <= {value}


def test_city_user_gets_no_rows_of_other_cities(superset, admin, cities):
    datasets = {
        uuid: i for uuid, i in bundle_objects(admin, "datasets").items() if uuid not in QUALITY_DATASETS
    }
    # A city with rows in every dataset (the training plan has a few cities a month, not all).
    code = busiest_with_rows(
        "city_code", {f"{DATASETS[uuid]['schema']}.{DATASETS[uuid]['table_name']}" for uuid in datasets}
    )
    name = dict(cities)[code]
    city = login(superset, region_username(code))
    for dataset_id in datasets.values():
        seen_by_admin = {row["city_code"] for row in dataset_rows(admin, dataset_id, ["city_code"])}
        assert len(seen_by_admin - {None}) > 1, "the admin should see several cities"
        assert {row["city_code"] for row in dataset_rows(city, dataset_id, ["city_code"])} == {code}
    # Every chart as the city user: wherever a city shows, it is the user's own.
    for uuid, chart_id in bundle_objects(admin, "charts").items():
        if uuid in QUALITY_CHARTS:
            continue
        body = city.get(f"/api/v1/chart/{chart_id}/data/?force=true")
        for result in body["result"]:
            assert not result.get("error"), result["error"]
            for row in result["data"]:
                assert row.get("city_code", code) == code
                assert row.get("city_name", name) == name
    # The province role sees the whole province.
    province = login(superset, region_username(province_code()))
    every_city = datasets[dataset_uuid("published.unit_risk_latest")]
    seen = {row["city_code"] for row in dataset_rows(province, every_city, ["city_code"])}
    assert seen - {None} == {c for c, _ in cities}


def test_data_quality_dashboard_is_for_the_province_only(superset, admin, cities):
    """The gate history has no city: city users get no access, the province role reads it all."""
    city = login(superset, region_username(cities[0][0]))
    province = login(superset, region_username(province_code()))
    charts = {uuid: i for uuid, i in bundle_objects(admin, "charts").items() if uuid in QUALITY_CHARTS}
    assert len(charts) == 6
    for chart_id in charts.values():
        denied = city.http.get(f"{city.base_url}/api/v1/chart/{chart_id}/data/?force=true", timeout=60)
        assert denied.status_code in (403, 404), f"chart {chart_id}: {denied.status_code}"
        for result in province.get(f"/api/v1/chart/{chart_id}/data/?force=true")["result"]:
            assert not result.get("error") and result["rowcount"] > 0, chart_id
    city_dashboards = {d["uuid"] for d in city.list_all("/api/v1/dashboard/", columns=["uuid"])}
    assert not city_dashboards & QUALITY_DASHBOARDS
    # What the dashboard shows is what the gate recorded: the latest results and the quarantine.
    history = dataset_rows(
        province, bundle_objects(admin, "datasets")[uuid_of("quality_gate_runs")], ["gate_result"]
    )
    runs = query("select count(distinct (run_id, suite)) from quality.validation_result")[0][0]
    quarantined = query("select sum(row_count) from quality.fct_quarantine_daily")[0][0]
    assert sum(row["count"] for row in history) == runs > 0
    quarantine = bundle_objects(admin, "datasets")[uuid_of("quality_quarantine_daily")]
    body = {
        "datasource": {"id": quarantine, "type": "table"},
        "force": True,
        "queries": [{"columns": [], "metrics": ["quarantined_rows"], "row_limit": 1, "orderby": []}],
        "result_format": "json",
        "result_type": "full",
    }
    assert (
        province.post("/api/v1/chart/data", body)["result"][0]["data"][0]["quarantined_rows"]
        == quarantined
        > 0
    )


def uuid_of(table_name: str) -> str:
    return next(uuid for uuid, config in DATASETS.items() if config["table_name"] == table_name)


def test_viewers_cannot_open_sql_lab_or_other_schemas(superset, admin, cities):
    city = login(superset, region_username(cities[-1][0]))
    sql_lab = city.http.get(f"{city.base_url}/sqllab/", allow_redirects=False, timeout=30)
    assert sql_lab.status_code in (302, 403), sql_lab.status_code
    execute = city.http.post(
        f"{city.base_url}/api/v1/sqllab/execute/",
        json={"database_id": 1, "sql": "select * from landing.appeals__work_order", "runAsync": False},
        timeout=30,
    )
    assert execute.status_code in (401, 403, 404), execute.text[:300]
    database_id = admin.list_all("/api/v1/database/")[0]["id"]
    for path in ("/api/v1/database/", f"/api/v1/database/{database_id}/schemas/"):
        response = city.http.get(city.base_url + path, timeout=30)
        assert response.status_code in (401, 403, 404), f"{path}: {response.status_code}"
    datasets = {row["uuid"] for row in city.list_all("/api/v1/dataset/", columns=["uuid"])}
    assert datasets <= set(bundle_configs("datasets"))


def test_warehouse_role_reads_bi_schemas_only():
    conn = psycopg.connect(
        host=os.environ["PGHOST"],
        user=os.environ["SUPERSET_WAREHOUSE_ROLE"],
        password=os.environ["SUPERSET_WAREHOUSE_PASSWORD"],
        dbname=os.environ["SR_DB_PREFIX"] + "warehouse",
        autocommit=True,
    )
    with conn:
        assert conn.execute("select count(*) from published.unit_risk_daily").fetchone()[0] > 0
        for relation in (
            "landing.appeals__work_order",
            "staging.stg_appeals__work_orders",
            "intermediate.int_station_indicator_daily",
            "marts.fct_unit_risk_daily",  # past the gate: only its published days are readable
            "quarantine.quarantine_appeals",
            "risk_model.risk_indicators",
            "ops.extract_batch",
            "quality.validation_result",  # observed values; BI reads the quality views
        ):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(f"select 1 from {relation} limit 1")
        with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
            conn.execute("create temporary table probe (x int)")
        # Only dbt grants tables: one created in published by anything else stays unreadable.
        with psycopg.connect(
            host=os.environ["PGHOST"],
            user=os.environ["PGUSER"],
            dbname=os.environ["SR_DB_PREFIX"] + "warehouse",
            autocommit=True,
        ) as owner:
            owner.execute("create table published.sr_probe as select 1 as x")
            try:
                with pytest.raises(psycopg.errors.InsufficientPrivilege):
                    conn.execute("select x from published.sr_probe")
            finally:
                owner.execute("drop table published.sr_probe")
        # and every relation dbt publishes is readable, but who is pushed which training course (staff
        # ids), which dbt grants to the closed loop alone
        published = query("select table_name from information_schema.tables where table_schema = 'published'")
        for (relation,) in published:
            if relation == "training_assignment":
                with pytest.raises(psycopg.errors.InsufficientPrivilege):
                    conn.execute(f"select 1 from published.{relation} limit 1")
            else:
                conn.execute(f"select 1 from published.{relation} limit 1")


def open_dashboards(superset, username: str, password: str, quality: bool = True) -> list[str]:
    """Log in with a real browser on the intranet (tests/offline.py: nothing may leave the machine),
    open every dashboard (the data-quality one only if `quality`), return the problems seen."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    dashboards = [
        d for uuid, d in bundle_configs("dashboards").items() if quality or uuid not in QUALITY_DASHBOARDS
    ]
    problems: list[str] = []
    viewport = {"width": 1600, "height": 2200}
    with intranet_browser(f"superset-{username}", viewport=viewport, locale="zh-CN") as (page, intranet):
        failed: list[str] = []

        def check_response(response) -> None:
            if "/api/v1/chart/data" in response.url and response.status != 200:
                failed.append(f"{response.status} {response.url}")

        page.on("response", check_response)
        intranet.page_label = "login"
        browser_login(page, superset.url, username, password)
        for dashboard in dashboards:
            charts = sum(
                1
                for item in dashboard["position"].values()
                if isinstance(item, dict) and item.get("type") == "CHART"
            )
            failed.clear()
            intranet.page_label = f"dashboard {dashboard['slug']}"
            page.goto(f"{superset.url}/superset/dashboard/{dashboard['slug']}/")
            page.wait_for_selector("[data-test-chart-id]", timeout=90_000)
            # Loaded: every chart rendered and no spinner, still so after a pause.
            loaded = (
                "(n) => document.querySelectorAll('[data-test-chart-id]').length >= n"
                " && document.querySelectorAll('.loading').length === 0"
            )
            page.wait_for_function(loaded, arg=charts, timeout=90_000)
            page.wait_for_timeout(3000)
            page.wait_for_function(loaded, arg=charts, timeout=60_000)
            # Count before the screenshot: a full-page capture resizes the viewport and Superset lays
            # the grid out again meanwhile (seen as "0 of 5 charts"), so the viewport is made tall
            # enough for every dashboard instead.
            holders = page.locator("[data-test-chart-id]").count()
            errors = page.locator("[data-test-chart-id] [role='alert']")
            if holders != charts:
                problems.append(f"{dashboard['slug']}: {holders} of {charts} charts shown")
            for index in range(errors.count()):
                problems.append(f"{dashboard['slug']}: chart error {errors.nth(index).inner_text()[:200]!r}")
            page.screenshot(path=str(SCREENSHOTS / f"{username}-{dashboard['slug']}.png"))
            problems.extend(f"{dashboard['slug']}: {failure}" for failure in failed)
    refused = [r for r in intranet.refused() if not r["url"].startswith(TELEMETRY_PIXEL)]
    return problems + intranet.problems() + [f"{r['page']}: refused {r['url']}" for r in refused]


def city_leader(org_code: str) -> str:
    """The staff id of the city's 分管领导 in the marketing system (staging)."""
    return query(
        "select staff_id from staging.stg_marketing__unit_contacts "
        "where org_code = %s and contact_role = 'leader_in_charge'",
        (org_code,),
    )[0][0]


def test_every_login_has_its_own_password(superset, cities):
    passwords = load_passwords()
    logins = [region_username(code) for code, _ in cities] + [region_username(province_code())]
    logins += [city_leader(code) for code, _ in cities]
    assert len({passwords[username] for username in logins}) == len(logins) == 2 * len(cities) + 1
    assert passwords_file().stat().st_mode & 0o777 == 0o600
    # Another city's password does not open a city's login.
    with pytest.raises(SupersetError, match="401"):
        SupersetClient(superset.url, logins[0], passwords[logins[1]])


def test_city_leaders_log_in_as_themselves_with_their_city_scope(superset, admin, cities):
    """Managers' logins come from the unit contacts: username = staff id, the roles of the unit they
    lead, and nothing personal (no name, phone or e-mail of the person)."""
    code, name = cities[1]
    staff_id = city_leader(code)
    users = {
        u["username"]: u
        for u in admin.list_all(
            "/api/v1/security/users/", columns=["username", "first_name", "last_name", "email"]
        )
    }
    leaders = query(
        "select count(distinct contact.staff_id) from staging.stg_marketing__unit_contacts as contact "
        "join marts.dim_org_unit as unit using (org_code) where unit.org_level in ('province', 'city')"
    )[0][0]
    assert sum(u["last_name"] == MANAGER_LAST_NAME for u in users.values()) == leaders > len(cities)
    manager = users[staff_id]
    assert manager["first_name"].startswith(f"{name}分管领导")
    assert manager["email"] == f"{staff_id}@staff.service-risk.invalid"
    person = query("select * from staging.stg_marketing__staff_members where staff_id = %s", (staff_id,))[0]
    shown = {str(value) for value in manager.values()}
    assert not shown & {str(value) for value in person if value is not None and value != staff_id}
    leader = login(superset, staff_id)
    unit_risk_latest = bundle_objects(admin, "datasets")[uuid_of("unit_risk_latest")]
    assert {row["city_code"] for row in dataset_rows(leader, unit_risk_latest, ["city_code"])} == {code}


def test_superset_listens_on_the_loopback_only(superset):
    pgid = int(superset.pidfile.read_text())
    listening = set()
    for process in psutil.process_iter():
        try:
            if os.getpgid(process.pid) != pgid:
                continue
            listening |= {
                c.laddr.ip for c in process.net_connections("inet") if c.status == psutil.CONN_LISTEN
            }
        except (ProcessLookupError, psutil.NoSuchProcess):
            continue
    assert listening == {"127.0.0.1"}


def test_real_browser_opens_every_dashboard_without_chart_errors(superset):
    assert open_dashboards(superset, ADMIN_USER, os.environ["SUPERSET_ADMIN_PASSWORD"]) == []


def test_province_user_browser_sees_every_dashboard_without_errors(superset):
    username = region_username(province_code())
    assert open_dashboards(superset, username, password_of(username)) == []


def test_city_user_browser_sees_dashboards_without_errors(superset, cities):
    username = region_username(cities[0][0])
    assert open_dashboards(superset, username, password_of(username), quality=False) == []


def test_no_personal_data_in_supersets_cache(superset):
    """What the tests above had Superset keep in Redis (chart results as pickled data frames, whose
    text is UTF-8; filter and form state): no mobile, ID number, address or person's name."""
    prefix = f"superset_{os.environ['SR_DB_PREFIX']}"
    scanned = subprocess.run(
        ["redis-cli", "--scan", "--pattern", f"{prefix}*"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    keys = scanned.stdout.split()
    assert len([key for key in keys if key.startswith(f"{prefix}data_")]) > 10, "no chart results cached"
    scan = PersonalDataScan()
    findings = []
    for key in keys:
        value = subprocess.run(["redis-cli", "--raw", "GET", key], capture_output=True, timeout=30).stdout
        if kinds := scan.kinds(value.decode("utf-8", errors="replace")):
            findings.append(f"{key}: {'/'.join(kinds)}")
    assert not findings, "\n".join(findings[:20])


def rebuild_and_publish(name: str, model_version: str) -> None:
    """Recompute every day with a risk-model version and publish it (`dbt run`: a build would load the
    seeds again from their files, without a throw-away version's rows)."""
    dbt_vars = json.dumps({"risk_model_version": model_version})
    run_logged(
        name, ["dbt", "run", "--full-refresh", "--vars", dbt_vars], timeout=900, cwd=ROOT / "dbt_project"
    )
    run_logged(f"{name}-publish", ["service-risk", "publish"], timeout=600)


def test_dashboards_follow_a_changed_seed_label_and_weight(admin):
    """A throw-away risk-model version gives A1 another Chinese name and more weight (A2 less, so its
    dimension keeps its weight). Built and published with it, the dashboards' data carry the new name
    and the new scores, and the bundle certifies the new version; nothing in Superset was changed."""
    datasets = bundle_objects(admin, "datasets")
    compare, latest = datasets[uuid_of("unit_indicator_compare")], datasets[uuid_of("unit_risk_latest")]
    scores_before = {
        r["org_code"]: r["risk_score"] for r in dataset_rows(admin, latest, ["org_code", "risk_score"])
    }
    with connect("warehouse") as conn:
        # Every seed that holds one row set per risk-model version.
        versioned = [
            table
            for (table,) in conn.execute(
                "select table_name from information_schema.columns"
                " where table_schema = 'risk_model' and column_name = 'model_version'"
            )
        ]
        for seed in versioned:
            conn.execute(
                f"create temp table copied as select * from risk_model.{seed} where model_version = 'v1'"
            )
            conn.execute("update copied set model_version = 'vtest'")
            conn.execute(f"insert into risk_model.{seed} select * from copied")
            conn.execute("drop table copied")
        conn.execute(
            "update risk_model.risk_indicators set indicator_name_zh = '故障报修万户率（试行）', weight = weight + 0.05 "
            "where model_version = 'vtest' and indicator_code = 'A1'"
        )
        conn.execute(
            "update risk_model.risk_indicators set weight = weight - 0.05 "
            "where model_version = 'vtest' and indicator_code = 'A2'"
        )
    try:
        rebuild_and_publish("dbt-vtest", "vtest")
        labels = {r["indicator_label"] for r in dataset_rows(admin, compare, ["indicator_label"])}
        assert "A1 故障报修万户率（试行）" in labels and "A1 故障报修万户率" not in labels, labels
        scores = {
            r["org_code"]: r["risk_score"] for r in dataset_rows(admin, latest, ["org_code", "risk_score"])
        }
        published = query("select org_code, risk_score from published.unit_risk_latest")
        assert scores == {code: float(score) for code, score in published}
        assert sum(scores[code] != score for code, score in scores_before.items()) > len(scores) / 2
        with zipfile.ZipFile(io.BytesIO(build_bundle())) as bundle:
            certified = bundle.read(f"{BUNDLE_ROOT}/datasets/warehouse/unit_risk_latest.yaml").decode()
            history = bundle.read(f"{BUNDLE_ROOT}/datasets/warehouse/unit_risk_history.yaml").decode()
        assert "口径同风险模型 vtest" in certified
        # The metrics' names come from the seeds too: the renamed A1's score metric is named anew.
        metrics = {m["metric_name"]: m["verbose_name"] for m in yaml.safe_load(history)["metrics"]}
        assert metrics["a1_score_max"] == "A1 故障报修万户率（试行）", metrics
    finally:
        with connect("warehouse") as conn:
            for seed in versioned:
                conn.execute(f"delete from risk_model.{seed} where model_version = 'vtest'")
        rebuild_and_publish("dbt-v1-again", "v1")
    assert {
        r["org_code"]: r["risk_score"] for r in dataset_rows(admin, latest, ["org_code", "risk_score"])
    } == (scores_before)


def signed_session(cookie: str, age_hours: float) -> str:
    """A Superset session cookie's content signed again as if issued `age_hours` ago (Flask's
    signed-cookie session: SECRET_KEY, salt "cookie-session", HMAC-SHA1, a timestamp)."""

    class Aged(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(time.time() - age_hours * 3600)

    options = {"salt": "cookie-session", "key_derivation": "hmac", "digest_method": hashlib.sha1}
    content = TimestampSigner(os.environ["SUPERSET_SECRET_KEY"], **options).unsign(cookie)
    return Aged(os.environ["SUPERSET_SECRET_KEY"], **options).sign(content).decode()


def test_browser_sessions_expire_after_a_working_day(superset, cities):
    """A signed-in browser session works until PERMANENT_SESSION_LIFETIME (SUPERSET_SESSION_HOURS,
    10 h) after it was issued, then Superset treats it as signed out."""
    username = region_username(cities[0][0])
    with intranet_browser(f"session-{username}") as (page, _):
        browser_login(page, superset.url, username, password_of(username))
        cookie = next(c["value"] for c in page.context.cookies() if c["name"] == "session")

    def me(session: str) -> int:
        response = requests.get(
            f"{superset.url}/api/v1/me/", cookies={"session": session}, allow_redirects=False, timeout=30
        )
        return response.status_code

    assert me(cookie) == 200
    assert me(signed_session(cookie, 9.5)) == 200  # re-signed the way Superset signs it
    assert me(signed_session(cookie, 10.5)) == 401


def test_failed_api_logins_are_rate_limited_per_user(superset, cities):
    """SUPERSET_API_LOGIN_FAILURE_LIMIT (5 per 5 minutes): the sixth failure and even the right password
    are refused for that user; other users still log in."""
    staff_id = city_leader(cities[-1][0])

    def attempt(password: str) -> int:
        body = {"username": staff_id, "password": password, "provider": "db", "refresh": False}
        return requests.post(f"{superset.url}/api/v1/security/login", json=body, timeout=30).status_code

    assert [attempt("wrong") for _ in range(6)] == [401] * 5 + [429]
    assert attempt(password_of(staff_id)) == 429
    login(superset, region_username(cities[0][0]))


def test_setup_with_another_secret_key_says_what_to_do(superset):
    """Re-running the setup against kept metadata encrypted with another key stops with the way out
    instead of "Invalid decryption key"; the way out (re-encrypt-secrets) works."""
    current = os.environ["SUPERSET_SECRET_KEY"]
    other = "another-key-" + current[:8]

    def with_key(command: str, key: str, previous: str = "") -> subprocess.CompletedProcess:
        script = f'. scripts/env.sh && SUPERSET_SECRET_KEY="$1" SUPERSET_PREVIOUS_SECRET_KEY="$2" {command}'
        return subprocess.run(
            ["bash", "-c", script, "key", key, previous],
            cwd=ROOT,
            env=superset.env,
            capture_output=True,
            text=True,
            timeout=600,
        )

    refused = with_key("scripts/superset_setup.sh", other)
    assert refused.returncode != 0
    assert "re-encrypt-secrets" in refused.stderr + refused.stdout
    assert "Invalid decryption key" not in refused.stderr + refused.stdout
    reencrypt = "service-risk superset re-encrypt-secrets"
    try:
        moved = with_key(reencrypt, other, current)
        assert moved.returncode == 0, moved.stdout[-2000:] + moved.stderr[-2000:]
        assert with_key("scripts/superset_setup.sh", other).returncode == 0
        assert with_key("scripts/superset_setup.sh", current).returncode != 0
    finally:
        assert with_key(reencrypt, current, other).returncode == 0
    assert with_key("scripts/superset_setup.sh", current).returncode == 0


def chart_text(page, chart_id: int) -> str:
    return page.locator(f"[data-test-chart-id='{chart_id}']").inner_text()


def episode_page_path(episode_id: str) -> str:
    """The link the tracking list shows for an episode: its dataset's column, evaluated."""
    config = bundle_configs("datasets")[dataset_uuid("published.episode_tracking_current")]
    expression = next(c["expression"] for c in config["columns"] if c["column_name"] == "episode_page_link")
    evaluated = f"select {expression.replace('%', '%%')} from (select %s::text as episode_id) as episode"
    html = query(evaluated, (episode_id,))[0][0]
    return re.search(r'href="([^"]+)"', html)[1]


def test_episode_page_opens_from_the_tracking_list(superset, admin):
    """风险预警跟踪 → 预警事件详情 in a real browser, as a city user: the first episode of the list
    links to its page, which shows that episode only (head, daily scores, its sheets with the orders
    behind, its answers as stored, its days); another city's episode shows nothing."""
    city_code = query(
        "select city_code from published.episode_tracking_current group by city_code"
        " order by count(*) desc, city_code limit 1"
    )[0][0]
    other_episode = query(
        "select min(episode_id) from published.risk_episode where city_code <> %s", (city_code,)
    )[0][0]
    charts = bundle_objects(admin, "charts")
    named = {config["slice_name"]: charts[uuid] for uuid, config in bundle_configs("charts").items()}
    head = named["预警事件概况"]
    sheets = named["风险报告单：最差指标及其背后的工单（无客户信息）"]
    answers = named["反馈记录（后一次反馈修改前一次，均保留）"]
    measures = "测试：对该所抢修班组开展专项培训"
    username = region_username(city_code)
    loaded = "() => document.querySelectorAll('.loading').length === 0"
    browser = {
        "name": f"episode-page-{username}",
        "viewport": {"width": 1600, "height": 2600},
        "locale": "zh-CN",
    }
    try:
        with intranet_browser(**browser) as (page, intranet):
            browser_login(page, superset.url, username, password_of(username))
            page.goto(f"{superset.url}/superset/dashboard/risk-episode-tracking/")
            link = page.locator("a[href*='/superset/dashboard/risk-episode/']").first
            link.wait_for(timeout=90_000)
            episode_id = link.inner_text().strip()
            station_name, sheet_kinds = query(
                "select episodes.station_name, array_agg(distinct sheets.sheet_kind_name_zh)"
                " from published.risk_episode as episodes"
                " inner join published.risk_sheet as sheets on episodes.episode_id = sheets.episode_id"
                " where episodes.episode_id = %s and episodes.city_code = %s group by episodes.station_name",
                (episode_id, city_code),
            )[0]
            with connect("warehouse") as conn:  # an answer shows on the page as stored
                conn.execute(
                    "insert into ops.episode_feedback (episode_id, cause, measures, responsible_person)"
                    " values (%s, '线路老化', %s, '张三')",
                    (episode_id, measures),
                )
            link.click()
            page.wait_for_url("**/superset/dashboard/risk-episode/**", timeout=60_000)
            page.wait_for_selector(f"[data-test-chart-id='{head}'] tbody tr", timeout=90_000)
            page.wait_for_function(loaded, timeout=90_000)
            page.wait_for_timeout(2000)
            page.screenshot(path=str(SCREENSHOTS / f"{username}-risk-episode.png"))
            assert page.locator(f"[data-test-chart-id='{head}'] tbody tr").count() == 1
            assert episode_id in chart_text(page, head) and station_name in chart_text(page, head)
            assert all(kind in chart_text(page, sheets) for kind in sheet_kinds)
            assert measures in chart_text(page, answers) and "张三" not in page.content()
            assert page.locator("[data-test-chart-id] [role='alert']").count() == 0
            # another city's episode, by its link: row-level security leaves the page empty
            page.goto(f"{superset.url}{episode_page_path(other_episode)}")
            page.wait_for_selector(f"[data-test-chart-id='{head}']", timeout=90_000)
            page.wait_for_function(loaded, timeout=90_000)
            page.wait_for_timeout(2000)
            for chart in (head, sheets, answers):
                assert other_episode not in chart_text(page, chart)
        assert intranet.problems() == []
    finally:
        with connect("warehouse") as conn:
            conn.execute("delete from ops.episode_feedback where measures = %s", (measures,))
