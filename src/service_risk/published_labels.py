"""What the dbt models BI users read say of themselves, for the Superset bundle (as the Preset CLI's
dbt sync does): column labels (`meta.label`) and descriptions from the dbt manifest, and the risk
model's texts and indicator names from `published.risk_model` and `published.risk_indicator` (built
from the seeds).

A dataset over a published relation carries no labels of its own: the bundle takes them from dbt at
import, so a label changed in dbt reaches the dashboards on the next provisioning and a column dbt
does not document is refused. A label that names a seed's value is a template of the bundle
(`{{ indicators.A1.indicator_label_zh }}得分`, inside `{% raw %}` for dbt), filled in at import.
"""

from __future__ import annotations

import json
from pathlib import Path

from psycopg.rows import dict_row

PUBLISHED_SCHEMA = "published"
# What BI users read (the dashboards' physical datasets); landing, staging, intermediate, marts, ops,
# quarantine and the risk-model seeds stay closed. `quality` holds the gates' views (no row values).
BI_SCHEMAS = (PUBLISHED_SCHEMA, "quality")


def published_columns(manifest_path: Path) -> dict[str, dict[str, dict]]:
    """schema.relation -> column name -> {"label", "description"} of every dbt model BI users read."""
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    relations = {}
    for node in manifest["nodes"].values():
        if node["resource_type"] == "model" and node["schema"] in BI_SCHEMAS:
            relations[f"{node['schema']}.{node['alias']}"] = {
                name: {
                    "label": (column.get("meta") or {}).get("label"),
                    "description": column.get("description"),
                }
                for name, column in node["columns"].items()
            }
    return relations


def label_dataset(config: dict, relations: dict[str, dict[str, dict]]) -> dict:
    """A physical dataset over a dbt model with its columns' labels and descriptions from dbt."""
    if config.get("schema") not in BI_SCHEMAS or config.get("sql"):
        return config
    relation = f"{config['schema']}.{config['table_name']}"
    documented = relations.get(relation)
    if documented is None:
        raise ValueError(f"dataset {relation}: no dbt model of that name")
    for column in config["columns"]:
        if column.get("expression"):
            continue  # a column Superset computes for display (a link): labelled in its YAML
        doc = documented.get(column["column_name"])
        if doc is None or not doc["label"]:
            raise ValueError(
                f"dataset {relation}: column {column['column_name']} has no meta.label in dbt "
                f"(dbt_project/models/{config['schema']}/)"
            )
        column["verbose_name"], column["description"] = doc["label"], doc["description"]
    return config


def risk_model_context(conn) -> dict:
    """Template values of the bundle, all from the published seeds: `risk_model` (published.risk_model's
    row, e.g. certification_zh), `indicators` (code -> published.risk_indicator's row, e.g.
    indicators.A1.indicator_label_zh) and `dimensions` (code -> its names, e.g.
    dimensions.quality.dimension_name_zh)."""
    models = _rows(conn, "risk_model")
    if len(models) != 1:
        raise ValueError(f"{PUBLISHED_SCHEMA}.risk_model has {len(models)} rows: publish the warehouse first")
    indicators = {row["indicator_code"]: row for row in _rows(conn, "risk_indicator")}
    dimensions = {
        row["dimension_code"]: {k: v for k, v in row.items() if k.startswith("dimension_")}
        for row in indicators.values()
    }
    return {"risk_model": models[0], "indicators": indicators, "dimensions": dimensions}


def _rows(conn, relation: str) -> list[dict]:
    return (
        conn.cursor(row_factory=dict_row).execute(f"select * from {PUBLISHED_SCHEMA}.{relation}").fetchall()
    )
