"""Where Superset's files are, and the Superset facts of the environment (scripts/env.sh, secrets)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from service_risk.settings import Settings

ROOT = Path(os.environ.get("ROOT") or Path(__file__).resolve().parents[3])
SUPERSET_DIR = ROOT / "superset"
ASSETS_DIR = SUPERSET_DIR / "assets"
ACCESS_FILE = SUPERSET_DIR / "access.yaml"
SUBSCRIPTIONS_FILE = SUPERSET_DIR / "subscriptions.yaml"
ADMIN_USER = "admin"


class SupersetError(RuntimeError):
    """Superset or its setup is not in the state provisioning needs."""


def _required(name: str) -> str:
    value = os.environ.get(name, "")
    if not value:
        raise SupersetError(f"{name} is not set: run scripts/secrets.sh and source scripts/env.sh")
    return value


@dataclass(frozen=True)
class SupersetSettings:
    """The server, its logins and the warehouse role it reads with; PostgreSQL facts in `db`."""

    db: Settings
    url: str
    home: Path
    admin_password: str
    reader_role: str
    reader_password: str
    data_engineer_emails: tuple[str, ...]
    python: Path  # Superset's own environment, for the step that imports Superset

    @classmethod
    def from_env(cls, url: str | None = None) -> SupersetSettings:
        emails = os.environ.get("DATA_ENGINEER_EMAILS", "").split(",")
        return cls(
            db=Settings.from_env(),
            url=(url or f"http://127.0.0.1:{os.environ.get('SUPERSET_PORT', '8088')}").rstrip("/"),
            home=Path(_required("SUPERSET_HOME")),
            admin_password=_required("SUPERSET_ADMIN_PASSWORD"),
            reader_role=_required("SUPERSET_WAREHOUSE_ROLE"),
            reader_password=_required("SUPERSET_WAREHOUSE_PASSWORD"),
            data_engineer_emails=tuple(e.strip() for e in emails if e.strip()),
            python=Path(os.environ.get("SUPERSET_PYTHON") or ROOT / ".venv" / "superset" / "bin" / "python"),
        )

    def password_for(self, username: str) -> str:
        """A provisioned login's own generated password (bi/passwords.py)."""
        from service_risk.bi.passwords import password_of

        return password_of(username)
