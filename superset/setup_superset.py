"""Set up Superset for the risk platform, idempotently (issue 5).

    prepare    databases, the read-only warehouse role, metadata migration, `superset init`
               and the admin user (runs in .venv/superset; no web server needed)
    provision  against a running server: import the asset bundle through the REST API
               (database password passed separately), then roles, RLS filters and users
    export     developer tool: export the dashboards from a running server back into
               superset/assets (the round trip for changes made in the UI)

Everything comes from the environment (scripts/env.sh, .local/secrets.env). The module
needs only the standard library, requests, PyYAML and psycopg2 until `prepare` imports
Superset itself, so the tests import SupersetClient from the Airflow environment.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import sys
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import psycopg2
import psycopg2.errors
import requests
import yaml
from psycopg2 import sql

ASSETS = Path(__file__).resolve().parent / "assets"
BUNDLE_ROOT = "service_risk_bi"
DATABASE_FILE = "databases/warehouse.yaml"

# Schemas BI users may read; landing, staging, intermediate, ops, quarantine and the risk-model
# seeds stay closed. `quality` holds the gate results and quarantine counts (no row values).
DEFAULT_BI_SCHEMAS = ("marts", "quality", "published")
# Datasets on the `quality` schema feed the data-quality dashboard: they have no city, so they go
# to the province role (and admins) only, without RLS; every other dataset is filtered by region.
QUALITY_SCHEMA = "quality"

VIEWER_ROLE = "sr_viewer"
PROVINCE_ROLE = "sr_province"
CITY_ROLE_PREFIX = "sr_city_"
RLS_PREFIX = "sr_rls_"
ADMIN_USER = "admin"
PROVINCE_USER = "province"
CITY_USER_PREFIX = "city_"


def env(name: str) -> str:
    value = os.environ.get(name, "")
    if not value:
        sys.exit(f"{name} is not set: run scripts/secrets.sh and source scripts/env.sh")
    return value


def prefix() -> str:
    return os.environ.get("SR_DB_PREFIX", "")


def pg_connect(dbname: str, **kwargs):
    return psycopg2.connect(
        host=os.environ.get("PGHOST", "127.0.0.1"),
        port=int(os.environ.get("PGPORT", "5432")),
        user=os.environ.get("PGUSER", "postgres"),
        password=os.environ.get("PGPASSWORD") or None,
        dbname=dbname,
        **kwargs,
    )


# --------------------------------------------------------------------------- databases


def ensure_database(name: str) -> bool:
    conn = pg_connect("postgres")
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute("select 1 from pg_database where datname = %s", (name,))
            if cur.fetchone():
                return False
            cur.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
            return True
    finally:
        conn.close()


def ensure_reader_role(warehouse: str, role: str, password: str, bi_schemas: tuple[str, ...]) -> list[str]:
    """Create/refresh the read-only login Superset uses; return the schemas it can read.

    Grants are re-applied on every run, and default privileges cover the tables dbt
    recreates later. Every other schema is revoked explicitly, so a grant someone
    added by hand does not survive the next setup.
    """
    conn = pg_connect(warehouse)
    conn.autocommit = True
    ident = sql.Identifier(role)
    try:
        with conn.cursor() as cur:
            cur.execute("select 1 from pg_roles where rolname = %s", (role,))
            if not cur.fetchone():
                cur.execute(sql.SQL("create role {} login").format(ident))
            cur.execute(
                sql.SQL(
                    "alter role {} with login nosuperuser nocreatedb nocreaterole noreplication "
                    "nobypassrls password {}"
                ).format(ident, sql.Literal(password))
            )
            # Read-only at the session level too, and no runaway BI query.
            cur.execute(sql.SQL("alter role {} set default_transaction_read_only = on").format(ident))
            cur.execute(sql.SQL("alter role {} set statement_timeout = '60s'").format(ident))
            cur.execute(
                sql.SQL("grant connect on database {} to {}").format(sql.Identifier(warehouse), ident)
            )
            cur.execute(
                "select nspname from pg_namespace where nspname not like 'pg\\_%%' "
                "and nspname <> 'information_schema'"
            )
            existing = sorted(row[0] for row in cur.fetchall())
            readable = [s for s in existing if s in bi_schemas]
            for schema in existing:
                s = sql.Identifier(schema)
                if schema in readable:
                    cur.execute(sql.SQL("grant usage on schema {} to {}").format(s, ident))
                    cur.execute(sql.SQL("grant select on all tables in schema {} to {}").format(s, ident))
                    cur.execute(
                        sql.SQL(
                            "alter default privileges for role current_user in schema {} "
                            "grant select on tables to {}"
                        ).format(s, ident)
                    )
                else:
                    cur.execute(sql.SQL("revoke all on all tables in schema {} from {}").format(s, ident))
                    cur.execute(sql.SQL("revoke all on schema {} from {}").format(s, ident))
                    cur.execute(
                        sql.SQL(
                            "alter default privileges for role current_user in schema {} "
                            "revoke all on tables from {}"
                        ).format(s, ident)
                    )
            return readable
    finally:
        conn.close()


def prepare() -> None:
    started = time.monotonic()
    metadata_db = prefix() + "superset"
    warehouse = prefix() + "warehouse"
    if ensure_database(metadata_db):
        print(f"created database {metadata_db}")
    schemas = tuple(os.environ.get("SUPERSET_BI_SCHEMAS", " ".join(DEFAULT_BI_SCHEMAS)).split())
    readable = ensure_reader_role(
        warehouse, env("SUPERSET_WAREHOUSE_ROLE"), env("SUPERSET_WAREHOUSE_PASSWORD"), schemas
    )
    print(
        f"warehouse role {os.environ['SUPERSET_WAREHOUSE_ROLE']} reads schemas: {', '.join(readable) or 'none yet'}"
    )
    Path(env("SUPERSET_HOME")).mkdir(parents=True, exist_ok=True)
    admin_password = env("SUPERSET_ADMIN_PASSWORD")

    # Superset itself only from here on (this part runs in .venv/superset).
    from flask_migrate import upgrade
    from superset.app import create_app
    from werkzeug.security import generate_password_hash

    import superset

    app = create_app()
    with app.app_context():
        upgrade(directory=str(Path(superset.__file__).parent / "migrations"))
        from superset.extensions import appbuilder

        from superset import security_manager as sm

        # What `superset init` does: permissions for every view, built-in roles synced.
        appbuilder.add_permissions(update_perms=True)
        sm.sync_role_definitions()

        admin_role = sm.find_role("Admin")
        user = sm.find_user(username=ADMIN_USER)
        if user is None:
            sm.add_user(
                ADMIN_USER,
                "平台",
                "管理员",
                "admin@service-risk.invalid",
                [admin_role],
                password=admin_password,
            )
        else:
            # The generated password is the only one that works, even after a reset.
            user.password = generate_password_hash(admin_password)
            user.roles = [admin_role]
            user.active = True
            sm.update_user(user)
    print(f"Superset metadata ready in {time.monotonic() - started:.1f} s")


# --------------------------------------------------------------------------- REST client


def rison(value) -> str:
    """Just enough Rison for Superset's `q` parameter (dicts, lists, ints, strings)."""
    if isinstance(value, dict):
        return "(" + ",".join(f"{k}:{rison(v)}" for k, v in value.items()) + ")"
    if isinstance(value, list):
        return "!(" + ",".join(rison(v) for v in value) + ")"
    if isinstance(value, bool):
        return "!t" if value else "!f"
    if isinstance(value, int):
        return str(value)
    return "'" + str(value).replace("!", "!!").replace("'", "!'") + "'"


