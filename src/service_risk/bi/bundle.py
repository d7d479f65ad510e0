"""The asset bundle of superset/assets: imported through the REST API, exported back for review.

Every asset file is a Jinja template rendered at import time, as the Preset CLI does, with
`env` (the environment: the database's `sqlalchemy_uri`; its password is passed apart in
`passwords`, never written) and `risk_model` (published.risk_model's row: certification texts).
Datasets over dbt models (published, quality) get their column labels and descriptions from the dbt
models' `meta.label` (service_risk.published_labels). A literal `{{` (Superset's own Jinja in a
dataset's SQL) goes in `{% raw %}...{% endraw %}`.
"""

from __future__ import annotations

import io
import json
import os
import zipfile
from pathlib import Path
from urllib.parse import quote

import jinja2
import yaml

from service_risk.bi.browser import generate_query_contexts
from service_risk.bi.client import SupersetClient, rison
from service_risk.bi.config import ASSETS_DIR, SupersetError, SupersetSettings
from service_risk.db import connect
from service_risk.dbt_manifest import ensure_manifest
from service_risk.published_labels import label_dataset, published_columns, risk_model_context
from service_risk.settings import Settings

BUNDLE_ROOT = "service_risk_bi"
DATABASE_FILE = "databases/warehouse.yaml"
_TEMPLATES = jinja2.Environment(undefined=jinja2.StrictUndefined, keep_trailing_newline=True)
# Reading a file's structure (uuid, names, schema) needs no value: a missing one renders empty.
_STRUCTURE = jinja2.Environment(undefined=jinja2.ChainableUndefined, keep_trailing_newline=True)


def template_context(settings: Settings | None = None) -> dict:
    """What asset templates may use: `env` and `risk_model` (published.risk_model's row)."""
    try:
        with connect("warehouse", settings) as conn:
            return {"env": dict(os.environ), **risk_model_context(conn)}
    except ValueError as exc:
        raise SupersetError(str(exc)) from exc


def render_asset(text: str, context: dict) -> str:
    """An asset file with its templates filled in; a value the context lacks stops with its name."""
    try:
        return _TEMPLATES.from_string(text).render(context)
    except jinja2.UndefinedError as exc:
        raise SupersetError(f"asset template needs a value that is not set: {exc}") from exc


def asset_structure(path: Path) -> dict:
    """An asset file's config for its structure (UUIDs, names, schemas, slugs), templates left empty."""
    return yaml.safe_load(_STRUCTURE.from_string(path.read_text(encoding="utf-8")).render())


def bundle_configs(kind: str, assets: Path = ASSETS_DIR) -> dict[str, dict]:
    """UUID -> config of every asset of a kind (databases, datasets, charts, dashboards)."""
    configs = {}
    for path in sorted((assets / kind).rglob("*.yaml")):
        config = asset_structure(path)
        configs[config["uuid"]] = config
    return configs


def dataset_uuid(table_name: str, assets: Path = ASSETS_DIR) -> str:
    """The bundle's dataset of a table (`table` or `schema.table`)."""
    schema, _, table = table_name.rpartition(".")
    found = [
        uuid
        for uuid, config in bundle_configs("datasets", assets).items()
        if config["table_name"] == table and (not schema or config.get("schema") == schema)
    ]
    if len(found) != 1:
        raise SupersetError(f"{len(found)} datasets of the bundle match {table_name!r}, expected one")
    return found[0]


def build_bundle(assets: Path = ASSETS_DIR, context: dict | None = None) -> bytes:
    """Zip the rendered YAML tree for /api/v1/assets/import/, published datasets labelled from dbt."""
    context = context or template_context()
    # dbt's meta.label may name a seed's value too (an indicator's name): filled in like the files.
    relations = {
        relation: {
            name: {key: render_asset(value, context) if value else value for key, value in doc.items()}
            for name, doc in columns.items()
        }
        for relation, columns in published_columns(ensure_manifest()).items()
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as bundle:
        for path in sorted(assets.rglob("*.yaml")):
            relative = path.relative_to(assets).as_posix()
            text = render_asset(path.read_text(encoding="utf-8"), context)
            if relative.startswith("datasets/"):
                try:
                    config = label_dataset(yaml.safe_load(text), relations)
                except ValueError as exc:
                    raise SupersetError(str(exc)) from exc
                text = yaml.safe_dump(config, allow_unicode=True, sort_keys=False)
            if relative == "metadata.yaml":
                # The asset importer overwrites databases, datasets, charts and dashboards
                # in place (matched by UUID); the dashboard importer would skip changed charts.
                config = yaml.safe_load(text)
                config["type"] = "assets"
                text = yaml.safe_dump(config, allow_unicode=True, sort_keys=False)
            bundle.writestr(f"{BUNDLE_ROOT}/{relative}", text)
    return buffer.getvalue()


def import_bundle(client: SupersetClient, settings: SupersetSettings, assets: Path = ASSETS_DIR) -> None:
    client.request(
        "POST",
        "/api/v1/assets/import/",
        files={
            "bundle": ("bundle.zip", build_bundle(assets, template_context(settings.db)), "application/zip")
        },
        data={"passwords": json.dumps({DATABASE_FILE: settings.reader_password})},
    )


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


def export_bundle(
    client: SupersetClient, settings: SupersetSettings, out: Path = ASSETS_DIR, query_context: bool = False
) -> None:
    """Write the bundle's dashboards (with their charts, datasets, database) back to YAML."""
    if query_context:
        wanted_charts = set(bundle_configs("charts", out))
        charts = [
            c for c in client.list_all("/api/v1/chart/", columns=["id", "uuid"]) if c["uuid"] in wanted_charts
        ]
        missing = [
            c["id"]
            for c in charts
            if not client.get(f"/api/v1/chart/{c['id']}")["result"].get("query_context")
        ]
        print(f"generating query_context for {len(missing)} charts in the browser")
        generate_query_contexts(client.base_url, settings, missing)
    wanted = set(bundle_configs("dashboards", out))
    ids = [
        d["id"] for d in client.list_all("/api/v1/dashboard/", columns=["id", "uuid"]) if d["uuid"] in wanted
    ]
    response = client.http.get(
        f"{client.base_url}/api/v1/dashboard/export/?q={quote(rison(ids))}", timeout=120
    )
    response.raise_for_status()
    # Keep each asset in the file it already has (export names files by instance ids), and the
    # database's templated URI as written (the export carries this instance's).
    paths = {asset_structure(path).get("uuid"): path for path in out.rglob("*.yaml")}
    database_template = yaml.safe_load((out / DATABASE_FILE).read_text(encoding="utf-8"))["sqlalchemy_uri"]
    with zipfile.ZipFile(io.BytesIO(response.content)) as bundle:
        for name in bundle.namelist():
            relative = name.split("/", 1)[1]
            config = yaml.safe_load(bundle.read(name))
            if relative == "metadata.yaml":
                continue
            if relative.startswith("databases/"):
                config["sqlalchemy_uri"] = database_template
            if config.get("query_context"):
                query_context = json.loads(config["query_context"])
                query_context.get("form_data", {}).pop("slice_id", None)  # an id of this instance only
                # Indented so that a changed chart shows as a readable diff.
                config["query_context"] = json.dumps(query_context, indent=2, ensure_ascii=False)
            target = paths.get(config.get("uuid")) or out / relative.split("/")[0] / f"{config['uuid']}.yaml"
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(dump_yaml(config), encoding="utf-8")
            print(f"wrote {target.relative_to(out.parent)}")
