"""Data Docs that work without the internet (issue 18).

GX 1.x pages load Bootstrap, bootstrap-table, jQuery, popper, Vega and Font Awesome from public CDNs
and the logo from a public bucket. The site is built by GX itself, configured through the extension
points it offers instead of rewriting its HTML afterwards: a `view` class per site section and for
the index (views that look up templates in `expectations/data_docs/views/` before GX's own, so the
few that name a CDN are replaced, and GX's custom styles file is ours), and a `SiteBuilder` subclass
that copies the libraries, fetched from the npm registry by `scripts/data_docs_assets.sh`, into the
site's `static/vendor/` with the `copy_static_assets` that copies GX's own static files.
"""

from __future__ import annotations

from pathlib import Path

from great_expectations.render.renderer.site_builder import SiteBuilder
from great_expectations.render.view import DefaultJinjaIndexPageView, DefaultJinjaPageView
from jinja2 import ChoiceLoader, FileSystemLoader

from service_risk.quality.suites import EXPECTATIONS_DIR, ROOT

VIEWS_DIR = EXPECTATIONS_DIR / "data_docs" / "views"
ASSETS_DIR = ROOT / ".venv" / "data_docs" / "static"  # filled by scripts/data_docs_assets.sh


class _OfflineTemplates:
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.env.loader = ChoiceLoader([FileSystemLoader(VIEWS_DIR), self.env.loader])


class OfflinePageView(_OfflineTemplates, DefaultJinjaPageView):
    """Expectation suite and validation result pages."""


class OfflineIndexPageView(_OfflineTemplates, DefaultJinjaIndexPageView):
    """The site's index."""


class OfflineSiteBuilder(SiteBuilder):
    def build(self, resource_identifiers=None, build_index: bool = True):
        if not (ASSETS_DIR / "vendor").is_dir():
            raise FileNotFoundError(f"{ASSETS_DIR / 'vendor'} is missing: run scripts/bootstrap.sh")
        built = super().build(resource_identifiers=resource_identifiers, build_index=build_index)
        self.target_store.copy_static_assets(str(ASSETS_DIR))
        return built


def site_config(base_directory: Path) -> dict:
    """The site's configuration for `context.add_data_docs_site`."""
    view = {"module_name": __name__, "class_name": OfflinePageView.__name__}
    return {
        "module_name": __name__,
        "class_name": OfflineSiteBuilder.__name__,
        "store_backend": {
            "class_name": "TupleFilesystemStoreBackend",
            "base_directory": str(base_directory),
        },
        "site_index_builder": {
            "class_name": "DefaultSiteIndexBuilder",
            "view": {"module_name": __name__, "class_name": OfflineIndexPageView.__name__},
        },
        "site_section_builders": {
            section: {"view": view} for section in ("expectations", "validations", "profiling")
        },
    }