class SupersetError(RuntimeError):
    pass


class SupersetClient:
    """A logged-in API session: JWT for the API, session cookie + CSRF token for writes."""

    def __init__(self, base_url: str, username: str, password: str, timeout: float = 120):
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.http = requests.Session()
        response = self.http.post(
            f"{self.base_url}/api/v1/security/login",
            json={"username": username, "password": password, "provider": "db", "refresh": False},
            timeout=timeout,
        )
        if response.status_code != 200:
            raise SupersetError(f"login as {username} failed: {response.status_code} {response.text[:200]}")
        self.http.headers["Authorization"] = f"Bearer {response.json()['access_token']}"
        token = self.get("/api/v1/security/csrf_token/")["result"]
        self.http.headers.update({"X-CSRFToken": token, "Referer": self.base_url})

    def request(self, method: str, path: str, expect: tuple[int, ...] = (200, 201), **kwargs):
        response = self.http.request(method, self.base_url + path, timeout=self.timeout, **kwargs)
        if response.status_code not in expect:
            raise SupersetError(f"{method} {path}: {response.status_code} {response.text[:500]}")
        return response.json() if response.content else {}

    def get(self, path: str, **kwargs):
        return self.request("GET", path, **kwargs)

    def post(self, path: str, payload=None, **kwargs):
        return self.request("POST", path, json=payload, **kwargs)

    def put(self, path: str, payload=None, **kwargs):
        return self.request("PUT", path, json=payload, **kwargs)

    def list_all(self, path: str, **query) -> list[dict]:
        rows: list[dict] = []
        page = 0
        while True:
            q = rison({**query, "page": page, "page_size": 100})
            body = self.get(f"{path}?q={quote(q)}")
            rows.extend(body["result"])
            if len(rows) >= body.get("count", 0) or not body["result"]:
                return rows
            page += 1


