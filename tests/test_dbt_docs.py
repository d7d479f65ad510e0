"""The dbt project's documentation (dbt_project/docs, the `_<folder>__docs.md` blocks, the yml files).

No database: `dbt parse` writes the manifest, `dbt docs generate --no-compile --empty-catalog --static`
the site. Every model, column, source and model folder must be described, and the site must show the
overview and a model's page in a real headless Chromium. That every column a model really has is
declared needs the built relations: tests/test_dbt_risk_model.py checks it against a catalog.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import ARTIFACTS, ROOT, run_dbt

PROJECT = ROOT / "dbt_project"
MODELS = PROJECT / "models"
SHOTS = ARTIFACTS / "dbt-docs"


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    target = tmp_path_factory.mktemp("dbt-docs")
    # No database: parse, and a site without compiling or reading the catalog.
    run_dbt("parse", "--target-path", str(target))
    run_dbt("docs", "generate", "--no-compile", "--empty-catalog", "--static", "--target-path", str(target))
    return target


@pytest.fixture(scope="module")
def manifest(site) -> dict:
    return json.loads((site / "manifest.json").read_text())


def project_nodes(manifest: dict, resource_type: str) -> list[dict]:
    return [
        node
        for node in manifest["nodes"].values()
        if node["resource_type"] == resource_type and node["package_name"] == "service_risk"
    ]


def test_every_model_and_column_is_described(manifest):
    models = project_nodes(manifest, "model")
    assert len(models) > 40
    undescribed = [m["original_file_path"] for m in models if not m["description"].strip()]
    undescribed += [
        f"{m['name']}.{name}"
        for m in models
        for name, column in m["columns"].items()
        if not column["description"]
    ]
    undeclared = [m["original_file_path"] for m in models if not m["columns"]]
    assert not undescribed, f"no description: {undescribed}"
    assert not undeclared, f"no columns declared: {undeclared}"


def test_every_source_table_is_described(manifest):
    sources = [s for s in manifest["sources"].values() if s["package_name"] == "service_risk"]
    assert {s["source_name"] for s in sources} == {
        "appeals",
        "command",
        "marketing",
        "ops",
        "quality",
        "closed_loop",
    }
    undescribed = [s["unique_id"] for s in sources if not (s["description"] and s["source_description"])]
    undescribed += [
        f"{s['unique_id']}.{name}"
        for s in sources
        for name, column in s["columns"].items()
        if not column["description"]
    ]
    assert not undescribed, f"no description: {undescribed}"
    assert all(s["columns"] for s in sources), [s["unique_id"] for s in sources if not s["columns"]]
    ops = {s["name"]: s for s in sources if s["source_name"] == "ops"}
    assert ops["extract_batch"]["original_file_path"] == "models/staging/ops/_ops__sources.yml"
    # Every column of the extraction's bookkeeping (src/service_risk/setup_db.py) is described.
    assert set(ops["extract_batch"]["columns"]) == {
        "batch_id", "landing_table", "low_water", "high_water", "read_from", "rows_read", "row_count", "run_id",
        "started_at", "finished_at",
    }  # fmt: skip
    assert set(ops["extract_watermark"]["columns"]) == {
        "landing_table",
        "high_water",
        "last_batch_id",
        "updated_at",
    }


def test_every_model_folder_is_described_and_its_models_say_so(manifest):
    """Each folder with a properties file has `_<folder>__docs.md` with the doc block `<folder>__folder`
    (`<parent>_<folder>__folder` where layers share a folder name, as closed_loop);
    every model declared in the folder ends its description with that block (folders without models,
    such as ops, use it for their source)."""
    docs = {doc["name"]: doc for doc in manifest["docs"].values() if doc["package_name"] == "service_risk"}
    assert "__overview__" in docs and docs["__overview__"]["original_file_path"] == "docs/overview.md"
    folders = sorted({path.parent for path in MODELS.rglob("_*.yml")})
    assert len(folders) >= 9
    nodes = project_nodes(manifest, "model") + list(manifest["sources"].values())
    problems = []
    shared = {name for name in (f.name for f in folders) if [f.name for f in folders].count(name) > 1}
    for folder in folders:
        name = f"{folder.parent.name}_{folder.name}" if folder.name in shared else folder.name
        block = docs.get(f"{name}__folder")
        expected_file = folder.relative_to(PROJECT) / f"_{folder.name}__docs.md"
        if block is None or block["original_file_path"] != str(expected_file):
            problems.append(f"{expected_file}: no doc block {name}__folder")
            continue
        declared_here = [node for node in nodes if declared_in(node) == folder]
        models = [node for node in declared_here if node["resource_type"] == "model"]
        text = block["block_contents"]
        problems += [
            f"{node['name']}: description does not end with {{{{ doc('{name}__folder') }}}}"
            for node in models
            if not node["description"].rstrip().endswith(text)
        ]
        if not models and not any(text in node.get("source_description", "") for node in declared_here):
            problems.append(f"{folder}: nothing declared here uses {name}__folder")
    assert not problems, "\n".join(problems)


def declared_in(node: dict) -> Path:
    """The folder of the properties file that declares a model (patch_path) or source."""
    path = node.get("patch_path") or node["original_file_path"]
    return (PROJECT / path.split("://")[-1]).parent


def test_docs_site_shows_the_overview_and_a_model(site):
    """The static site in Chromium: the overview page, and fct_unit_risk_daily with its columns
    (is_warm_up explained). Screenshots in artifacts/dbt-docs/."""
    from tests.offline import intranet_browser

    SHOTS.mkdir(parents=True, exist_ok=True)
    url = (site / "static_index.html").as_uri()
    with intranet_browser("dbt-docs", viewport={"width": 1400, "height": 1000}) as (page, intranet):
        intranet.page_label = "overview"
        page.goto(url + "#!/overview")
        page.get_by_role("heading", name="Service risk warehouse").wait_for(timeout=60_000)
        overview = page.locator("body").inner_text()
        assert "Layers" in overview and "How it runs" in overview and "shared/spec/risk-model.md" in overview
        page.screenshot(path=SHOTS / "overview.png")

        intranet.page_label = "fct_unit_risk_daily"
        page.goto(url + "#!/model/model.service_risk.fct_unit_risk_daily")
        page.get_by_text("Folder models/marts").wait_for(timeout=60_000)
        page.screenshot(path=SHOTS / "fct_unit_risk_daily.png")
        # The column's row opens to its full description.
        page.get_by_text("is_warm_up", exact=True).first.click()
        description = page.get_by_role("paragraph").filter(has_text="not a deterioration")
        description.wait_for(timeout=30_000)
        description.scroll_into_view_if_needed()
        page.wait_for_timeout(500)  # the row's opening animation
        page.screenshot(path=SHOTS / "fct_unit_risk_daily-is_warm_up.png")
    # The site is one file: it fetches nothing from outside the machine.
    assert not intranet.blocked, intranet.blocked
