"""Superset as code (issue 5): a real Superset on the real test warehouse.

The module builds the test warehouse through the pipeline, sets Superset up from
scratch, starts it on a free port, imports the asset bundle through the REST API and
stops the server at the end. Screenshots land in artifacts/screenshots/.
"""

from __future__ import annotations

import json
import os
import time

import psycopg
import pytest

from tests.conftest import ARTIFACTS, query
from tests.offline import intranet_browser
from tests.superset_fixtures import SupersetServer, build_test_warehouse, load_setup_module

pytestmark = pytest.mark.slow

setup = load_setup_module()
SCREENSHOTS = ARTIFACTS / "screenshots"
DATASETS = setup.bundle_uuids("datasets")
QUALITY_DATASETS = {uuid for uuid, config in DATASETS.items() if config["schema"] == setup.QUALITY_SCHEMA}
# Charts and dashboards on the data-quality datasets (province and admins only).
QUALITY_CHARTS = {
    uuid
    for uuid, config in setup.bundle_uuids("charts").items()
    if config["dataset_uuid"] in QUALITY_DATASETS
}
QUALITY_DASHBOARDS = {
    uuid
    for uuid, config in setup.bundle_uuids("dashboards").items()
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
    return setup.SupersetClient(superset.url, setup.ADMIN_USER, os.environ["SUPERSET_ADMIN_PASSWORD"])


@pytest.fixture(scope="module")
def cities():
    """(code, name) of every city in the test warehouse."""
    return query(
        "select org_code, org_name from marts.dim_org_unit where org_level = 'city' order by org_code"
    )


def login(superset, username: str):
    return setup.SupersetClient(superset.url, username, os.environ["SUPERSET_CITY_USER_PASSWORD"])


def bundle_objects(client, kind: str) -> dict[str, int]:
    """uuid -> id of the bundle's objects of a kind present in Superset."""
    wanted = set(setup.bundle_uuids(kind))
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
    assert len(first["dashboards"]) == len(setup.bundle_uuids("dashboards")) == 4
    assert len(QUALITY_DASHBOARDS) == 1 and len(QUALITY_DATASETS) == 4
    assert len(first["charts"]) == len(setup.bundle_uuids("charts"))
    assert len(first["datasets"]) == len(setup.bundle_uuids("datasets"))
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


def test_every_chart_follows_the_cascading_filters(admin):
    """Each native filter's column exists in every chart's dataset, and filtering narrows the rows."""
    county = query(
        "select county_name from marts.dim_org_unit where org_level = 'station' group by 1 order by count(*) desc limit 1"
    )[0][0]
    charts = {c["uuid"]: c for c in setup.bundle_uuids("charts").values()}
    ids = bundle_objects(admin, "charts")
    for dashboard in setup.bundle_uuids("dashboards").values():
        filters = dashboard["metadata"]["native_filter_configuration"]
        if not filters:
            continue
        by_id = {f["id"]: f for f in filters}
        # city -> county -> station: each filter's options depend on the one above.
        assert [by_id[p]["targets"][0]["column"]["name"] for f in filters for p in f["cascadeParentIds"]] == [
            "city_name",
            "county_name",
        ]
        for item in dashboard["position"].values():
            if not (isinstance(item, dict) and item.get("type") == "CHART"):
                continue
            query_context = json.loads(
                admin.get(f"/api/v1/chart/{ids[item['meta']['uuid']]}")["result"]["query_context"]
            )
            for chart_query in query_context["queries"]:
                chart_query["filters"].append({"col": "county_name", "op": "IN", "val": [county]})
            query_context["force"] = True
            result = admin.post("/api/v1/chart/data", query_context)["result"][0]
            name = charts[item["meta"]["uuid"]]["slice_name"]
            assert not result.get("error"), f"{name}: {result['error']}"
            assert not result.get("rejected_filters"), f"{name} ignores the county filter"
            assert result["rowcount"] > 0, f"{name}: no rows for {county}"
            assert {row["county_name"] for row in result["data"] if "county_name" in row} <= {county}


def test_city_user_gets_no_rows_of_other_cities(superset, admin, cities):
    code, name = cities[0]
    city = login(superset, setup.CITY_USER_PREFIX + code)
    datasets = {
        uuid: i for uuid, i in bundle_objects(admin, "datasets").items() if uuid not in QUALITY_DATASETS
    }
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
    province = login(superset, setup.PROVINCE_USER)
    some_dataset = next(iter(datasets.values()))
    seen = {row["city_code"] for row in dataset_rows(province, some_dataset, ["city_code"])}
    assert seen - {None} == {c for c, _ in cities}


def test_data_quality_dashboard_is_for_the_province_only(superset, admin, cities):
    """The gate history has no city: city users get no access, the province role reads it all."""
    city = login(superset, setup.CITY_USER_PREFIX + cities[0][0])
    province = login(superset, setup.PROVINCE_USER)
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
    city = login(superset, setup.CITY_USER_PREFIX + cities[-1][0])
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
    assert datasets <= set(setup.bundle_uuids("datasets"))


def test_warehouse_role_reads_bi_schemas_only():
    conn = psycopg.connect(
        host=os.environ["PGHOST"],
        user=os.environ["SUPERSET_WAREHOUSE_ROLE"],
        password=os.environ["SUPERSET_WAREHOUSE_PASSWORD"],
        dbname=os.environ["SR_DB_PREFIX"] + "warehouse",
        autocommit=True,
    )
    with conn:
        assert conn.execute("select count(*) from marts.fct_unit_risk_daily").fetchone()[0] > 0
        for relation in (
            "landing.appeals__work_order",
            "staging.stg_appeals__work_orders",
            "ops.extract_batch",
        ):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(f"select 1 from {relation} limit 1")
        with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
            conn.execute("create temporary table probe (x int)")
        # Tables dbt creates later are readable too (default privileges), staging ones not.
        with psycopg.connect(
            host=os.environ["PGHOST"],
            user=os.environ["PGUSER"],
            dbname=os.environ["SR_DB_PREFIX"] + "warehouse",
            autocommit=True,
        ) as owner:
            owner.execute("create table marts.sr_probe as select 1 as x")
            owner.execute("create table staging.sr_probe as select 1 as x")
            try:
                assert conn.execute("select x from marts.sr_probe").fetchone() == (1,)
                with pytest.raises(psycopg.errors.InsufficientPrivilege):
                    conn.execute("select x from staging.sr_probe")
            finally:
                owner.execute("drop table marts.sr_probe, staging.sr_probe")


def open_dashboards(superset, username: str, password: str, quality: bool = True) -> list[str]:
    """Log in with a real browser on the intranet (tests/offline.py: nothing may leave the machine),
    open every dashboard (the data-quality one only if `quality`), return the problems seen."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    dashboards = [
        d for uuid, d in setup.bundle_uuids("dashboards").items() if quality or uuid not in QUALITY_DASHBOARDS
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
        setup.browser_login(page, superset.url, username, password)
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


def test_real_browser_opens_every_dashboard_without_chart_errors(superset):
    assert open_dashboards(superset, setup.ADMIN_USER, os.environ["SUPERSET_ADMIN_PASSWORD"]) == []


def test_city_user_browser_sees_dashboards_without_errors(superset, cities):
    username = setup.CITY_USER_PREFIX + cities[0][0]
    assert open_dashboards(superset, username, os.environ["SUPERSET_CITY_USER_PASSWORD"], quality=False) == []