# --------------------------------------------------------------------------- bundle


class _BlockDumper(yaml.SafeDumper):
    """YAML for humans and diffs: multi-line text (SQL, query_context) as blocks, no anchors."""

    def ignore_aliases(self, data) -> bool:
        return True


def _str_representer(dumper: yaml.SafeDumper, value: str):
    if "\n" in value:
        value = "\n".join(line.rstrip() for line in value.split("\n"))
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|")
    return dumper.represent_scalar("tag:yaml.org,2002:str", value)


_BlockDumper.add_representer(str, _str_representer)


def dump_yaml(config: dict) -> str:
    return yaml.dump(config, Dumper=_BlockDumper, allow_unicode=True, sort_keys=False, width=120)


def warehouse_uri() -> str:
    """The reader's URI as the bundle carries it: password masked, passed separately."""
    host = os.environ.get("PGHOST", "127.0.0.1")
    port = os.environ.get("PGPORT", "5432")
    return (
        f"postgresql+psycopg2://{env('SUPERSET_WAREHOUSE_ROLE')}:XXXXXXXXXX@{host}:{port}/{prefix()}warehouse"
    )


def build_bundle(assets: Path = ASSETS) -> bytes:
    """Zip the YAML tree for /api/v1/assets/import/, pointing the database at this prefix."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as bundle:
        for path in sorted(assets.rglob("*.yaml")):
            relative = path.relative_to(assets).as_posix()
            text = path.read_text(encoding="utf-8")
            if relative == DATABASE_FILE:
                config = yaml.safe_load(text)
                config["sqlalchemy_uri"] = warehouse_uri()
                text = yaml.safe_dump(config, allow_unicode=True, sort_keys=False)
            if relative == "metadata.yaml":
                # The asset importer overwrites databases, datasets, charts and dashboards
                # in place (matched by UUID); the dashboard importer would skip changed charts.
                config = yaml.safe_load(text)
                config["type"] = "assets"
                text = yaml.safe_dump(config, allow_unicode=True, sort_keys=False)
            bundle.writestr(f"{BUNDLE_ROOT}/{relative}", text)
    return buffer.getvalue()


def import_bundle(client: SupersetClient) -> None:
    passwords = {DATABASE_FILE: env("SUPERSET_WAREHOUSE_PASSWORD")}
    client.request(
        "POST",
        "/api/v1/assets/import/",
        files={"bundle": ("bundle.zip", build_bundle(), "application/zip")},
        data={"passwords": json.dumps(passwords)},
    )


def bundle_uuids(kind: str) -> dict[str, dict]:
    """UUID -> YAML config of every asset of a kind (datasets, charts, dashboards)."""
    return {
        (config := yaml.safe_load(path.read_text(encoding="utf-8")))["uuid"]: config
        for path in sorted((ASSETS / kind).rglob("*.yaml"))
    }


# --------------------------------------------------------------------------- security

# What a dashboard reader needs, taken from Gamma's permissions (so only what exists in
# this version): no SQL Lab, no database or schema browsing, no chart or dashboard
# editing, no export, no RLS rules. Filter and permalink state stay writable, or native
# filters break.
_VIEWER_READ = {
    "AdvancedDataType",
    "AvailableDomains",
    "Chart",
    "CssTemplate",
    "CurrentUserRestApi",
    "Dashboard",
    "DashboardFilterStateRestApi",
    "DashboardPermalinkRestApi",
    "Dataset",
    "ExploreFormDataRestApi",
    "ExplorePermalinkRestApi",
    "SecurityRestApi",
    "Theme",
    "security",
    "user",
}
_VIEWER_OTHER = {
    ("can_write", "DashboardFilterStateRestApi"),
    ("can_write", "DashboardPermalinkRestApi"),
    ("can_write", "ExploreFormDataRestApi"),
    ("can_write", "ExplorePermalinkRestApi"),
    ("can_dashboard", "Superset"),
    ("can_dashboard_permalink", "Superset"),
    ("can_share_dashboard", "Superset"),
    ("can_explore_json", "Superset"),
    ("can_log", "Superset"),
    ("can_language_pack", "Superset"),
    ("can_get", "MenuApi"),
    ("can_recent_activity", "Log"),
    ("can_time_range", "Api"),
    ("menu_access", "Dashboards"),
    ("menu_access", "Home"),
    ("can_this_form_get", "ResetMyPasswordView"),
    ("can_this_form_post", "ResetMyPasswordView"),
    ("resetmypassword", "UserDBModelView"),
    ("can_userinfo", "UserDBModelView"),
}


def viewer_permission(permission: str, resource: str) -> bool:
    return (permission == "can_read" and resource in _VIEWER_READ) or (permission, resource) in _VIEWER_OTHER


@dataclass
class Region:
    role: str
    clause: str
    username: str
    first_name: str


def regions_from_warehouse() -> list[Region]:
    """The province and one region per city, from the org dimension in the warehouse."""
    conn = pg_connect(prefix() + "warehouse")
    try:
        with conn.cursor() as cur:
            cur.execute(
                "select org_level, org_code, org_name from marts.dim_org_unit "
                "where org_level in ('province', 'city') order by org_level desc, org_code"
            )
            units = cur.fetchall()
    except psycopg2.errors.UndefinedTable as exc:
        raise SupersetError(
            "marts.dim_org_unit does not exist: build the warehouse (dbt build) first"
        ) from exc
    finally:
        conn.close()
    regions = []
    for level, code, name in units:
        literal = code.replace("'", "''")
        if level == "province":
            regions.append(Region(PROVINCE_ROLE, f"province_code = '{literal}'", PROVINCE_USER, name))
        else:
            regions.append(
                Region(CITY_ROLE_PREFIX + code, f"city_code = '{literal}'", CITY_USER_PREFIX + code, name)
            )
    if not any(r.role == PROVINCE_ROLE for r in regions):
        raise SupersetError("marts.dim_org_unit has no province: build the warehouse (dbt build) first")
    return regions


def ensure_role(client: SupersetClient, roles: dict[str, int], name: str) -> int:
    if name not in roles:
        roles[name] = client.post("/api/v1/security/roles/", {"name": name})["id"]
    return roles[name]


def set_role_permissions(client: SupersetClient, role_id: int, permission_ids: list[int]) -> None:
    # This endpoint replaces the role's permissions: re-running converges.
    client.post(
        f"/api/v1/security/roles/{role_id}/permissions", {"permission_view_menu_ids": sorted(permission_ids)}
    )


def provision_security(client: SupersetClient, regions: list[Region]) -> dict[str, int]:
    roles = {r["name"]: r["id"] for r in client.list_all("/api/v1/security/roles/")}
    pvms = client.list_all("/api/v1/security/permissions-resources/")

    def pvm_name(p: dict) -> tuple[str, str]:
        return p["permission"]["name"], p["view_menu"]["name"]

    gamma = client.get(f"/api/v1/security/roles/{roles['Gamma']}/permissions/")["result"]
    viewer_ids = [p["id"] for p in gamma if viewer_permission(p["permission_name"], p["view_menu_name"])]
    set_role_permissions(client, ensure_role(client, roles, VIEWER_ROLE), viewer_ids)

    # Datasets of the bundle, by UUID; their access goes to the region roles only, so a
    # viewer without a region sees no data at all.
    configs = bundle_uuids("datasets")
    datasets = [
        d
        for d in client.list_all("/api/v1/dataset/", columns=["id", "uuid", "table_name"])
        if d["uuid"] in configs
    ]
    if len(datasets) != len(configs):
        raise SupersetError(f"only {len(datasets)} of {len(configs)} datasets found: import the bundle first")
    # A dataset's permission is named "[database].[table](id:N)".
    access = {
        p["view_menu"]["name"].rsplit("(id:", 1)[1].rstrip(")"): p["id"]
        for p in pvms
        if pvm_name(p)[0] == "datasource_access" and "(id:" in pvm_name(p)[1]
    }
    missing = [d["table_name"] for d in datasets if str(d["id"]) not in access]
    if missing:
        raise SupersetError(f"dataset permissions missing for {missing}")
    regional = [d for d in datasets if configs[d["uuid"]].get("schema") != QUALITY_SCHEMA]
    quality = [d for d in datasets if configs[d["uuid"]].get("schema") == QUALITY_SCHEMA]
    access_ids = [access[str(d["id"])] for d in regional]
    quality_access_ids = [access[str(d["id"])] for d in quality]
    table_ids = sorted(d["id"] for d in regional)

    existing_rls = {r["name"]: r["id"] for r in client.list_all("/api/v1/rowlevelsecurity/")}
    region_roles: dict[str, int] = {}
    for region in regions:
        role_id = ensure_role(client, roles, region.role)
        set_role_permissions(
            client, role_id, access_ids + (quality_access_ids if region.role == PROVINCE_ROLE else [])
        )
        region_roles[region.role] = role_id
        rule = {
            "name": RLS_PREFIX + region.role,
            "description": f"{region.first_name}：只看本单位及下属单位的数据",
            "filter_type": "Regular",
            "tables": table_ids,
            "roles": [role_id],
            # Same key for all regions: a user with two city roles sees both cities (OR).
            "group_key": "region",
            "clause": region.clause,
        }
        if rule["name"] in existing_rls:
            client.put(f"/api/v1/rowlevelsecurity/{existing_rls[rule['name']]}", rule)
        else:
            client.post("/api/v1/rowlevelsecurity/", rule)
    return region_roles


def provision_users(client: SupersetClient, regions: list[Region], region_roles: dict[str, int]) -> None:
    """One login per region (demo and tests), all with the generated password."""
    password = env("SUPERSET_CITY_USER_PASSWORD")
    roles = {r["name"]: r["id"] for r in client.list_all("/api/v1/security/roles/")}
    users = {
        u["username"]: u["id"] for u in client.list_all("/api/v1/security/users/", columns=["id", "username"])
    }
    for region in regions:
        body = {
            "first_name": region.first_name,
            "last_name": "看板用户",
            "username": region.username,
            "email": f"{region.username}@service-risk.invalid",
            "active": True,
            "roles": [roles[VIEWER_ROLE], region_roles[region.role]],
            "password": password,
        }
        if region.username in users:
            client.put(f"/api/v1/security/users/{users[region.username]}", body)
        else:
            client.post("/api/v1/security/users/", body)


def provision(base_url: str) -> None:
    started = time.monotonic()
    client = SupersetClient(base_url, ADMIN_USER, env("SUPERSET_ADMIN_PASSWORD"))
    import_bundle(client)
    print(
        f"asset bundle imported ({len(bundle_uuids('dashboards'))} dashboards, {len(bundle_uuids('charts'))} charts)"
    )
    regions = regions_from_warehouse()
    region_roles = provision_security(client, regions)
    provision_users(client, regions, region_roles)
    __import__("subscriptions").apply(client, sys.modules[__name__])  # issue 6: superset/subscriptions.py
    print(
        f"{len(regions)} region roles with RLS filters and users; provisioned in {time.monotonic() - started:.1f} s"
    )


# --------------------------------------------------------------------------- export


CHROMIUM = os.environ.get("SUPERSET_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--headless=new",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
]


def browser_login(page, base_url: str, username: str, password: str) -> None:
    """Log in through Superset's own login form (a real session, as a person would)."""
    page.goto(f"{base_url}/login/")
    page.fill("#username", username)
    page.fill("#password", password)
    with page.expect_navigation():
        page.click("button[type=submit]")
    if "/login" in page.url:
        raise SupersetError(f"browser login as {username} failed")


def generate_query_contexts(client: SupersetClient, chart_ids: list[int]) -> None:
    """Open each chart in Explore once: the frontend then saves the chart's query_context.

    Superset stores a chart's query_context only when the frontend builds it; without
    it GET /api/v1/chart/{id}/data/ answers 400. Explore PUTs it for charts that lack it.
    """
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        browser_login(page, client.base_url, ADMIN_USER, env("SUPERSET_ADMIN_PASSWORD"))
        for chart_id in chart_ids:
            with page.expect_response(
                lambda r, chart_id=chart_id: (
                    r.request.method == "PUT" and r.url.endswith(f"/api/v1/chart/{chart_id}")
                ),
                timeout=60_000,
            ) as saved:
                page.goto(f"{client.base_url}/explore/?slice_id={chart_id}")
            if saved.value.status != 200:
                raise SupersetError(f"chart {chart_id}: saving query_context answered {saved.value.status}")
        browser.close()


def export(base_url: str, out: Path = ASSETS, query_context: bool = False) -> None:
    """Write the bundle's dashboards (with their charts, datasets, database) back to YAML."""
    client = SupersetClient(base_url, ADMIN_USER, env("SUPERSET_ADMIN_PASSWORD"))
    if query_context:
        wanted_charts = set(bundle_uuids("charts"))
        charts = [
            c for c in client.list_all("/api/v1/chart/", columns=["id", "uuid"]) if c["uuid"] in wanted_charts
        ]
        missing = [
            c["id"]
            for c in charts
            if not client.get(f"/api/v1/chart/{c['id']}")["result"].get("query_context")
        ]
        print(f"generating query_context for {len(missing)} charts in the browser")
        generate_query_contexts(client, missing)
    wanted = set(bundle_uuids("dashboards"))
    ids = [
        d["id"] for d in client.list_all("/api/v1/dashboard/", columns=["id", "uuid"]) if d["uuid"] in wanted
    ]
    response = client.http.get(
        f"{client.base_url}/api/v1/dashboard/export/?q={quote(rison(ids))}", timeout=120
    )
    response.raise_for_status()
    # Keep each asset in the file it already has (export names files by instance ids).
    paths = {yaml.safe_load(p.read_text(encoding="utf-8")).get("uuid"): p for p in out.rglob("*.yaml")}
    with zipfile.ZipFile(io.BytesIO(response.content)) as bundle:
        for name in bundle.namelist():
            relative = name.split("/", 1)[1]
            config = yaml.safe_load(bundle.read(name))
            if relative == "metadata.yaml":
                continue
            if relative.startswith("databases/"):
                config["sqlalchemy_uri"] = (
                    "postgresql+psycopg2://superset_reader:XXXXXXXXXX@127.0.0.1:5432/warehouse"
                )
            if config.get("query_context"):
                query_context = json.loads(config["query_context"])
                query_context.get("form_data", {}).pop("slice_id", None)  # an id of this instance only
                # Indented so that a changed chart shows as a readable diff.
                config["query_context"] = json.dumps(query_context, indent=2, ensure_ascii=False)
            target = paths.get(config.get("uuid")) or out / relative.split("/")[0] / f"{config['uuid']}.yaml"
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(dump_yaml(config), encoding="utf-8")
            print(f"wrote {target.relative_to(out.parent)}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("command", choices=["prepare", "provision", "export"])
    parser.add_argument("--url", default=f"http://127.0.0.1:{os.environ.get('SUPERSET_PORT', '8088')}")
    parser.add_argument(
        "--query-context", action="store_true", help="export: first let Explore save missing query_context"
    )
    args = parser.parse_args(argv)
    if args.command == "prepare":
        prepare()
    elif args.command == "provision":
        provision(args.url)
    else:
        export(args.url, query_context=args.query_context)
    return 0


if __name__ == "__main__":
    sys.exit(main())
